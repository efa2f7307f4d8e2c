"""Release scale: the demo at a few fields and at 10x the fields (same objects per field), whole default target.

    PYTHONPATH=src nice .venv/bin/python benchmarks/bench_release.py [--fields 3 30] [--objects-per-field 1500]

Each scale is a real ``snakemake --cores 2`` run of the default target in its own directory (config:
``demo.fields`` = the first N primary-grid fields from 600 on, ``demo.n_objects`` = N x objects per field; every
other key the default). From the runs' benchmark files (``results/benchmarks``, via
:func:`skysift.cost.measure_run`) it prints per rule: jobs, total CPU s and max peak RSS at each scale, the
peak-RSS ratio large/small and the CPU-per-light-curve ratio large/small (issue #15 asks <= 1.2 and
within +-20 %). Then it validates ``skysift cost``: its prediction of the large run from the small run's
benchmark files and sizes against the large run's measured CPU and disk (issue #15 asks within +-30 %).

The simulated fields differ in cadence (a per-field factor and high-cadence campaigns), so CPU per light
curve differs between field sets a little even with perfect scaling. The release-wide rules read bounded
samples (their caps default to 1e5-2e5 rows, sized for a real release), so their memory grows with a demo
until the cap binds; ``--caps ROWS`` sets every cap below the small run's rows so that both runs are past
them, as a run on a real release is. ``--keep DIR`` keeps the runs;
``--measure-only`` prints the tables of runs kept there (after rerunning some rules with other settings).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from skysift.cost import measure_run, predict

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
FIRST_FIELD = 600


def cap_config(rows: int) -> dict:
    """Config keys that set every release-wide sample cap to ``rows``: the anomaly fit sample and top-K,
    the classifier's training labels and the active-learning pool."""
    return {
        "anomaly": {"fit_sample": rows, "top_k": rows},
        "classify": {"max_train_rows": rows, "active_learning": {"max_labelled_rows": rows}},
    }


def run_demo(workdir: Path, fields: int, per_field: int, cores: int, caps: int | None = None) -> float:
    """Run the default target on a demo of ``fields`` fields (with every sample cap at ``caps`` rows when
    given); return its wall seconds."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "demo": {"fields": list(range(FIRST_FIELD, FIRST_FIELD + fields)), "n_objects": fields * per_field},
        **(cap_config(caps) if caps else {}),
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--cores", str(cores)]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}
    )
    if proc.returncode:
        sys.exit(f"snakemake failed in {workdir}:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fields", type=int, nargs=2, default=[3, 30], metavar=("SMALL", "LARGE"))
    parser.add_argument("--objects-per-field", type=int, default=1500, help="demo sky sources per field")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--caps", type=int, metavar="ROWS",
        help="set every release-wide sample cap (anomaly.fit_sample, anomaly.top_k, classify.max_train_rows, "
        "classify.active_learning.max_labelled_rows) to ROWS in both runs; below the small run's rows and "
        "labels, both runs are past their caps, as every run on a real release is",
    )  # fmt: skip
    parser.add_argument(
        "--keep", type=Path, help="run in this directory and keep it (default: a temporary one)"
    )
    parser.add_argument(
        "--measure-only", action="store_true",
        help="print the tables of the runs kept in --keep (e.g. after rerunning some rules there) without running",
    )  # fmt: skip
    args = parser.parse_args()
    if args.measure_only and not args.keep:
        parser.error("--measure-only reads the runs of --keep DIR")
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_release."))
    runs, walls = {}, {}
    for n in args.fields:
        if args.measure_only:
            walls[n] = float("nan")
        else:
            walls[n] = run_demo(root / f"fields{n}", n, args.objects_per_field, args.cores, args.caps)
        runs[n] = measure_run(root / f"fields{n}" / "results")
        print(f"{n} fields: {runs[n].lightcurves:,} light curves, {walls[n]:.0f} s wall", flush=True)
    small, large = (runs[n] for n in args.fields)
    print(
        f"\n{'rule':<22} {'jobs':>9} {'CPU s small':>12} {'CPU s large':>12} {'RSS MB small':>13} "
        f"{'RSS MB large':>13} {'RSS ratio':>10} {'CPU/lc ratio':>13}"
    )
    for rule in sorted(set(small.rules) | set(large.rules)):
        rows_s, rows_l = small.rules.get(rule, (False, []))[1], large.rules.get(rule, (False, []))[1]
        cpu_s, cpu_l = sum(r[2] for r in rows_s), sum(r[2] for r in rows_l)
        rss_s, rss_l = max((r[1] for r in rows_s), default=0), max((r[1] for r in rows_l), default=0)
        per_lc = (cpu_l / large.lightcurves) / (cpu_s / small.lightcurves) if cpu_s else float("nan")
        print(
            f"{rule:<22} {len(rows_s):>4}/{len(rows_l):<4} {cpu_s:>12.1f} {cpu_l:>12.1f} {rss_s:>13.0f} {rss_l:>13.0f} "
            f"{rss_l / rss_s if rss_s else float('nan'):>10.2f} {per_lc:>13.2f}"
        )
    total_s = sum(r[2] for _, rows in small.rules.values() for r in rows)
    total_l = sum(r[2] for _, rows in large.rules.values() for r in rows)
    print(
        f"{'total':<22} {'':>9} {total_s:>12.1f} {total_l:>12.1f} {'':>13} {'':>13} {'':>10} "
        f"{(total_l / large.lightcurves) / (total_s / small.lightcurves):>13.2f}"
    )
    caps = {"fit_sample": args.caps, "max_train_rows": args.caps} if args.caps else {}
    est = predict(
        small, fields=large.batches, lightcurves=large.lightcurves, nodes=1, cores=args.cores, **caps
    )
    disk_l = sum(large.disk.values())
    print(f"\nskysift cost from the {args.fields[0]}-field run for the {args.fields[1]}-field run:")
    print(f"  CPU  predicted {est.cpu_s:.0f} s, measured {total_l:.0f} s: {est.cpu_s / total_l - 1:+.0%}")
    print(
        f"  disk predicted {sum(est.disk.values()) / 1e6:.1f} MB, measured {disk_l / 1e6:.1f} MB: "
        f"{sum(est.disk.values()) / disk_l - 1:+.0%}"
    )
    for name in large.disk:
        print(
            f"    {name:<9} predicted {est.disk[name] / 1e6:8.1f} MB, measured {large.disk[name] / 1e6:8.1f} MB"
        )
    print(f"  wall predicted {est.wall_s:.0f} s (rules in series), measured {walls[args.fields[1]]:.0f} s")
    print(f"runs in {root}")


if __name__ == "__main__":
    main()
