"""Throughput and memory of feature extraction: raw light-curve vs skysift's extract_table / extract_features.

Generates N ZTF-like light curves (26-100 points by default) into a temporary DR parquet
file, then runs each measurement in a fresh Python process (so peak RSS is per stage):

    raw_owned    light_curve.Extractor.many on per-light-curve arrays that own their memory
    raw_views    the same on numpy views (slices of one flat buffer) -- what not to do
    raw_arrow    the same on one zero-copy Arrow List<Struct> array

Peak RSS is the stage process's high-water mark (VmHWM); for batch_dask also the largest
worker's. In-memory stages hold the whole input table, batch stages read task by task.
    table_arrow  skysift.features.extract_table (default, Arrow hand-over), table in memory
    table_owned  extract_table(method="owned")
    batch_serial extract_features(paths, out) without Dask (reads + writes parquet)
    batch_dask   extract_features with a ``--workers``-worker LocalCluster from cluster_for_job
    batch_daskN  the same with N workers (batch_dask1, batch_dask2: the scaling figure (b))
    batch_poolN  run_task over a ProcessPoolExecutor of N processes (no Dask, results discarded: no parquet write)

A stage written ``stage@K`` runs on K copies of the data (new objectids; written by streaming,
so generating it takes no more memory than 1x): ``batch_dask2@10`` is the 10x peak-RSS figure (c).

Run:  python benchmarks/bench_features.py [--n 20000] [--workers 2] [--stages ...]
      python benchmarks/bench_features.py --n 100000 --stages raw_owned,table_arrow,batch_serial,\
          batch_dask1,batch_dask2,batch_pool2,batch_dask2@10        # figures (a), (b), (c)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

STAGES = ("raw_owned", "raw_views", "raw_arrow", "table_arrow", "table_owned", "batch_serial", "batch_dask")


def _scaled_copy(data: Path, k: int) -> Path:
    """Write ``k`` copies of a DR file (objectids shifted per copy) next to it, row group by row group."""
    out = data.with_name(f"x{k}_{data.name}")
    if out.exists():
        return out
    pf = pq.ParquetFile(data)
    n = pf.metadata.num_rows
    with pq.ParquetWriter(out, pf.schema_arrow, compression="zstd") as writer:
        for copy in range(k):
            for rg in range(pf.metadata.num_row_groups):
                table = pf.read_row_group(rg)
                oid = pa.array(table.column("objectid").to_numpy() + copy * n)
                writer.write_table(table.set_column(0, "objectid", oid))
    return out


def make_lightcurves(n: int, min_points: int, max_points: int, seed: int) -> pa.Table:
    """N ZTF-like light curves in the DR schema: constants, sines and trends on seasonal 1-3-night cadence."""
    from skysift.layout import DR_SCHEMA

    rng = np.random.default_rng(seed)
    nights = 58300.0 + np.array([d for d in range(3 * 365) if d % 365 < 240], dtype=float)
    lengths = rng.integers(min_points, max_points + 1, n)
    hmjd, mag, magerr = [], [], []
    for k in lengths:
        t = np.sort(rng.choice(nights, size=k, replace=False)) + rng.uniform(0, 0.2, k)
        err = rng.uniform(0.01, 0.1)
        kind = rng.integers(3)
        base = rng.uniform(14, 20)
        if kind == 0:
            m = base + rng.normal(0, err, k)
        elif kind == 1:
            m = (
                base
                + rng.uniform(0.05, 1) * np.sin(2 * np.pi * t / rng.uniform(0.3, 100))
                + rng.normal(0, err, k)
            )
        else:
            m = base + rng.normal(0, 1e-3) * (t - t[0]) + rng.normal(0, err, k)
        hmjd.append(t)
        mag.append(m.astype(np.float32))
        magerr.append(np.full(k, err, dtype=np.float32))
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))

    def lists(parts: list[np.ndarray], typ: pa.DataType) -> pa.Array:
        return pa.ListArray.from_arrays(offsets, pa.array(np.concatenate(parts), type=typ))

    zeros = [np.zeros(k, dtype=np.float32) for k in lengths]
    return pa.Table.from_arrays(
        [
            pa.array(np.arange(n, dtype=np.int64) + 633_000_000_000),
            pa.array(np.full(n, 2, dtype=np.int8)),
            pa.array(np.full(n, 633, dtype=np.int16)),
            pa.array(np.full(n, 5, dtype=np.int8)),
            pa.array(rng.uniform(0, 360, n).astype(np.float32)),
            pa.array(rng.uniform(-30, 90, n).astype(np.float32)),
            pa.array(lengths.astype(np.int64)),
            lists(hmjd, pa.float64()),
            lists(mag, pa.float32()),
            lists(magerr, pa.float32()),
            lists(zeros, pa.float32()),
            lists([z.astype(np.int32) for z in zeros], pa.int32()),
        ],
        schema=DR_SCHEMA,
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    /proc/self/status VmHWM where available: ru_maxrss (resource.getrusage) survives
    fork+exec on Linux, so a child process would report its parent's peak.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _warm_worker() -> None:
    """Import the feature code and build the default extractor in a worker process."""
    from skysift.features import build_extractor

    build_extractor("default")


def _warm_worker_pid(_: int) -> int:
    """Warm a pool process (imports, extractor) and return its pid."""
    _warm_worker()
    return os.getpid()


def _flat(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat float64 t, m, sigma and offsets of a DR table."""
    col = table.column("hmjd").combine_chunks()
    offsets = np.asarray(col.offsets, dtype=np.int64)
    t = col.values.to_numpy().astype(np.float64)
    m = table.column("mag").combine_chunks().values.to_numpy().astype(np.float64)
    s = table.column("magerr").combine_chunks().values.to_numpy().astype(np.float64)
    return t, m, s, offsets


def run_stage(
    stage: str, data: Path, workdir: Path, workers: int, rows_per_task: int, repeat: int = 3
) -> dict:
    """Run one measurement in this process (in-memory stages: best of ``repeat``); return timings and counts."""
    from skysift.features import build_extractor, extract_features, extract_table

    n = pq.ParquetFile(data).metadata.num_rows
    table = pq.read_table(data) if stage.startswith(("raw_", "table_")) else None
    ext, _ = build_extractor("default")
    kwargs = {"sorted": True, "check": False, "fill_value": np.nan, "n_jobs": 1}
    result: dict = {"stage": stage, "n": n}
    if stage.startswith("raw_"):
        t, m, s, off = _flat(table)
        pairs = list(zip(off[:-1], off[1:], strict=True))
        if stage == "raw_arrow":
            kwargs["arrow_fields"] = {"t": "t", "m": "m", "sigma": "sigma"}

        def prepare() -> object:
            if stage == "raw_owned":
                return [(t[a:b].copy(), m[a:b].copy(), s[a:b].copy()) for a, b in pairs]
            if stage == "raw_views":
                return [(t[a:b], m[a:b], s[a:b]) for a, b in pairs]
            struct = pa.StructArray.from_arrays(
                [pa.array(t), pa.array(m), pa.array(s)], names=["t", "m", "sigma"]
            )
            return pa.ListArray.from_arrays(pa.array(off.astype(np.int32)), struct)

        ext.many(prepare()[:100], **kwargs)  # warm-up (thread pool, caches)
        best = None
        for _ in range(repeat):
            c0, t0 = cpu_seconds(), time.perf_counter()
            lcs = prepare()
            t1 = time.perf_counter()
            ext.many(lcs, **kwargs)
            t2 = time.perf_counter()
            if best is None or t2 - t0 < best["seconds"]:
                best = {
                    "prepare_s": t1 - t0,
                    "many_s": t2 - t1,
                    "seconds": t2 - t0,
                    "cpu_s": cpu_seconds() - c0,
                }
        result.update(best)
    elif stage.startswith("table_"):
        extract_table(table.slice(0, 100), method=stage.split("_")[1])  # warm-up: builds the cached extractor
        runs = []
        for _ in range(repeat):
            c0, t0 = cpu_seconds(), time.perf_counter()
            extract_table(table, "default", 10, method=stage.split("_")[1])
            runs.append((time.perf_counter() - t0, cpu_seconds() - c0))
        result["seconds"], result["cpu_s"] = min(runs)
    elif stage == "batch_serial":
        c0, t0 = cpu_seconds(), time.perf_counter()
        extract_features([data], workdir / "serial.parquet", {"rows_per_task": rows_per_task})
        result["seconds"], result["cpu_s"] = time.perf_counter() - t0, cpu_seconds() - c0
    elif stage.startswith("batch_pool"):
        from concurrent.futures import ProcessPoolExecutor

        from skysift.features import FeatureSettings
        from skysift.features.tasks import plan_tasks, run_task

        n_proc = int(stage[len("batch_pool") :] or workers)
        settings = FeatureSettings.from_config({"rows_per_task": rows_per_task})
        tasks = plan_tasks([data], rows_per_task)
        with ProcessPoolExecutor(n_proc) as pool:
            list(pool.map(_warm_worker_pid, range(n_proc)))
            t0 = time.perf_counter()
            for _ in pool.map(run_task, tasks, [settings] * len(tasks)):
                pass
            result["seconds"] = time.perf_counter() - t0
            result["cpu_s"] = float("nan")
    elif stage.startswith("batch_dask"):
        from skysift.cluster import cluster_for_job

        workers = int(stage[len("batch_dask") :] or workers)
        result["workers"] = workers
        t0 = time.perf_counter()
        mem_mb = 2000 * workers
        with cluster_for_job(workers, mem_mb, str(workdir / "dask"), {"mode": "local"}) as client:
            # Warm the workers (imports, extractor build): counted in startup, not in the rate.
            client.run(_warm_worker)
            w0, c0, t1 = sum(client.run(cpu_seconds).values()), cpu_seconds(), time.perf_counter()
            extract_features(
                [data], workdir / f"{stage}.parquet", {"rows_per_task": rows_per_task}, client=client
            )
            t2 = time.perf_counter()
            # CPU of the client process (which also hosts the scheduler) and of the workers.
            client_cpu = cpu_seconds() - c0
            workers_cpu = sum(client.run(cpu_seconds).values()) - w0
            rss = client.run(peak_rss_mb)
        result.update(
            startup_s=t1 - t0,
            seconds=t2 - t1,
            cpu_s=client_cpu + workers_cpu,
            client_cpu_s=client_cpu,
            workers_cpu_s=workers_cpu,
            worker_peak_rss_mb=max(rss.values()),
            workers_peak_rss_mb=sum(rss.values()),
        )
    else:
        raise ValueError(f"unknown stage {stage!r}; one of {STAGES}")
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main(argv: list[str] | None = None) -> None:
    """Generate data, run every stage in a subprocess, print a table and JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=20000, help="number of light curves")
    p.add_argument("--min-points", type=int, default=26)
    p.add_argument("--max-points", type=int, default=100)
    p.add_argument("--workers", type=int, default=2, help="Dask workers (threads of the simulated job)")
    p.add_argument("--rows-per-task", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="repeats of in-memory stages (best is reported)")
    p.add_argument("--stages", default=",".join(STAGES))
    p.add_argument("--stage", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.stage:  # child process: one measurement
        res = run_stage(
            args.stage, Path(args.data), Path(args.workdir), args.workers, args.rows_per_task, args.repeat
        )
        print(json.dumps(res))
        return

    from skysift.io import write_parquet

    with tempfile.TemporaryDirectory(prefix="bench_features_") as tmp:
        workdir = Path(tmp)
        data = workdir / "ztf_000633_zr_c02_q2_dr24.parquet"
        t0 = time.perf_counter()
        table = make_lightcurves(args.n, args.min_points, args.max_points, args.seed)
        write_parquet(table, data, row_group_size=5000)
        points = int(table.column("nepochs").to_numpy().sum())
        print(
            f"generated {args.n} light curves, {points} points, in {time.perf_counter() - t0:.1f} s: {data}"
        )
        results = {}
        for spec in args.stages.split(","):
            stage, _, scale = spec.partition("@")
            stage_data = _scaled_copy(data, int(scale)) if scale and int(scale) > 1 else data
            cmd = [
                sys.executable,
                __file__,
                "--stage",
                stage,
                "--data",
                str(stage_data),
                "--workdir",
                str(workdir),
            ]
            cmd += ["--workers", str(args.workers), "--rows-per-task", str(args.rows_per_task)]
            cmd += ["--repeat", str(args.repeat)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            results[spec] = json.loads(out.strip().splitlines()[-1])
            results[spec]["load"] = os.getloadavg()[0]

    raw = results.get("raw_owned", {}).get("seconds")
    raw_cpu = results.get("raw_owned", {}).get("cpu_s")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\n{'stage':14s} {'lc/s':>8s} {'vs raw':>7s} {'lc/CPU-s':>9s} {'vs raw':>7s} {'peak RSS MB':>12s}  notes"
    )
    raw_rate = results["raw_owned"]["n"] / raw if raw else None
    for stage, r in results.items():
        rate = r["n"] / r["seconds"]
        ratio = f"{rate / raw_rate:.2f}" if raw_rate else "-"
        cpu_rate = r["n"] / r["cpu_s"]
        cpu_ratio = f"{cpu_rate / (results['raw_owned']['n'] / raw_cpu):.2f}" if raw_cpu else "-"
        notes = []
        if "prepare_s" in r:
            notes.append(f"prepare {r['prepare_s']:.2f} s + many {r['many_s']:.2f} s")
        if "startup_s" in r:
            notes.append(
                f"cluster start {r['startup_s']:.1f} s, worker peak RSS {r['worker_peak_rss_mb']:.0f} MB "
                f"(client + workers {r['peak_rss_mb'] + r['workers_peak_rss_mb']:.0f} MB), "
                f"CPU client {r['client_cpu_s']:.2f} s + workers {r['workers_cpu_s']:.2f} s"
            )
        notes.append(f"n={r['n']}, load {r['load']:.1f}")
        print(
            f"{stage:14s} {rate:8.0f} {ratio:>7s} {cpu_rate:9.0f} {cpu_ratio:>7s} {r['peak_rss_mb']:12.0f}  "
            + "; ".join(notes)
        )
    dask = {r["workers"]: r for r in results.values() if "workers" in r and r["n"] == args.n}
    if 1 in dask and 2 in dask:
        print(f"(b) 2 vs 1 Dask workers: {dask[1]['seconds'] / dask[2]['seconds']:.2f}x wall-clock")
    base = [r for k, r in results.items() if k.startswith("batch_dask") and "@" not in k]
    for k, r in results.items():
        if "@" in k and base:
            peak = r["peak_rss_mb"] + r["workers_peak_rss_mb"]
            ref = base[-1]["peak_rss_mb"] + base[-1]["workers_peak_rss_mb"]
            print(
                f"(c) peak RSS {k} / 1x: client+workers {peak:.0f} / {ref:.0f} MB = {peak / ref:.2f}; "
                f"largest worker {r['worker_peak_rss_mb']:.0f} / {base[-1]['worker_peak_rss_mb']:.0f} MB"
            )
    print(
        f"load average at the end: {load:.2f} (lc/s is wall-clock and suffers from other load; lc/CPU-s less so)"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
