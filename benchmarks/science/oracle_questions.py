"""What an active method asks about: one oracle loop on a finished demo run, question by question.

    PYTHONPATH=src .venv/bin/python benchmarks/science/oracle_questions.py RUN_DIR [--method aad] \
        [--seed 0] [--budget 100] [--set aad_prior_influence=1.0 --set aad_budget=0.03] [--free-answers]

RUN_DIR is a workdir of ``benchmarks/science/evaluate.py`` (or any demo run with the anomaly stage done):
its config.yaml, feature tables, saved models, top-K tables, cross-match and demo truth. The loop is the
``evaluate_anomalies`` rule's (:func:`skysift.anomaly.run_loop` over the pool of the method's top-K), with
``anomaly`` keys overridden by ``--set`` (detector settings: they change the refits, not the saved
forest). Prints how many anomalous sources the pool holds (the ceiling of any active method), then the
true class of every source asked about, and the count per class: where a method spends its questions.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from coniferest.label import Label

from skysift.anomaly import AnomalySettings, run_loop, source_labels
from skysift.anomaly.evaluate import anomalous_sources
from skysift.anomaly.free import free_answers
from skysift.anomaly.pool import load_pool, seed_search
from skysift.anomaly.store import load_model, load_sample
from skysift.config import SCHEMA_PATH, validate_config


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path)
    parser.add_argument("--method", default="aad")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="an anomaly key")
    parser.add_argument("--free-answers", action="store_true", help="start from the catalog's free answers")
    args = parser.parse_args()

    config = yaml.safe_load((args.run / "config.yaml").read_text())
    for item in args.set:
        key, _, value = item.partition("=")
        config["anomaly"][key] = yaml.safe_load(value)
    if args.free_answers:
        config["anomaly"].setdefault("free_answers", {})["enabled"] = True
    settings = AnomalySettings.from_config(validate_config(config, SCHEMA_PATH)["anomaly"]).oracle
    results = args.run / "results"
    features = sorted((results / "features").glob("*.parquet"))
    truth = pd.read_parquet(results / "demo" / "truth.parquet")
    model_dir = results / "anomaly" / "model"
    model = load_model(model_dir / f"{args.method}.npz", model_dir / f"{args.method}.json")
    sample = load_sample(
        model_dir / "sample.npz", model_dir / "sample.json", preprocessors=model.preprocessors
    )
    free = None
    if settings.free_answers.enabled:
        free = free_answers(sorted((results / "crossmatch").glob("*.parquet")), settings.free_answers)
    labelled = np.empty(0, np.int64) if free is None else free["objectid"].to_numpy(np.int64)
    ranked = pd.read_parquet(results / "anomaly" / "ranked" / f"{args.method}.parquet")
    pool = load_pool(ranked, features, model, pool_size=settings.pool_size, labelled=labelled)
    search = seed_search(pool, sample, args.method, settings.detectors, seed=args.seed, n_jobs=2)
    odd = anomalous_sources(search.space, truth, settings.anomaly_classes)
    classes = truth.set_index("objectid")["class"].reindex(search.space.objectid).to_numpy()
    source_class = pd.Series(classes, index=search.space.source_id).groupby(level=0).first()
    known = (
        None
        if free is None
        else source_labels(search.space, free[free["objectid"].isin(search.space.objectid)])
    )
    print(f"pool: {len(search.sources)} sources, {len(odd)} of them anomalous; "
          f"{0 if known is None else len(known)} free answers")  # fmt: skip
    asked: list[str] = []

    def oracle(source: int, _scores: np.ndarray) -> Label:
        asked.append(str(source_class.get(source, "?")))
        return Label.ANOMALY if source in odd else Label.REGULAR

    start = time.perf_counter()
    run_loop(search, oracle, budget=args.budget, known=known, pool_size=settings.pool_size)
    print(f"{args.method} seed {args.seed}: {sum(c in settings.anomaly_classes for c in asked)} anomalies "
          f"in {len(asked)} questions ({time.perf_counter() - start:.0f} s)")  # fmt: skip
    print(" ".join(asked))
    print(pd.Series(asked).value_counts().to_string())


if __name__ == "__main__":
    main()
