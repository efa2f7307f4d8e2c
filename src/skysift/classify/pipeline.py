"""Classifier pipelines: the model registry, probability calibration, hierarchy, and small-class policy.

A model is a scikit-learn :class:`~sklearn.pipeline.Pipeline` of a median imputer (the NaN
policy of :mod:`skysift.features.table`) and a classifier chosen by name from :data:`MODELS`
(config ``classify.model``), optionally calibrated and/or made hierarchical.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from imblearn.ensemble import BalancedRandomForestClassifier
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from skysift.classify.hierarchy import DEFAULT_GROUPS, HierarchicalClassifier, group_of

__all__ = [
    "MODELS",
    "CALIBRATIONS",
    "SMALL_CLASS_POLICIES",
    "build_pipeline",
    "merge_small_classes",
]

logger = logging.getLogger(__name__)


def _balanced_random_forest(n_estimators: int, random_state: int | None, n_jobs: int) -> ClassifierMixin:
    """Random forest where every tree sees a class-balanced random undersample (imbalanced-learn)."""
    # The sampling options are set explicitly: their defaults changed across imblearn releases.
    return BalancedRandomForestClassifier(
        n_estimators=n_estimators,
        sampling_strategy="all",
        replacement=True,
        bootstrap=False,
        random_state=random_state,
        n_jobs=n_jobs,
    )


def _random_forest(n_estimators: int, random_state: int | None, n_jobs: int) -> ClassifierMixin:
    """Plain scikit-learn random forest: the unbalanced baseline."""
    return RandomForestClassifier(n_estimators=n_estimators, random_state=random_state, n_jobs=n_jobs)


def _hist_gradient_boosting(n_estimators: int, random_state: int | None, n_jobs: int) -> ClassifierMixin:
    """Histogram gradient boosting with class weights inversely proportional to class frequencies."""
    # n_estimators = boosting iterations; early stopping on a 10 % validation split for large sets.
    return HistGradientBoostingClassifier(
        max_iter=n_estimators, class_weight="balanced", early_stopping="auto", random_state=random_state
    )


#: Classifier name (config key ``classify.model``) -> factory(n_estimators, random_state, n_jobs).
MODELS: dict[str, Callable[[int, int | None, int], ClassifierMixin]] = {
    "balanced_random_forest": _balanced_random_forest,
    "random_forest": _random_forest,
    "hist_gradient_boosting": _hist_gradient_boosting,
}

#: Probability calibration (config key ``classify.calibration``): none, or a CalibratedClassifierCV method.
CALIBRATIONS: tuple[str, ...] = ("none", "sigmoid", "isotonic")

#: Internal folds of CalibratedClassifierCV.
CALIBRATION_FOLDS = 3


#: What happens to a class below ``min_class_count`` (config ``classify.small_classes``).
SMALL_CLASS_POLICIES: tuple[str, ...] = ("drop", "merge")


def merge_small_classes(
    y: np.ndarray,
    min_class_count: int,
    policy: str = "drop",
    merge_classes: Mapping[str, str] | None = None,
    groups: Mapping[str, tuple[str, ...]] = DEFAULT_GROUPS,
) -> tuple[np.ndarray, dict[str, str], dict[str, int]]:
    """Apply ``merge_classes`` renames, then merge or drop the classes below ``min_class_count``.

    With ``policy="merge"`` a small class becomes its hierarchy group (``transient``,
    ``stochastic``, ``periodic``, ``other``; see :mod:`skysift.classify.hierarchy`), so rare
    transients are learnt together; a merged class still below the minimum is dropped. Returns
    the new labels, {class: merged into} and {dropped class: count}; every change is logged.
    """
    if policy not in SMALL_CLASS_POLICIES:
        raise ValueError(f"classify.small_classes = {policy!r} is not one of {list(SMALL_CLASS_POLICIES)}")
    y = np.asarray(y, dtype=object).astype(str)
    merged: dict[str, str] = {}
    for src, dst in (merge_classes or {}).items():
        hit = y == str(src)
        if hit.any():
            logger.info(
                "merging class %r (%d objects) into %r (classify.merge_classes)", src, int(hit.sum()), dst
            )
            merged[str(src)] = str(dst)
            y = np.where(hit, str(dst), y)
    counts = pd.Series(y).value_counts()
    small = sorted(str(c) for c, n in counts.items() if n < min_class_count)
    if policy == "merge" and small:
        target = dict(zip(small, group_of(np.array(small, dtype=object), groups), strict=True))
        for src, dst in target.items():
            if src == dst:
                continue
            logger.warning(
                "merging class %r (%d labelled object(s) < min_class_count=%d) into its group %r",
                src,
                int(counts[src]),
                min_class_count,
                dst,
            )
            merged[src] = dst
            y = np.where(y == src, dst, y)
        counts = pd.Series(y).value_counts()
    dropped = {str(c): int(n) for c, n in counts.sort_index().items() if n < min_class_count}
    for name, count in dropped.items():
        logger.warning(
            "dropping class %r: %d labelled object(s) < min_class_count=%d", name, count, min_class_count
        )
    if merged or dropped:
        logger.info("class counts after merging/dropping: %s", {
            str(c): int(n) for c, n in counts.sort_index().items() if str(c) not in dropped
        })  # fmt: skip
    return y, merged, dropped


def build_pipeline(
    model: str = "balanced_random_forest",
    *,
    n_estimators: int = 300,
    random_state: int | None = 0,
    n_jobs: int = 1,
    hierarchical: bool = False,
    calibration: str = "none",
) -> Pipeline:
    """Unfitted pipeline: median imputation (kept for all-NaN features) then the named classifier.

    ``calibration`` wraps the classifier (every node of a hierarchical one) in a
    :class:`~sklearn.calibration.CalibratedClassifierCV` (sigmoid or isotonic, 3 internal folds);
    ``hierarchical`` makes it a :class:`~skysift.classify.hierarchy.HierarchicalClassifier`.
    """
    if model not in MODELS:
        raise ValueError(f"classify.model = {model!r} is not one of {sorted(MODELS)}")
    if calibration not in CALIBRATIONS:
        raise ValueError(f"classify.calibration = {calibration!r} is not one of {list(CALIBRATIONS)}")
    clf = MODELS[model](n_estimators, random_state, n_jobs)
    if calibration != "none":
        clf = CalibratedClassifierCV(clf, method=calibration, cv=CALIBRATION_FOLDS)
    if hierarchical:
        clf = HierarchicalClassifier(clf)
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("classify", clf),
        ]
    )
