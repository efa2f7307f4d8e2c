"""Load: the DAG of a release of 1,000 batches (build time, peak memory) and the HTTP rate limit under concurrency.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_load.py [--batches 10 100 1000] [--rate-fields 6]

(a) ``snakemake -n`` of the default target for a demo release of N batches (fields 1..N, two objects a
    field: nothing is simulated by a dry run), wall time and peak RSS (``/usr/bin/time -v``) per N; with
    ``--fetch N`` also the real fetch of a tiny simulated release of N batches (every job run).
(b) A real ``snakemake`` fetch (source irsa_bulk, ``--cores 4``: parallel local fetch jobs, each with
    ``fetch.http.concurrency`` threads) from the fake IRSA server on 127.0.0.1: the requests per second the
    server saw (most in any 1-s window, and the shortest gap between two arrivals) against the setting
    ``fetch.http.min_interval`` (for all fetch jobs of the host), for one job and for parallel jobs.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def _snakemake(workdir: Path, *args: str, timed: bool = False) -> tuple[float, float | None, str]:
    """Run snakemake in ``workdir``; (wall seconds, peak RSS in MiB or None, output)."""
    cmd = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), *args]  # fmt: skip
    if timed:
        cmd = ["/usr/bin/time", "-v", *cmd]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return seconds, (int(rss.group(1)) / 1024 if rss else None), proc.stdout + proc.stderr


def dag(batches: list[int], fetch: int | None) -> None:
    """(a): dry-run time and memory per number of batches; optionally a real fetch of ``fetch`` batches."""
    print("(a) DAG of the default target (snakemake -n, demo source)")
    print(f"{'batches':>8} {'jobs':>7} {'wall s':>8} {'peak RSS MiB':>13}")
    for n in batches:
        with tempfile.TemporaryDirectory(prefix=f"dag{n}-") as tmp:
            work = Path(tmp)
            config = {"demo": {"n_objects": 2 * n, "fields": list(range(1, n + 1))}}
            (work / "config.yaml").write_text(yaml.safe_dump(config))
            seconds, rss, out = _snakemake(work, "-n", "--cores", "2", "--quiet", "rules", timed=True)
            total = re.search(r"^total\s+(\d+)", out, re.M)
            print(f"{n:>8} {total.group(1) if total else '?':>7} {seconds:>8.1f} {rss:>13.0f}", flush=True)
    if fetch:
        with tempfile.TemporaryDirectory(prefix=f"fetch{fetch}-") as tmp:
            work = Path(tmp)
            config = {"demo": {"n_objects": 2 * fetch, "fields": list(range(1, fetch + 1)), "ccds": [1],
                               "quadrants": [1]}}  # fmt: skip
            (work / "config.yaml").write_text(yaml.safe_dump(config))
            targets = [f"results/fetch/field{f:06d}.tsv" for f in range(1, fetch + 1)]
            seconds, rss, _ = _snakemake(work, "--cores", "2", "--quiet", *targets, timed=True)
            print(f"simulate + fetch of {fetch} batches (every job run): {seconds:.0f} s, snakemake peak RSS "
                  f"{rss:.0f} MiB ({seconds / fetch:.2f} s a batch)")  # fmt: skip


def _rate(arrivals: list[float]) -> tuple[int, float]:
    """(most requests that started within any 1-s window, shortest gap between two starts in s)."""
    t = sorted(arrivals)
    most, j = 0, 0
    for i in range(len(t)):
        while t[i] - t[j] >= 1.0:
            j += 1
        most = max(most, i - j + 1)
    gaps = [b - a for a, b in zip(t, t[1:], strict=False)]
    return most, min(gaps) if gaps else float("nan")


def rate(fields: int, min_interval: float, concurrency: int) -> None:
    """(b): requests per second at the fake IRSA server during real fetch jobs."""
    from servers import FakeServices
    from skysift.simulate import simulate_release

    with tempfile.TemporaryDirectory(prefix="rate-") as tmp:
        served = Path(tmp) / "served"
        ids = list(range(633, 633 + fields))
        simulate_release(
            served, n_objects=60 * fields, fields=ids, ccds=[1, 2], quadrants=[1, 2, 3, 4], seed=5
        )
        with FakeServices(served) as services:
            http = {"timeout": 10, "retries": 3, "backoff": 0.01, "min_interval": min_interval,
                    "concurrency": concurrency}  # fmt: skip
            for label, cores, batch in (
                ("one fetch job", 1, ids[:1]),
                (f"{fields} fetch jobs, --cores 4", 4, ids),
            ):
                work = Path(tmp) / label.replace(" ", "_").replace(",", "")
                work.mkdir()
                config = {"source": "irsa_bulk", "fetch": {"fields": batch, "bulk_url": services.bulk_url,
                                                           "http": http}}  # fmt: skip
                (work / "config.yaml").write_text(yaml.safe_dump(config))
                services.arrivals.clear()
                targets = [f"results/fetch/field{f:06d}.tsv" for f in batch]
                _snakemake(work, "--cores", str(cores), *targets)
                most, gap = _rate([a for a in services.arrivals])
                limit = 1 / min_interval
                print(f"(b) {label}: {len(services.arrivals)} requests, at most {most} in one second "
                      f"(setting: min_interval {min_interval:g} s = {limit:g}/s for the host, concurrency {concurrency}); "
                      f"shortest gap {gap * 1000:.1f} ms", flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--fetch", type=int, default=0, help="also run simulate + fetch of this many batches")
    parser.add_argument("--rate-fields", type=int, default=6)
    parser.add_argument("--min-interval", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    dag(args.batches, args.fetch)
    rate(args.rate_fields, args.min_interval, args.concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
