"""The per-source classifiers (early SN Ia, kilonova) in the release shape, one function per workflow rule.

Like the main classifier (:mod:`skysift.classify.run`) no job holds the release:

| rule | reads | writes |
|---|---|---|
| ``extract_early_snia_features`` / ``extract_kilonova_features`` (per batch) | one batch's DR files | that batch's per-source features |
| ``train_early_snia`` / ``train_kilonova`` | the labelled sources' rows of every batch (a parquet filter on objectid_g/objectid_r); kilonova: its simulations | model, metrics (card, curves) |
| ``predict_early_snia`` / ``predict_kilonova`` (per batch) | one batch's features, the model | that batch's probabilities |

A sky source never spans batches (a batch is a field; sources are associated within a field), so the
features of a batch are the rows the whole-release computation gives its sources, and a model trained on
the labelled rows is the one trained on every row. The kilonova PCA basis is built once
(:func:`run_kilonova_basis`) and read by every batch and by the training.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from skysift.classify.active import empty_curves, plot_learning_curves, summarise_curves
from skysift.classify.early_snia import (
    empty_early_predictions,
    predict_early_snia,
    source_features,
    train_early_snia,
)
from skysift.classify.kilonova import (
    PCABasis,
    build_basis,
    predict_kilonova,
    read_run_lightcurves,
    run_features,
    train_kilonova,
)
from skysift.classify.labels import LabelSource, cap_labels
from skysift.classify.persist import load_model, model_card, save_model, write_report
from skysift.classify.plots import plot_placeholder
from skysift.classify.settings import EarlySniaSettings, KilonovaSettings
from skysift.classify.skipped import SKIPPED, TRAINED, TooFewLabels, skipped_report
from skysift.clean import read_clean_lightcurves
from skysift.io import InputError, PathLike, atomic_path, write_parquet_df
from skysift.lightcurves import CleanConfig, manifest_files

__all__ = [
    "EarlySniaOutputs",
    "KilonovaOutputs",
    "read_labelled_source_rows",
    "run_early_snia_features",
    "run_early_snia_predictions",
    "run_early_snia_training",
    "run_kilonova_basis",
    "run_kilonova_features",
    "run_kilonova_predictions",
    "run_kilonova_training",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EarlySniaOutputs:
    """Files of :func:`run_early_snia_training` (the train_early_snia rule's outputs)."""

    model: PathLike
    metrics: PathLike
    curves: PathLike
    plot: PathLike


@dataclass(frozen=True)
class KilonovaOutputs:
    """Files of :func:`run_kilonova_training` (the train_kilonova rule's outputs)."""

    model: PathLike
    card: PathLike
    metrics: PathLike


def read_labelled_source_rows(features: Sequence[PathLike], objectids: Sequence[int]) -> pd.DataFrame:
    """The rows of per-batch per-source feature tables whose g or r objectid is in ``objectids``, read with a
    parquet filter (other sources' rows are never in memory), sorted by source_id as one release table is."""
    if not features:
        raise InputError("no per-batch feature tables given (one per batch of the run)")
    ids = pa.array(np.unique(np.asarray(objectids, dtype=np.int64)), type=pa.int64())
    wanted = pc.field("objectid_g").isin(ids) | pc.field("objectid_r").isin(ids)
    tables = [_int64_objectids(pq.read_table(path, filters=wanted)) for path in features]
    rows = pa.concat_tables(tables, promote_options="default").to_pandas()
    rows = rows.sort_values("source_id", kind="stable").reset_index(drop=True)
    logger.info("read %d labelled sources' rows from %d batch file(s)", len(rows), len(tables))
    return rows


def _int64_objectids(table: pa.Table) -> pa.Table:
    """``objectid_g``/``objectid_r`` as (nullable) int64, whatever type a batch file stored them as."""
    for name in ("objectid_g", "objectid_r"):
        i = table.schema.get_field_index(name)
        if i >= 0 and table.schema.field(i).type != pa.int64():
            table = table.set_column(i, name, pc.cast(table.column(i), pa.int64()))
    return table


def run_early_snia_features(
    manifest: PathLike,
    out: PathLike,
    *,
    min_points: int,
    rise_window_days: float | None,
    cuts: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Rise features of every sky source of one batch (its fetch manifest's DR files after the quality cuts
    ``cuts``, the clean section; ``min_points``, ``rise_window_days``: ``classify.early_snia``); writes and
    returns them (see :func:`~skysift.classify.early_snia.source_features`)."""
    table = read_clean_lightcurves(manifest_files([manifest]), dict(cuts or {}))
    features = source_features(table, min_points=min_points, rise_window_days=rise_window_days)
    write_parquet_df(features, out)
    return features


def run_early_snia_training(
    features: Sequence[PathLike],
    labels: LabelSource,
    settings: EarlySniaSettings,
    outputs: EarlySniaOutputs,
    *,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """The early SN Ia classifier trained with active learning on the labelled sources' rows of the
    per-batch feature tables; writes model, metrics, learning curves and their plot. Returns the report
    (``"status": "skipped"`` with too few labels: every output is written anyway)."""
    label_series = cap_labels(labels.read(), settings.max_labelled_rows, seed=settings.seeds[0])
    rows = read_labelled_source_rows(features, label_series.index.to_numpy())
    positive = settings.positive_class
    try:
        model, report, curves = train_early_snia(
            rows, label_series, positive=positive, exclude=settings.exclude_classes,
            n_estimators=settings.n_estimators, n_jobs=n_jobs, **settings.loop(),
        )  # fmt: skip
    except TooFewLabels as exc:
        model, curves = None, empty_curves(positive)
        report = skipped_report(exc, "early SN Ia classifier (train_early_snia)", positive_class=positive)
        plot_placeholder(outputs.plot, "early SN Ia: purity", f"skipped: {exc.reason}")
    else:
        report = {"status": TRAINED, **report}
        plot_learning_curves(
            summarise_curves(curves), outputs.plot, metric="purity", title="early SN Ia: purity"
        )
    # the report inside the model file, with the card's package versions (load_model compares them)
    save_model(model, outputs.model, model_card(model, report) | {"model": "early_snia", **report})
    write_report(report, outputs.metrics)
    with atomic_path(outputs.curves) as tmp:
        curves.to_csv(tmp, index=False)
    return report


def run_early_snia_predictions(
    features: PathLike, model: PathLike, metrics: PathLike, out: PathLike, *, positive: str = "snia"
) -> pd.DataFrame:
    """SN Ia probability of every source of one batch's feature table; an empty table (the columns of
    :func:`~skysift.classify.early_snia.empty_early_predictions`) when the classifier was skipped."""
    if _skipped(metrics):
        logger.info(
            "early SN Ia classifier was not trained (%s): empty predictions for %s", metrics, features
        )
        predictions = empty_early_predictions(positive)
    else:
        predictions = predict_early_snia(load_model(model), pq.read_table(features).to_pandas(), positive)
    write_parquet_df(predictions, out)
    return predictions


def run_kilonova_basis(out: PathLike, *, n_basis: int, n_components: int, seed: int) -> PCABasis:
    """The kilonova PCA basis (deterministic from ``classify.kilonova`` n_basis, n_components and seed) as
    JSON, built once for every batch's features and the training."""
    basis = build_basis(n_basis, n_components, seed)
    write_report(basis.to_dict(), out)
    return basis


def read_basis(path: PathLike) -> PCABasis:
    """The basis written by :func:`run_kilonova_basis`."""
    with open(path, encoding="utf-8") as fh:
        return PCABasis.from_dict(json.load(fh))


def run_kilonova_features(
    manifest: PathLike, basis: PathLike, clean: CleanConfig, out: PathLike, *, min_points: int
) -> pd.DataFrame:
    """Kilonova features of every sky source of one batch (its fetch manifest's DR files with the ``clean``
    cuts, one good epoch is enough; see :func:`~skysift.classify.kilonova.run_features`) on the basis
    written by :func:`run_kilonova_basis`."""
    lightcurves = read_run_lightcurves([manifest], clean, min_epochs=1)
    features = run_features(lightcurves, read_basis(basis), min_points=min_points)
    write_parquet_df(features, out)
    return features


def run_kilonova_training(
    features: Sequence[PathLike],
    basis: PathLike,
    labels: LabelSource,
    settings: KilonovaSettings,
    outputs: KilonovaOutputs,
    *,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """The kilonova classifier: trained on light curves simulated at run time, scored on held-out simulations
    and, with enough labelled kilonovae, on the run's labelled sources (only their rows of the per-batch
    feature tables are read). Writes model, card and metrics; returns the report."""
    label_series = labels.read()
    rows = read_labelled_source_rows(features, label_series.index.to_numpy())
    model, pca, report = train_kilonova(
        rows, label_series, basis=read_basis(basis), n_jobs=n_jobs, **dataclasses.asdict(settings)
    )
    report = {"status": TRAINED, **report}
    card = model_card(model, report) | {
        "metrics": {
            "held_out_simulations": report["held_out_simulations"],
            "run_labels": report["run_labels"],
        },
        "pca_basis": pca.to_dict(),
    }
    save_model(model, outputs.model, card)
    write_report(card, outputs.card)
    write_report(report, outputs.metrics)
    return report


def run_kilonova_predictions(
    features: PathLike, model: PathLike, metrics: PathLike, out: PathLike
) -> pd.DataFrame:
    """Kilonova probability of every source of one batch's feature table (empty if the model was skipped)."""
    table = pq.read_table(features).to_pandas()
    if _skipped(metrics):
        logger.info("kilonova classifier was not trained (%s): empty predictions for %s", metrics, features)
        predictions = predict_kilonova(_NoModel(), table.iloc[:0])
    else:
        predictions = predict_kilonova(load_model(model), table)
    write_parquet_df(predictions, out)
    return predictions


class _NoModel:
    """Stands in for a skipped kilonova model: no feature names (predict_kilonova of no rows needs none)."""

    feature_names_in_: tuple[str, ...] = ()


def _skipped(metrics: PathLike) -> bool:
    """Whether a stage's metrics.json says it was skipped."""
    with open(metrics, encoding="utf-8") as fh:
        return json.load(fh).get("status") == SKIPPED
