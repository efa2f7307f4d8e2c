"""Benchmark (d): ~1M demo light curves through clean + features on 2 cores -- completes, time, peak memory.

The demo survey is simulated one field at a time (``simulate_release`` holds a whole call's
light curves in memory: ~45k sources -> ~96k light curves -> ~370 MB peak; one call for 1M
light curves would need ~4 GB), each field under its own root with its own seed. Then, per
field as Snakemake would run the batches one after another on 2 cores:

    clean     skysift.clean.clean_objects(field files) -> <workdir>/clean/<field>.objects.parquet (the clean stage:
              the cuts as the files are read, the surviving objects and the counts; no cleaned copy)
    features  skysift.features.extract_features(field files, cuts=...) on a 2-worker LocalCluster
              (cluster_for_job(2, mem_mb)): the DR files cleaned again as read, as the workflow does

Each step runs in a fresh process; its peak RSS is the process's VmHWM (features: the client
process plus the sum of its Dask workers' peaks). The simulated release is kept in ``--workdir``
and reused by later runs (delete it to regenerate).

Run:  python benchmarks/bench_features_million.py --workdir /tmp/skysift-million [--sources-per-field 157000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

FIELDS = (633, 634, 1721)


def _vmhwm_mb() -> float:
    """Peak RSS (VmHWM) of this process in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _field_files(workdir: Path, field: int) -> list[Path]:
    """DR parquet files of one simulated field."""
    return sorted((workdir / "release" / str(field)).glob(f"dr24/*/field{field:06d}/*.parquet"))


def step(name: str, workdir: Path, field: int, sources: int, mem_mb: int) -> dict:
    """Run one step for one field in this process; return seconds, counts and peak RSS."""
    t0 = time.perf_counter()
    out: dict = {"step": name, "field": field}
    if name == "simulate":
        from skysift.simulate import simulate_release

        info = simulate_release(
            workdir / "release" / str(field), n_objects=sources, fields=[field], seed=1000 + field
        )
        out.update(lightcurves=info["n_lightcurves"], detections=info["n_detections"])
    elif name == "clean":
        from skysift.clean import clean_objects

        (workdir / "clean").mkdir(exist_ok=True)
        stats = clean_objects(
            _field_files(workdir, field), workdir / "clean" / f"{field}.objects.parquet", {"min_epochs": 10}
        )
        out.update(lightcurves=stats.lightcurves_out, epochs=stats.epochs_out)
    elif name == "features":
        from skysift.cluster import cluster_for_job
        from skysift.features import extract_features

        (workdir / "features").mkdir(exist_ok=True)
        with cluster_for_job(2, mem_mb, str(workdir / "dask"), {"mode": "local"}) as client:
            stats = extract_features(
                _field_files(workdir, field),
                workdir / "features" / f"{field}.parquet",
                {},
                client=client,
                cuts={"min_epochs": 10},
            )
            workers = client.run(_vmhwm_mb)
        out.update(
            lightcurves=stats["rows"], extracted=stats["extracted"], worker_peak_rss_mb=sum(workers.values())
        )
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mb"] = _vmhwm_mb() + out.get("worker_peak_rss_mb", 0.0)
    return out


def main(argv: list[str] | None = None) -> None:
    """Simulate (once), then clean and extract features field by field, each step in a fresh process."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", default="/tmp/skysift-million")
    p.add_argument(
        "--sources-per-field",
        type=int,
        default=157_000,
        help="demo sources per field (~2.1 light curves each)",
    )
    p.add_argument("--mem-mb", type=int, default=6000, help="mem_mb of the simulated feature job")
    p.add_argument("--step", help=argparse.SUPPRESS)
    p.add_argument("--field", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    workdir = Path(args.workdir)
    if args.step:
        print(json.dumps(step(args.step, workdir, args.field, args.sources_per_field, args.mem_mb)))
        return
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for field in FIELDS:
        steps = ["clean", "features"]
        if not _field_files(workdir, field):
            steps.insert(0, "simulate")
        for name in steps:
            cmd = [sys.executable, __file__, "--workdir", str(workdir), "--step", name, "--field", str(field)]
            cmd += ["--sources-per-field", str(args.sources_per_field), "--mem-mb", str(args.mem_mb)]
            res = json.loads(
                subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1]
            )
            res["load"] = os.getloadavg()[0]
            print(json.dumps(res), flush=True)
            results.append(res)
    for name in ("simulate", "clean", "features"):
        rows = [r for r in results if r["step"] == name]
        if rows:
            n = sum(r.get("lightcurves", 0) for r in rows)
            secs = sum(r["seconds"] for r in rows)
            peak = max(r["peak_rss_mb"] for r in rows)
            print(
                f"{name:9s} {n:9d} light curves  {secs:7.1f} s  {n / secs:8.0f} lc/s  peak RSS {peak:6.0f} MB"
            )
    clean_feat = [r for r in results if r["step"] in ("clean", "features")]
    print(
        f"clean+features: {sum(r['seconds'] for r in clean_feat):.1f} s, "
        f"peak RSS {max(r['peak_rss_mb'] for r in clean_feat):.0f} MB, load average now {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
