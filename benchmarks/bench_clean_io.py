"""Benchmark: cleaning at I/O speed and without a second copy of the release (issue #21), at ~1M light curves.

Per field of the release of ``bench_features_million.py`` (``<workdir>/release/<field>/dr24/...``, made by
it or by ``--simulate``), each step in a fresh process (wall and CPU seconds, children included; peak RSS):

    read          pyarrow reads every column of the field's DR files: the I/O floor
    read_cut      pyarrow reads the columns the cuts need (what the new clean reads)
    clean         the clean stage now: skysift.clean.clean_objects (cuts as read -> objects table)
    features      the feature stage now: extract_features(DR files, cuts=...) on a 2-worker LocalCluster
    old_clean     the clean stage before: clean_files -> a cleaned copy (run with --old-src)
    old_features  the feature stage before: extract_features(cleaned copy) on a 2-worker LocalCluster
    store         the feature store (features.h5) of every field done so far
    codecs        the cleaned copy (clean.keep) written with today's and the previous parquet options

``--old-src`` is the ``src`` of a checkout of the previous version (e.g. ``git worktree add /tmp/old
e311528``); without it the old steps are skipped. The script prints (a) clean vs raw read throughput,
(b) disk of what each path keeps vs the raw mirror, (c) clean + features end to end, old vs new, and checks
that both paths give identical feature tables.

Run:  nice python benchmarks/bench_clean_io.py --workdir /tmp/skysift-million --old-src /tmp/old/src
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

FIELDS = (633, 634, 1721)
CLEAN = {"min_epochs": 10}


def _vmhwm_mb() -> float:
    """Peak RSS (VmHWM) of this process in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu() -> float:
    """CPU seconds of this process and its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _files(workdir: Path, field: int) -> list[Path]:
    """DR parquet files of one simulated field."""
    return sorted((workdir / "release" / str(field)).glob(f"dr24/*/field{field:06d}/*.parquet"))


def _features(paths: list, out: Path, workdir: Path, **kwargs) -> dict:
    """extract_features on a 2-worker LocalCluster sized as the workflow's rule (2 threads, 4000 MB)."""
    from skysift.cluster import cluster_for_job
    from skysift.features import extract_features

    with cluster_for_job(2, 4000, str(workdir / "dask"), {"mode": "local"}) as client:
        stats = extract_features(paths, out, {}, client=client, **kwargs)
        workers = client.run(_vmhwm_mb)
    return {"lightcurves": stats["rows"], "worker_peak_rss_mb": sum(workers.values())}


def _codecs(files: list[Path], out_dir: Path) -> dict:
    """Write one field's cleaned copy with the previous and today's parquet options; size, write and read CPU."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from skysift.clean import clean_files

    clean_files(files, out_dir / "copy.parquet", CLEAN)
    table = pq.read_table(out_dir / "copy.parquet")
    options = {
        "zstd, dictionaries (before)": {"compression": "zstd"},
        "zstd, no float dictionaries (now)": {
            "compression": "zstd",
            "use_dictionary": ["filterid", "fieldid", "rcid"],
        },
        "snappy, no float dictionaries": {
            "compression": "snappy",
            "use_dictionary": ["filterid", "fieldid", "rcid"],
        },
        "zstd level 1, no float dictionaries": {
            "compression": "zstd",
            "compression_level": 1,
            "use_dictionary": ["filterid", "fieldid", "rcid"],
        },
    }
    result = {}
    for name, kwargs in options.items():
        path = out_dir / "codec.parquet"
        c0 = time.process_time()
        pq.write_table(table, path, row_group_size=5000, **kwargs)
        write = time.process_time() - c0
        c0 = time.process_time()
        pa.Table.from_batches(pq.read_table(path, columns=["hmjd", "mag", "magerr"]).to_batches())
        read = time.process_time() - c0
        result[name] = {"mb": path.stat().st_size / 1e6, "write_cpu_s": write, "read3_cpu_s": read}
    return result


def step(name: str, workdir: Path, field: int) -> dict:
    """Run one step for one field in this process; return its numbers."""
    import pyarrow.parquet as pq

    files = _files(workdir, field)
    out: dict = {"step": name, "field": field}
    new, old = workdir / "new", workdir / "old"
    new.mkdir(exist_ok=True)
    old.mkdir(exist_ok=True)
    if name != "read":  # imports are not part of a step's time (a job pays them once, whatever the batch)
        import skysift.clean  # noqa: F401
    if name.endswith("features"):
        import skysift.cluster  # noqa: F401
        import skysift.features  # noqa: F401
    t0, c0 = time.perf_counter(), _cpu()
    if name == "read":
        out["lightcurves"] = sum(pq.read_table(f).num_rows for f in files)
    elif name == "read_cut":
        from skysift.clean.read import dr_schema

        columns = dr_schema(["objectid", "filterid", "fieldid", "rcid", "objra", "objdec"]).names
        out["lightcurves"] = sum(pq.read_table(f, columns=columns).num_rows for f in files)
    elif name == "clean":
        from skysift.clean import clean_objects

        out["lightcurves"] = clean_objects(files, new / f"{field}.objects.parquet", CLEAN).lightcurves_in
    elif name == "features":
        out.update(_features(files, new / f"{field}.features.parquet", workdir, cuts=CLEAN))
    elif name == "old_clean":
        from skysift.clean import clean_files

        out["lightcurves"] = clean_files(files, old / f"{field}.clean.parquet", CLEAN).lightcurves_in
    elif name == "old_features":
        out.update(_features([old / f"{field}.clean.parquet"], old / f"{field}.features.parquet", workdir))
    elif (
        name == "store"
    ):  # the feature store of every field done so far (kept after a run, as the per-batch files)
        from skysift.features.store import combine_features

        paths = sorted(new.glob("*.features.parquet"))
        out["lightcurves"] = combine_features(
            paths, new / "features.h5", dr="dr24", features={}, clean=CLEAN
        )["n_objects"]
    elif name == "codecs":
        out["codecs"] = _codecs(files, new)
    out["seconds"] = time.perf_counter() - t0
    out["cpu_s"] = _cpu() - c0
    out["peak_rss_mb"] = _vmhwm_mb() + out.get("worker_peak_rss_mb", 0.0)
    return out


def _run(args: argparse.Namespace, name: str, field: int) -> dict:
    """One step in a fresh process (the old steps with the previous version's src first on the path)."""
    env = dict(os.environ)
    if name.startswith("old_"):
        env["PYTHONPATH"] = os.pathsep.join([str(args.old_src), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, __file__, "--workdir", str(args.workdir), "--step", name, "--field", str(field)]
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    res = json.loads(proc.stdout.splitlines()[-1])
    res["load"] = os.getloadavg()[0]
    print(json.dumps(res), flush=True)
    return res


def _report(results: list[dict], args: argparse.Namespace) -> None:
    """Print (a), (b), (c) and check that both paths wrote the same features."""
    import numpy as np
    import pyarrow.parquet as pq

    def total(name: str, key: str) -> float:
        return sum(r[key] for r in results if r["step"] == name)

    n = max(total(name, "lightcurves") for name in ("read", "clean", "old_clean")) or 1
    print(f"\nlight curves: {n:,.0f} in fields {args.fields}; load average now {os.getloadavg()[0]:.1f}")
    print("| step | wall s | CPU s | µs per light curve (wall / CPU) | peak RSS MB |\n|---|---|---|---|---|")
    for name in ("read", "read_cut", "clean", "features", "old_clean", "old_features"):
        rows = [r for r in results if r["step"] == name]
        if rows:
            wall, cpu = total(name, "seconds"), total(name, "cpu_s")
            peak = max(r["peak_rss_mb"] for r in rows)
            print(
                f"| {name} | {wall:.1f} | {cpu:.1f} | {1e6 * wall / n:.0f} / {1e6 * cpu / n:.0f} | {peak:.0f} |"
            )
    read, clean = total("read", "seconds"), total("clean", "seconds")
    read_cpu, clean_cpu = total("read", "cpu_s"), total("clean", "cpu_s")
    if read and clean:
        print(
            f"(a) clean throughput / raw read throughput: wall {read / clean:.2f}, CPU {read_cpu / clean_cpu:.2f}"
        )
    # (b) over every field whose new products exist (earlier runs' fields included)
    done = sorted(int(p.name.split(".")[0]) for p in (args.workdir / "new").glob("*.features.parquet"))
    raw = sum(f.stat().st_size for field in done for f in _files(args.workdir, field))
    kept_new = sum(
        (args.workdir / "new" / f"{f}.{kind}.parquet").stat().st_size
        for f in done
        for kind in ("objects", "features")
    )
    store = args.workdir / "new" / "features.h5"
    kept_new += store.stat().st_size if store.exists() else 0
    n_done = sum(pq.ParquetFile(f).metadata.num_rows for field in done for f in _files(args.workdir, field))
    print(f"(b) fields {done}, {n_done:,} light curves: raw mirror {raw / 1e6:.0f} MB; kept after a default run now "
          f"(objects + features + feature store) {kept_new / 1e6:.1f} MB = {100 * kept_new / raw:.1f} %", end="")  # fmt: skip
    if all((args.workdir / "old" / f"{f}.features.parquet").exists() for f in args.fields) and args.old_src:
        kept_old = sum(
            (args.workdir / "old" / f"{f}.{kind}.parquet").stat().st_size
            for f in args.fields
            for kind in ("clean", "features")
        )
        raw = sum(f.stat().st_size for field in args.fields for f in _files(args.workdir, field))
        print(
            f"; before, fields {args.fields}: cleaned copy + features {kept_old / 1e6:.0f} MB = {100 * kept_old / raw:.0f} % of their raw files"
        )
        e2e_old = total("old_clean", "seconds") + total("old_features", "seconds")
        e2e_new = clean + total("features", "seconds")
        cpu_old = total("old_clean", "cpu_s") + total("old_features", "cpu_s")
        cpu_new = clean_cpu + total("features", "cpu_s")
        print(f"(c) clean + features: before {e2e_old:.1f} s ({cpu_old:.0f} CPU-s), now {e2e_new:.1f} s "
              f"({cpu_new:.0f} CPU-s): {e2e_old / e2e_new:.2f}x wall, {cpu_old / cpu_new:.2f}x CPU")  # fmt: skip
        for field in args.fields:
            a = pq.read_table(args.workdir / "old" / f"{field}.features.parquet")
            b = pq.read_table(args.workdir / "new" / f"{field}.features.parquet")
            same = a.schema == b.schema and all(
                np.array_equal(a[c].to_numpy(), b[c].to_numpy(), equal_nan=True) for c in a.column_names
            )
            print(f"field {field}: identical feature tables {same} ({a.num_rows} rows)")
    else:
        print()
    for r in results:
        if r["step"] == "codecs":
            print(f"cleaned copy of field {r['field']} (clean.keep):")
            for codec, v in r["codecs"].items():
                print(f"  {codec:38s} {v['mb']:7.1f} MB  write {v['write_cpu_s']:5.1f} CPU-s  "
                      f"read hmjd/mag/magerr {v['read3_cpu_s']:4.1f} CPU-s")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Run the steps field by field (each in a fresh process) and report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/skysift-million"))
    p.add_argument("--fields", type=int, nargs="+", default=list(FIELDS))
    p.add_argument("--old-src", type=Path, help="src of the previous version (enables the old_* steps)")
    p.add_argument(
        "--steps",
        nargs="+",
        default=["read", "read_cut", "clean", "features", "store", "old_clean", "old_features"],
    )
    p.add_argument(
        "--codecs", action="store_true", help="also compare parquet options of the cleaned copy (1st field)"
    )
    p.add_argument("--step", help=argparse.SUPPRESS)
    p.add_argument("--field", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.step:
        print(json.dumps(step(args.step, args.workdir, args.field)))
        return
    missing = [f for f in args.fields if not _files(args.workdir, f)]
    if missing:
        raise SystemExit(
            f"no release for fields {missing} under {args.workdir}: run bench_features_million.py first"
        )
    steps = [s for s in args.steps if args.old_src or not s.startswith("old_")]
    results = [_run(args, name, field) for field in args.fields for name in steps if name != "store"]
    if "store" in steps:
        results.append(_run(args, "store", 0))
    if args.codecs:
        results.append(_run(args, "codecs", args.fields[0]))
    _report(results, args)


if __name__ == "__main__":
    main()
