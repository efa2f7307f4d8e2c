"""Anomaly forests behind one interface, with scores converted to HIGHER = MORE ANOMALOUS.

Sign convention. coniferest's ``IsolationForest.score_samples`` (read from coniferest 0.2
``evaluator.py``) returns ``-2 ** (-E[h(x)] / c(n))``: minus the anomaly score
``s(x, n)`` of Liu, Ting & Zhou (2008), with ``E[h(x)]`` the mean path length and ``c(n)``
the average path length of a tree grown on ``n`` subsamples. scikit-learn's
``IsolationForest.score_samples`` is the same quantity. Both are in ``[-1, 0)`` with LOWER
meaning MORE anomalous. skysift publishes ``anomaly_score = -score_samples = s(x, n)``, in
``(0, 1]``: ~0.5 for ordinary objects, towards 1 for isolated ones, so that sorting
descending puts anomalies first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import numpy as np
from coniferest.isoforest import IsolationForest as ConiferestIsolationForest
from sklearn.ensemble import IsolationForest as SklearnIsolationForest

__all__ = ["METHODS", "ScoringForest", "make_forest", "anomaly_scores"]

logger = logging.getLogger(__name__)


class ScoringForest(Protocol):
    """What a search needs of a forest: scikit-learn-style fit and score_samples (lower = odder)."""

    def fit(self, X: np.ndarray): ...

    def score_samples(self, X: np.ndarray) -> np.ndarray: ...


def _coniferest_isoforest(
    n_trees: int, n_subsamples: int, random_state: int | None, n_jobs: int
) -> ScoringForest:
    """coniferest's Rust isolation forest (reproducible for a seed whatever the thread count)."""
    return ConiferestIsolationForest(
        n_trees=n_trees, n_subsamples=n_subsamples, random_seed=random_state, n_jobs=n_jobs
    )


def _sklearn_isoforest(
    n_trees: int, n_subsamples: int, random_state: int | None, n_jobs: int
) -> ScoringForest:
    """scikit-learn's isolation forest: a slower cross-check of the coniferest one."""
    return SklearnIsolationForest(
        n_estimators=n_trees, max_samples=n_subsamples, random_state=random_state, n_jobs=n_jobs
    )


#: Anomaly method (config key ``anomaly.method``) -> factory(n_trees, n_subsamples, random_state, n_jobs).
METHODS: dict[str, Callable[[int, int, int | None, int], ScoringForest]] = {
    "isoforest": _coniferest_isoforest,
    "sklearn_isoforest": _sklearn_isoforest,
}


def make_forest(
    method: str, *, n_trees: int = 300, n_subsamples: int = 256, random_state: int | None = 0, n_jobs: int = 1
) -> ScoringForest:
    """An unfitted forest for ``method``; ValueError naming ``anomaly.method`` when unknown."""
    if method not in METHODS:
        raise ValueError(f"anomaly.method = {method!r} is not one of {sorted(METHODS)}")
    if n_trees < 1 or n_subsamples < 2:
        raise ValueError(
            f"anomaly.n_trees must be >= 1 and anomaly.n_subsamples >= 2, got {n_trees}, {n_subsamples}"
        )
    return METHODS[method](n_trees, n_subsamples, random_state, n_jobs)


def anomaly_scores(forest: ScoringForest, X: np.ndarray) -> np.ndarray:
    """Scores of a fitted forest as float64 with HIGHER = MORE ANOMALOUS (``-score_samples``)."""
    return -np.asarray(forest.score_samples(X), dtype=np.float64)
