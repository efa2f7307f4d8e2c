"""A finished run's anomaly outputs made with the library's three rule functions (fit, score per batch,
rank) and the session file, laid out as the workflow lays them out: what `skysift label` and the evaluation read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from skysift.anomaly import (
    FitSettings,
    RankSettings,
    run_describe_label_session,
    run_fit_anomaly_model,
    run_rank_anomalies,
    run_score_anomalies,
)
from skysift.config import default_config


def anomaly_section(**overrides) -> dict:
    """The schema's ``anomaly`` defaults with ``overrides``."""
    return {**default_config()["anomaly"], **overrides}


def model_files(results: Path, methods: Sequence[str]) -> list[tuple[Path, Path]]:
    """(npz, json) of every method's saved model, where the workflow writes them."""
    return [
        (results / "anomaly/model" / f"{m}.npz", results / "anomaly/model" / f"{m}.json") for m in methods
    ]


def make_run(
    results: Path,
    batches: Mapping[str, pd.DataFrame],
    section: Mapping,
    *,
    label_files: Sequence[str | Path] = (),
    crossmatch: Sequence[str | Path] = (),
) -> dict[str, pd.DataFrame]:
    """Write ``batches`` (name -> features) to results/features/, then fit, score and rank as the rules do.

    Returns method -> its top-K table.
    """
    features = []
    for name, df in batches.items():
        path = results / "features" / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(path)
        features.append(path)
    fit = FitSettings.from_config(section)
    models = model_files(results, fit.methods)
    model_dir = results / "anomaly/model"
    run_fit_anomaly_model(features, fit, models=models, sample=(model_dir / "sample.npz", model_dir / "sample.json"),
                          labels=model_dir / "labels.parquet", label_files=label_files, crossmatch=crossmatch)  # fmt: skip
    per_batch: dict[str, list[Path]] = {m: [] for m in fit.methods}
    for path in features:
        outputs = [results / "anomaly/scores" / m / path.name for m in fit.methods]
        run_score_anomalies(path, models, model_dir / "labels.parquet", outputs)
        for method, out in zip(fit.methods, outputs, strict=True):
            per_batch[method].append(out)
    rank = RankSettings.from_config(section)
    ranked = [results / "anomaly/ranked" / f"{m}.parquet" for m in rank.methods]
    top = run_rank_anomalies(
        per_batch,
        rank,
        scores=results / "anomaly/scores.parquet",
        ranked=ranked,
        top=[results / "anomaly/ranked" / f"{m}.csv" for m in rank.methods],
    )
    # the session file of rule describe_label_session (what `skysift label --session` reads)
    run_describe_label_session(
        fit.methods,
        models=[p for pair in models for p in pair],
        sample=(model_dir / "sample.npz", model_dir / "sample.json"),
        ranked=ranked,
        features=features,
        crossmatch=[results / "crossmatch" / path.name for path in features],
        lightcurve_dir=results / "candidates" / "lightcurves",
        output=results / "anomaly" / "session.json",
    )
    return top
