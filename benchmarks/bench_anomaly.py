"""Peak memory and CPU of the anomaly rules (fit_anomaly_model, score_anomalies, rank_anomalies) at N fields.

    .venv/bin/python benchmarks/bench_anomaly.py --features results/features --fields 10 100

Each release of N fields has the same objects per field: field k is a copy of one of the given
feature tables (the demo's, cycled) with its own field id and objectids (``field * 10**12`` + the
object's id within its field), so a 100-field release is ten times a 10-field one, as a DR grows.
Every rule runs as its own process, as a Snakemake job would (the fit once, the score job once per
field, the merge once), with the schema's default ``anomaly`` settings (``--compare`` to change the
methods) on one thread; each process reports its peak RSS (``ru_maxrss``) and CPU seconds. Printed
per rule: jobs, total CPU s, CPU per light curve, max peak RSS, and the ratios between the sizes.
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

import numpy as np
import pandas as pd


def make_release(sources: list[Path], n_fields: int, root: Path) -> list[Path]:
    """N per-field feature tables copied from ``sources`` (cycled), each with its own field and ids."""
    root.mkdir(parents=True, exist_ok=True)
    tables = [pd.read_parquet(p) for p in sources]
    paths = []
    for k in range(n_fields):
        field = 1 + k
        path = root / f"field{field:06d}.parquet"
        if not path.exists():
            df = tables[k % len(tables)].copy()
            df["objectid"] = field * 10**12 + df["objectid"].to_numpy(np.int64) % 10**12
            df["fieldid"] = np.int16(field)
            df["ra"] = (df["ra"] + 3.0 * k) % 360.0
            df.to_parquet(path)
        paths.append(path)
    return paths


def child(rule: str, args: dict) -> None:
    """Run one rule's library function in this process; print its peak RSS and CPU time as JSON."""
    from skysift.anomaly import (
        FitSettings,
        RankSettings,
        run_fit_anomaly_model,
        run_rank_anomalies,
        run_score_anomalies,
    )

    start = time.perf_counter()
    section = args["section"]
    if rule == "fit":
        run_fit_anomaly_model(args["features"], FitSettings.from_config(section), models=args["models"],
                              sample=args["sample"], labels=args["labels"])  # fmt: skip
    elif rule == "score":
        run_score_anomalies(args["features"], args["models"], args["labels"], args["outputs"])
    else:
        rank = RankSettings.from_config(section)
        run_rank_anomalies(
            args["batches"], rank, scores=args["scores"], ranked=args["ranked"], top=args["top"]
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime,
                      "wall_s": time.perf_counter() - start}))  # fmt: skip


def run_child(rule: str, args: dict) -> dict:
    """One rule in a fresh process (its own peak RSS)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", rule, json.dumps(args)],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    if proc.returncode:
        raise SystemExit(f"{rule} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(sources: list[Path], n_fields: int, work: Path, section: dict) -> dict[str, dict]:
    """Fit, score every field, merge: per rule jobs, CPU and max peak RSS."""
    from skysift.anomaly import FitSettings

    features = make_release(sources, n_fields, work / "features")
    methods = FitSettings.from_config(section).methods
    model_dir = work / "anomaly/model"
    models = [(str(model_dir / f"{m}.npz"), str(model_dir / f"{m}.json")) for m in methods]
    labels = str(model_dir / "labels.parquet")
    common = {"section": section}
    out = {"fit": [run_child("fit", {**common, "features": [str(p) for p in features], "models": models,
                                     "sample": [str(model_dir / "sample.npz"), str(model_dir / "sample.json")],
                                     "labels": labels})]}  # fmt: skip
    batches: dict[str, list[str]] = {m: [] for m in methods}
    out["score"] = []
    for path in features:
        outputs = [str(work / "anomaly/scores" / m / path.name) for m in methods]
        out["score"].append(run_child("score", {**common, "features": str(path), "models": models, "labels": labels,
                                                "outputs": outputs}))  # fmt: skip
        for m, o in zip(methods, outputs, strict=True):
            batches[m].append(o)
    ranked = [str(work / f"anomaly/ranked/{m}.parquet") for m in methods]
    top = [str(work / f"anomaly/ranked/{m}.csv") for m in methods]
    out["rank"] = [run_child("rank", {**common, "batches": batches, "scores": str(work / "anomaly/scores.parquet"),
                                      "ranked": ranked, "top": top})]  # fmt: skip
    rows = sum(len(pd.read_parquet(p, columns=["objectid"])) for p in features)
    return {"rows": rows, **{rule: summarise(runs, rows) for rule, runs in out.items()}}


def summarise(runs: list[dict], rows: int) -> dict:
    """Jobs, total CPU, CPU per row, max peak RSS of one rule's runs."""
    cpu = sum(r["cpu_s"] for r in runs)
    return {"jobs": len(runs), "cpu_s": cpu, "cpu_us_per_row": 1e6 * cpu / rows,
            "max_rss_mb": max(r["rss_mb"] for r in runs), "wall_s": sum(r["wall_s"] for r in runs)}  # fmt: skip


def main() -> None:
    """Parse arguments, run the sizes, print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--features", type=Path, default=Path("results/features"), help="per-field feature tables to copy"
    )
    parser.add_argument("--fields", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench_anomaly"))
    parser.add_argument("--compare", help="anomaly.compare (comma-separated; default: the schema's)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], json.loads(args.child[1]))
        return
    from skysift.config import default_config

    section = default_config()["anomaly"]
    if args.compare is not None:
        section["compare"] = [m for m in args.compare.split(",") if m]
    sources = sorted(args.features.glob("field*.parquet"))
    print(f"anomaly settings: method {section['method']}, compare {section['compare']}, n_trees {section['n_trees']}, "
          f"fit_sample {section['fit_sample']}, top_k {section['top_k']}; load {os.getloadavg()[0]:.1f}")  # fmt: skip
    results = {}
    for n in args.fields:
        results[n] = measure(sources, n, args.workdir / f"fields{n}", section)
        r = results[n]
        print(f"\n{n} fields, {r['rows']} rows (load {os.getloadavg()[0]:.1f})")
        print(f"{'rule':<18}{'jobs':>6}{'CPU s':>10}{'CPU us/row':>12}{'max RSS MB':>12}{'wall s':>10}")
        for rule in ("fit", "score", "rank"):
            s = r[rule]
            print(f"{rule + '_anomal*':<18}{s['jobs']:>6}{s['cpu_s']:>10.1f}{s['cpu_us_per_row']:>12.1f}"
                  f"{s['max_rss_mb']:>12.0f}{s['wall_s']:>10.1f}")  # fmt: skip
    if len(args.fields) >= 2:
        a, b = args.fields[0], args.fields[-1]
        print(f"\n{b} vs {a} fields: max peak RSS ratio, CPU per row ratio")
        for rule in ("fit", "score", "rank"):
            ra, rb = results[a][rule], results[b][rule]
            print(f"  {rule:<6} RSS {rb['max_rss_mb'] / ra['max_rss_mb']:.2f}x   CPU/row "
                  f"{rb['cpu_us_per_row'] / ra['cpu_us_per_row']:.2f}x")  # fmt: skip
        (args.workdir / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
