"""Science evaluation harness: run the real workflow on a config and print the tables issue #17 asks for.

    PYTHONPATH=src .venv/bin/python benchmarks/science/evaluate.py config/config.yaml            # easy demo
    PYTHONPATH=src .venv/bin/python benchmarks/science/evaluate.py config/examples/realistic_demo.yaml
    PYTHONPATH=src .venv/bin/python benchmarks/science/evaluate.py config/examples/external_<name>.yaml \\
        --truth <labels.parquet>                       # an external set: the oracle answers from its labels

The config is laid over the repository's config/config.yaml (as `snakemake --configfile` does) with
``--set key=value`` overrides (dotted keys, values as YAML), written to ``<workdir>/config.yaml`` and run
with the real `snakemake` on this checkout's Snakefile inside ``--workdir`` (a scratch directory, kept
so that a second call with other ``--set`` values reruns only what they change). Targets:
results/classify/metrics.json and, for the demo, results/anomaly/evaluation.csv (the evaluate_anomalies
rule: each method's oracle loop, ``anomaly.evaluation.seeds`` seeds, found within each budget);
``--all`` adds the default target. Without demo truth (source table), ``--truth`` names a table with
objectid and class, and the same oracle loop runs through :func:`skysift.anomaly.run_evaluation`.

Printed (Markdown): anomalies in the search space by class, anomalies found per method and budget (mean,
std, min, max over seeds; random expectation), the classifier's macro-F1 and per-class F1 (its
cross-validation), and the wall time of the workflow run. ``--json`` also writes them as JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def deep_update(base: dict, extra: dict) -> dict:
    """``base`` updated recursively with ``extra`` (Snakemake's merge of config files)."""
    out = copy.deepcopy(base)
    for key, value in (extra or {}).items():
        out[key] = (
            deep_update(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def merged_config(config: Path, sets: list[str]) -> dict:
    """config/config.yaml, then ``config``, then the dotted ``key=value`` overrides."""
    merged = deep_update(
        yaml.safe_load((ROOT / "config" / "config.yaml").read_text()),
        yaml.safe_load(config.read_text()) or {},
    )
    for item in sets:
        key, _, value = item.partition("=")
        node = merged
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return merged


def run_workflow(workdir: Path, targets: list[str], cores: int) -> float:
    """The real snakemake on this checkout's Snakefile; returns the wall time (s); raises on failure."""
    cmd = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--cores", str(cores), "--rerun-incomplete", *targets]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    (workdir / "snakemake.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed ({workdir / 'snakemake.log'}):\n{proc.stderr[-4000:]}")
    return seconds


def anomalies_in_space(workdir: Path, config: dict, truth: pd.DataFrame) -> tuple[pd.Series, int]:
    """Sources of the search space per anomaly class (what the oracle can find) and the number of sources."""
    from skysift.anomaly import OracleSettings, build_space
    from skysift.config import SCHEMA_PATH, validate_config

    settings = OracleSettings.from_config(validate_config(copy.deepcopy(config), SCHEMA_PATH)["anomaly"])
    space = build_space(
        sorted(str(p) for p in (workdir / "results" / "features").glob("*.parquet")), settings.space
    )
    classes = truth.set_index("objectid")["class"].astype(str)
    per_obj = pd.DataFrame({"source_id": space.source_id, "cls": classes.reindex(space.objectid).to_numpy()})
    odd = per_obj[per_obj["cls"].isin(settings.anomaly_classes)].drop_duplicates("source_id")
    return odd["cls"].value_counts(), int(np.unique(space.source_id).size)


def external_evaluation(workdir: Path, config: dict, truth: pd.DataFrame, cores: int) -> pd.DataFrame:
    """The oracle loop of evaluate_anomalies on a run without demo truth, answering from ``truth``."""
    from skysift.anomaly import OracleSettings, run_evaluation
    from skysift.config import SCHEMA_PATH, validate_config

    settings = OracleSettings.from_config(validate_config(copy.deepcopy(config), SCHEMA_PATH)["anomaly"])
    out = workdir / "results" / "anomaly"
    out.mkdir(parents=True, exist_ok=True)
    features = sorted(str(p) for p in (workdir / "results" / "features").glob("*.parquet"))
    return run_evaluation(features, truth, settings, table=out / "evaluation.csv", curves=out / "evaluation_curves.csv",
                          plot=out / "evaluation.png", n_jobs=cores)  # fmt: skip


def anomaly_table(evaluation: pd.DataFrame) -> pd.DataFrame:
    """Methods x budgets: 'mean +- std (min-max)' found, and the random expectation."""
    cell = evaluation.apply(
        lambda r: f"{r['mean']:.1f} ± {np.nan_to_num(r['std']):.1f} ({r['min']:.0f}-{r['max']:.0f})", axis=1
    )
    wide = evaluation.assign(cell=cell).pivot(index="method", columns="budget", values="cell")
    wide.columns = [f"found in {b}" for b in wide.columns]
    randoms = evaluation.groupby("budget")["random_expectation"].first()
    wide.loc["random"] = [f"{v:.1f}" for v in randoms]
    return wide


def classifier_tables(metrics: dict) -> tuple[float, pd.DataFrame]:
    """Macro-F1 and the per-class table of the classifier's cross-validation (NaN and empty if it was skipped)."""
    cv = metrics.get("cv")
    if metrics.get("status") == "skipped" or not cv:
        return float("nan"), pd.DataFrame(columns=["precision", "recall", "f1", "support"])
    per = pd.DataFrame(cv["per_class"]).T[["precision", "recall", "f1", "support"]].astype(float)
    per["support"] = per["support"].astype(int)
    return float(cv["macro"]["f1"]), per


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", type=Path)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="scratch directory (default /tmp/skysift-eval/<config stem>)",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="config override (dotted key)"
    )
    parser.add_argument(
        "--truth",
        type=Path,
        default=None,
        help="objectid/class table for the oracle (sources without demo truth)",
    )
    parser.add_argument("--all", action="store_true", help="also build the default target")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the tables as JSON")
    args = parser.parse_args()

    workdir = (args.workdir or Path("/tmp/skysift-eval") / args.config.stem).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    config = merged_config(args.config, args.set)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    demo = config.get("source", "demo") == "demo"
    targets = ["results/classify/metrics.json"] + (["results/anomaly/evaluation.csv"] if demo else [])
    targets += ["all"] if args.all else []
    seconds = run_workflow(workdir, targets, args.cores)

    truth = pd.read_parquet(args.truth if args.truth else workdir / "results" / "demo" / "truth.parquet")
    evaluation = (
        pd.read_csv(workdir / "results" / "anomaly" / "evaluation.csv")
        if demo
        else external_evaluation(workdir, config, truth, args.cores)
    )
    per_class_anomalies, n_sources = anomalies_in_space(workdir, config, truth)
    metrics = json.loads((workdir / "results" / "classify" / "metrics.json").read_text())
    macro, per_class = classifier_tables(metrics)

    print(f"# {args.config} ({', '.join(args.set) or 'no overrides'})\n")
    print(f"workflow wall time {seconds:.0f} s ({args.cores} cores), workdir {workdir}\n")
    print(f"## anomalies in the search space: {int(per_class_anomalies.sum())} of {n_sources} sources\n")
    print(per_class_anomalies.rename("sources").to_frame().to_markdown(), "\n")
    print("## anomalies found (oracle loop; mean ± std (min-max) over seeds)\n")
    print(anomaly_table(evaluation).to_markdown(), "\n")
    if per_class.empty:
        print(f"## classifier skipped: {metrics.get('reason', 'no cross-validation in metrics.json')}")
    else:
        cv = metrics["cv"]
        print(
            f"## classifier ({metrics['model']}, {cv['n_splits']}-fold CV, {metrics['n_train']} labelled): ",
            end="",
        )
        print(f"macro-F1 {macro:.3f}\n")
        print(per_class.to_markdown(floatfmt=("", ".3f", ".3f", ".3f", ".0f")))
    if args.json:
        args.json.write_text(json.dumps({
            "config": str(args.config), "overrides": args.set, "seconds": seconds, "n_sources": n_sources,
            "anomalies_in_space": per_class_anomalies.to_dict(), "evaluation": evaluation.to_dict(orient="records"),
            "macro_f1": macro, "per_class": per_class.to_dict(orient="index"),
        }, indent=1, default=float))  # fmt: skip


if __name__ == "__main__":
    main()
