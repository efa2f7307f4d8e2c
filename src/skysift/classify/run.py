"""The supervised stages end to end, from input paths and typed settings to every output file.

One function per workflow rule (the scripts in workflow/scripts/ only unpack Snakemake's objects):
:func:`run_training` (train_classifier: labelled objects only), :func:`run_predictions` (predict_classes:
one batch per job) and :func:`run_learning_curves` (run_active_learning: labelled objects only); the early
SN Ia and kilonova classifiers' stages are in :mod:`skysift.classify.run_sources`. A stage with
too few labels writes every output anyway, with a "skipped" metrics.json (see
:mod:`skysift.classify.skipped`), so a run without labels still finishes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from skysift.classify.active import (
    active_learning_inputs,
    empty_curves,
    plot_learning_curves,
    run_active_learning,
    summarise_curves,
)
from skysift.classify.inputs import read_labelled_features, read_labelled_sources
from skysift.classify.labels import LabelSource, cap_labels
from skysift.classify.model import empty_predictions, predict_classes, train_classifier
from skysift.classify.persist import load_model, model_card, save_model, write_report
from skysift.classify.plots import (
    plot_confusion_matrix,
    plot_placeholder,
    plot_reliability,
    plot_representativeness,
    write_per_class_table,
)
from skysift.classify.representative import disabled_block, read_unlabelled_sample, representativeness
from skysift.classify.settings import (
    ActiveLearningSettings,
    ClassifierSettings,
    RepresentativenessSettings,
)
from skysift.classify.skipped import SKIPPED, TRAINED, TooFewLabels, skipped_report
from skysift.features.per_source import source_members, source_table
from skysift.io import PathLike, atomic_path, write_parquet_df

__all__ = [
    "LearningCurveOutputs",
    "TrainingOutputs",
    "run_learning_curves",
    "run_predictions",
    "run_training",
    "check_representativeness",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingOutputs:
    """Files of :func:`run_training` (the names of the train_classifier rule's outputs)."""

    model: PathLike
    card: PathLike
    metrics: PathLike
    per_class: PathLike
    per_class_csv: PathLike
    confusion: PathLike
    reliability: PathLike
    representativeness: PathLike | None = None  # the figure of check_representativeness


@dataclass(frozen=True)
class LearningCurveOutputs:
    """Files of :func:`run_learning_curves`: every run's curve, the summary over seeds, its plot, the status."""

    curves: PathLike
    summary: PathLike
    plot: PathLike
    metrics: PathLike


def run_training(
    features: Sequence[PathLike],
    labels: LabelSource,
    settings: ClassifierSettings,
    outputs: TrainingOutputs,
    *,
    representative: RepresentativenessSettings | None = None,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Train the classifier on the labelled objects of the feature tables (only their rows are read);
    write model, card, metrics, per-class tables and figures. Returns the metrics report.

    The report of a trained classifier has a ``representativeness`` block: with ``representative``
    enabled, it compares the labelled rows with a sample of the unlabelled ones
    (:func:`check_representativeness`; its figure goes to ``outputs.representativeness``).
    Prediction is :func:`run_predictions`, one batch per job.
    """
    params = dataclasses.asdict(settings)
    unit = params.pop("unit")
    max_rows = params.pop("max_train_rows")
    all_labels = labels.read()
    label_series = cap_labels(all_labels, max_rows, seed=settings.random_state)
    band_rows = read_labelled_features(features, label_series.index.to_numpy())
    if unit == "source":
        features_df, train_labels = read_labelled_sources(features, band_rows, label_series)
    else:
        features_df, train_labels = band_rows, label_series
    try:
        model, report = train_classifier(features_df, train_labels, n_jobs=n_jobs, **params)
        report = {"status": TRAINED, "unit": unit, **report}
        report["training_labels"] = {
            "labelled": int(all_labels.notna().sum()),
            "used": len(label_series),
            "max_train_rows": max_rows,
        }
    except TooFewLabels as exc:
        model, report = None, skipped_report(exc, "classifier (train_classifier)", model=settings.model)
    if report["status"] == TRAINED:
        # compared per band in both units: the unlabelled sample is per-band rows
        labelled = band_rows[band_rows["objectid"].isin(label_series.dropna().index)]
        report["representativeness"] = check_representativeness(
            features, labelled, representative, outputs.representativeness,
            seed=settings.random_state, cv_folds=settings.cv_folds,
        )  # fmt: skip
    elif outputs.representativeness is not None:
        plot_placeholder(
            outputs.representativeness, "representativeness of the labels", f"skipped: {report['reason']}"
        )
    card = model_card(model, report)
    _save_model_card_report(model, card, report, outputs)
    write_per_class_table(report, outputs.per_class)
    write_per_class_table(report, outputs.per_class_csv)
    plot_confusion_matrix(report, outputs.confusion)
    plot_reliability(report, outputs.reliability)
    return report


def check_representativeness(
    features: Sequence[PathLike],
    labelled: pd.DataFrame,
    settings: RepresentativenessSettings | None,
    figure: PathLike | None,
    *,
    seed: int,
    cv_folds: int,
) -> dict[str, Any]:
    """The ``representativeness`` block of the classifier's metrics: ``labelled`` (feature rows of the
    labelled objects; a seeded sample of ``settings.sample_size`` of them when there are more) against a
    seeded, batch-stratified sample of the unlabelled rows of ``features`` (see
    :mod:`skysift.classify.representative`); the figure is written to ``figure`` when given."""
    if settings is None or not settings.enabled:
        block = disabled_block("classify.representativeness.enabled is false")
    else:
        sample, meta = read_unlabelled_sample(
            features, labelled["objectid"].to_numpy(), sample_size=settings.sample_size, seed=seed
        )
        if len(labelled) > settings.sample_size:
            meta["labelled_rows"] = len(labelled)
            labelled = labelled.sample(n=settings.sample_size, random_state=seed).sort_index()
        if meta["unlabelled_rows"] == 0:
            block = disabled_block(
                "every object is labelled (e.g. classify.labels: truth): nothing to compare"
            )
            block["sample"] = meta
        elif len(labelled) < 2 or len(sample) < 2:
            block = disabled_block(
                f"{len(labelled)} labelled and {len(sample)} unlabelled rows; needs >= 2 each"
            )
            block["sample"] = meta
        else:
            block, shifts = representativeness(
                labelled, sample, auc_warn=settings.auc_warn, seed=seed, cv_folds=cv_folds, sample=meta
            )
            if figure is not None:
                plot_representativeness(block, shifts, labelled, sample, figure)
            return block
    if figure is not None:
        plot_placeholder(figure, "representativeness of the labels", f"not tested: {block['skipped']}")
    return block


def run_predictions(features: PathLike, model: PathLike, metrics: PathLike, out: PathLike) -> pd.DataFrame:
    """Class probabilities of every object of one batch's feature table with the saved classifier.

    A per-source classifier (``"unit": "source"`` in ``metrics``) classifies the batch's sources and
    gives every member objectid its source's probabilities (and a ``source_id`` column).

    A skipped classifier (``"status": "skipped"`` in ``metrics``) gives an empty table with the
    columns of :func:`~skysift.classify.model.empty_predictions`, so every batch has its file.
    """
    with open(metrics, encoding="utf-8") as fh:
        report = json.load(fh)
    if report.get("status") == SKIPPED:
        logger.info("classifier was not trained (%s): empty predictions for %s", metrics, features)
        predictions = empty_predictions()
    elif report.get("unit") == "source":
        features_df = pq.read_table(features).to_pandas()
        table = source_table(features_df)
        per_source = predict_classes(load_model(model, table), table).set_index("objectid")
        members = source_members(features_df)
        predictions = per_source.reindex(members.to_numpy()).reset_index(drop=True)
        predictions.insert(0, "objectid", members.index.to_numpy(np.int64))
        predictions.insert(1, "source_id", members.to_numpy(np.int64))
    else:
        features_df = pq.read_table(features).to_pandas()
        predictions = predict_classes(load_model(model, features_df), features_df)
    write_parquet_df(predictions, out)
    return predictions


def run_learning_curves(
    features: Sequence[PathLike],
    labels: LabelSource,
    settings: ActiveLearningSettings,
    outputs: LearningCurveOutputs,
    *,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Active-learning curves of every strategy and seed on the labelled objects (only their rows of the
    feature tables are read); write the curves, their summary over seeds, the plot of ``settings.metric``
    and a status report (returned)."""
    all_labels = labels.read()
    label_series = cap_labels(all_labels, settings.max_labelled_rows, seed=settings.seeds[0])
    X, y, make_model = active_learning_inputs(
        read_labelled_features(features, label_series.index.to_numpy()), label_series,
        model=settings.model, n_estimators=settings.n_estimators, n_jobs=n_jobs,
    )  # fmt: skip
    try:
        curves = run_active_learning(X, y, make_model, **settings.loop())
    except TooFewLabels as exc:
        report = skipped_report(exc, "active learning (run_active_learning)")
        curves = empty_curves()
        summary = summarise_curves(curves)
        plot_placeholder(outputs.plot, "active learning", f"skipped: {exc.reason}")
    else:
        summary = summarise_curves(curves)
        at_budget = summary[summary["n_labels"] == summary.groupby("strategy")["n_labels"].transform("max")]
        report = {
            "status": TRAINED,
            "n_labels": int(y.size),
            "labelled": int(all_labels.notna().sum()),
            "class_counts": {str(k): int(v) for k, v in pd.Series(y).value_counts().sort_index().items()},
            "params": dataclasses.asdict(settings),
            "at_budget": at_budget.set_index("strategy").to_dict(orient="index"),
        }
        plot_learning_curves(summary, outputs.plot, metric=settings.metric)
    _write_csv(curves, outputs.curves)
    _write_csv(summary, outputs.summary)
    write_report(report, outputs.metrics)
    return report


def _save_model_card_report(model: object, card: dict, report: dict, outputs: TrainingOutputs) -> None:
    """The model (its card inside), the card as JSON beside it, and the metrics report."""
    save_model(model, outputs.model, card)
    write_report(card, outputs.card)
    write_report(report, outputs.metrics)


def _write_csv(frame: pd.DataFrame, path: PathLike) -> None:
    """Write a table as CSV atomically, without the index."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
