"""Train light-curve classifiers with cross-validated per-class metrics, and predict every object.

A model is a pipeline of :mod:`skysift.classify.pipeline`. It is fitted on a DataFrame, so
it remembers its feature names (``model.feature_names_in_``) and prediction selects those
columns by name, whatever the column order or extra columns of a later features table.
Too few labels to train raise :class:`~skysift.classify.skipped.TooFewLabels`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from skysift.classify.persist import data_hash
from skysift.classify.pipeline import MODELS, build_pipeline, merge_small_classes
from skysift.classify.skipped import TooFewLabels
from skysift.crossmatch.best import clean_labels
from skysift.features.table import FeaturesLike, as_features_frame, features_matrix, nan_fractions
from skysift.io import InputError

__all__ = [
    "train_classifier",
    "cross_validate",
    "reliability",
    "predict_classes",
    "empty_predictions",
]

logger = logging.getLogger(__name__)


def train_classifier(
    features_df: FeaturesLike,
    labels: pd.Series,
    *,
    model: str = "balanced_random_forest",
    n_estimators: int = 300,
    min_class_count: int = 5,
    cv_folds: int = 5,
    random_state: int | None = 0,
    n_jobs: int = 1,
    hierarchical: bool = False,
    calibration: str = "none",
    small_classes: str = "drop",
    merge_classes: Mapping[str, str] | None = None,
) -> tuple[Pipeline, dict[str, Any]]:
    """Fit a classifier on the labelled objects; return it and a JSON-ready metrics report.

    ``labels`` maps objectid -> class (e.g. :func:`~skysift.classify.labels_from_crossmatch`);
    objects without a label are not trained on. ``merge_classes`` (class -> class) renames
    labels first; then classes with fewer than ``min_class_count`` labelled objects are dropped
    or, with ``small_classes="merge"``, merged into their hierarchy group (see
    :func:`merge_small_classes`); counts before/after, merges and drops are logged and
    reported (``class_counts_before``, ``merged_classes``, ``dropped_classes``). Metrics
    come from stratified k-fold cross-validation (see :func:`cross_validate`); the returned
    model is then refitted on all kept labelled objects.
    """
    if model not in MODELS:
        raise ValueError(f"classify.model = {model!r} is not one of {sorted(MODELS)}")
    df = as_features_frame(features_df)
    if labels.index.has_duplicates:
        raise InputError("labels have duplicated objectids; give one label per objectid")
    clean = clean_labels(labels)
    clean = clean[clean.notna()]
    try:
        clean.index = clean.index.astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"labels must be indexed by integer objectid: {exc}") from exc
    aligned = clean.reindex(df["objectid"].to_numpy())
    labelled = aligned.notna().to_numpy()
    n_orphans = int((~clean.index.isin(df["objectid"])).sum())
    if n_orphans:
        logger.info("%d labelled objectid(s) are not in the features table and are ignored", n_orphans)

    y_all = aligned.to_numpy(dtype=object)[labelled].astype(str)
    counts_before = {str(k): int(v) for k, v in pd.Series(y_all).value_counts().sort_index().items()}
    y_all, merged, dropped = merge_small_classes(y_all, min_class_count, small_classes, merge_classes)
    counts_all = pd.Series(y_all).value_counts().sort_index()
    keep = labelled.copy()
    keep[labelled] = ~np.isin(y_all, list(dropped))
    y = y_all[~np.isin(y_all, list(dropped))]
    classes = sorted(set(y.tolist()))
    if len(classes) < 2:
        counts_text = {str(k): int(v) for k, v in counts_all.items()} or "none"
        raise TooFewLabels(
            f"{int(labelled.sum())} labelled objects (classes {counts_text}), needs at least 2 classes "
            f"with >= {min_class_count} labelled objects each (classify.min_class_count)",
            n_labels=int(labelled.sum()),
            needs=2 * min_class_count,
        )

    X, names = features_matrix(df.loc[keep])
    nan_frac = nan_fractions(X, names)
    X_df = pd.DataFrame(X, columns=names)
    counts = {c: int((y == c).sum()) for c in classes}
    logger.info("training %s on %d objects, %d features, classes %s", model, len(y), len(names), counts)

    pipeline = build_pipeline(
        model,
        n_estimators=n_estimators,
        random_state=random_state,
        n_jobs=n_jobs,
        hierarchical=hierarchical,
        calibration=calibration,
    )
    cv = cross_validate(pipeline, X_df, y, classes, cv_folds=cv_folds, random_state=random_state)
    pipeline.fit(X_df, y)

    importances = getattr(pipeline.named_steps["classify"], "feature_importances_", None)
    report: dict[str, Any] = {
        "model": model,
        "params": {
            "n_estimators": n_estimators,
            "min_class_count": min_class_count,
            "cv_folds": cv_folds,
            "random_state": random_state,
            "hierarchical": hierarchical,
            "calibration": calibration,
            "small_classes": small_classes,
            "merge_classes": dict(merge_classes or {}),
        },
        "n_objects": len(df),
        "n_labelled": int(labelled.sum()),
        "n_train": len(y),
        "classes": classes,
        "class_counts_before": counts_before,
        "class_counts": counts,
        "merged_classes": merged,
        "dropped_classes": dropped,
        "features": names,
        "nan_fraction": nan_frac,
        "nan_policy": "median imputation per feature learned at fit time; all-NaN features imputed with 0",
        "feature_importance": (
            dict(sorted(zip(names, map(float, importances), strict=True), key=lambda kv: -kv[1]))
            if importances is not None
            else None
        ),
        "cv": cv,
        "data_hash": data_hash(X, y, names),
    }
    return pipeline, report


def cross_validate(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: np.ndarray,
    classes: list[str],
    *,
    cv_folds: int = 5,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Stratified k-fold CV metrics: per-class and macro precision/recall/F1 and the confusion matrix.

    The number of folds is reduced to the smallest class count when needed (at least 2);
    when even 2 folds are impossible, or ``cv_folds < 2``, the result says why CV was skipped.
    The confusion matrix has true classes as rows and predicted classes as columns, both in
    ``labels`` order.
    """
    min_count = min(int((y == c).sum()) for c in classes)
    if cv_folds < 2:
        reason = f"cross-validation disabled (cv_folds={cv_folds} < 2)"
        logger.warning(reason)
        return {"skipped": reason}
    n_splits = min(cv_folds, min_count)
    if n_splits < 2:
        reason = f"cross-validation impossible: the smallest class has {min_count} object(s), need >= 2"
        logger.warning(reason)
        return {"skipped": reason}
    if n_splits < cv_folds:
        logger.warning(
            "reducing CV folds from %d to %d (smallest class has %d)", cv_folds, n_splits, min_count
        )

    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    # Folds by hand (not cross_val_predict, which integer-encodes the labels): the hierarchical
    # model needs the class names, and a fold's model may lack a class (its column stays 0).
    proba = np.zeros((len(y), len(classes)))
    column = {c: j for j, c in enumerate(classes)}
    for train, test in folds.split(X, y):
        fitted = clone(pipeline).fit(X.iloc[train], y[train])
        cols = [column[str(c)] for c in fitted.classes_]
        proba[np.ix_(test, cols)] = fitted.predict_proba(X.iloc[test])
    y_pred = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)].astype(str)

    precision, recall, f1, support = precision_recall_fscore_support(
        y, y_pred, labels=classes, zero_division=0
    )
    per_class = {
        c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
    }
    macro = {"precision": float(precision.mean()), "recall": float(recall.mean()), "f1": float(f1.mean())}
    matrix = confusion_matrix(y, y_pred, labels=classes)
    result = {
        "n_splits": n_splits,
        "per_class": per_class,
        "macro": macro,
        "accuracy": float(np.mean(y == y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y, y_pred)),
        "confusion_matrix": {
            "labels": list(classes),
            "rows": "true",
            "columns": "predicted",
            "matrix": matrix.astype(int).tolist(),
        },
        "reliability": reliability(proba, y, classes),
    }
    logger.info(
        "CV (%d folds): macro precision %.3f recall %.3f F1 %.3f",
        n_splits,
        macro["precision"],
        macro["recall"],
        macro["f1"],
    )
    return result


def reliability(proba: np.ndarray, y: np.ndarray, classes: list[str], n_bins: int = 10) -> dict[str, Any]:
    """Top-label reliability: per confidence bin the mean confidence, accuracy and count; ECE and Brier score.

    The confidence of an object is its highest class probability; the bin's accuracy is the
    fraction of its objects whose most probable class is the true class. ECE is the
    count-weighted mean |accuracy - confidence|; the Brier score is the multi-class one
    (mean squared distance between the probability vector and the one-hot truth).
    """
    y = np.asarray(y).astype(str)
    confidence = proba.max(axis=1)
    correct = np.asarray(classes, dtype=object)[proba.argmax(axis=1)] == y
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, n_bins - 1)
    bins = []
    ece = 0.0
    for b in range(n_bins):
        sel = which == b
        count = int(sel.sum())
        conf = float(confidence[sel].mean()) if count else None
        acc = float(correct[sel].mean()) if count else None
        if count:
            ece += count / len(y) * abs(acc - conf)
        bins.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "confidence": conf,
                "accuracy": acc,
                "count": count,
            }
        )
    onehot = (y[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(float)
    brier = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    return {"bins": bins, "ece": float(ece), "brier": brier}


def predict_classes(model: Pipeline, features_df: FeaturesLike) -> pd.DataFrame:
    """Class probabilities for every object: objectid, predicted_class, max_probability, prob_<class>.

    ``predicted_class`` is the class of highest probability (ties: the first in class order),
    so it is always consistent with ``max_probability``.
    """
    df = as_features_frame(features_df)
    names = getattr(model, "feature_names_in_", None)
    X, names = features_matrix(df, None if names is None else list(names))
    classes = [str(c) for c in model.classes_]
    out = pd.DataFrame({"objectid": df["objectid"].to_numpy(dtype=np.int64)})
    if len(df):
        proba = model.predict_proba(pd.DataFrame(X, columns=names))
        best = np.argmax(proba, axis=1)
        out["predicted_class"] = pd.array(np.asarray(classes, dtype=object)[best], dtype="string")
        out["max_probability"] = proba[np.arange(len(df)), best].astype(np.float64)
    else:
        proba = np.empty((0, len(classes)))
        out["predicted_class"] = pd.array([], dtype="string")
        out["max_probability"] = np.empty(0, dtype=np.float64)
    for j, c in enumerate(classes):
        out[f"prob_{c}"] = proba[:, j].astype(np.float64)
    logger.info("predicted %d objects over %d classes", len(out), len(classes))
    return out


def empty_predictions() -> pd.DataFrame:
    """A predictions table without rows (what a skipped classifier writes): objectid, predicted_class,
    max_probability and no ``prob_<class>`` columns."""
    return pd.DataFrame(
        {
            "objectid": np.empty(0, dtype=np.int64),
            "predicted_class": pd.array([], dtype="string"),
            "max_probability": np.empty(0, dtype=np.float64),
        }
    )
