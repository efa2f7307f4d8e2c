"""Fast refits of the active methods over a fixed set of rows (an expert's candidate pool).

An expert waits for the next candidate while the model refits to the answers and rescores the
pool. Both active methods keep the tree structure fixed between answers, so the rows' leaves can
be found once and every later step is a gather:

AAD
    the trees never change, only the leaf weights (a small QP on the labelled rows). The score of a
    row is the sum over trees of weight x mapped leaf value of its leaf: its leaves (rows x trees)
    are found once, each step sums ``(weights * leaf_values)[leaves]`` tree by tree.
PineForest
    every refit grows the same ``n_trees + pine_spare_trees`` trees from the seed and keeps the
    ``n_trees`` that isolate the known anomalies best; the path lengths of every row in every grown
    tree (rows x trees) are found once, each step picks the kept columns and sums them.

The sums run tree by tree in coniferest's order, so the scores equal coniferest's own
``score_samples`` bit for bit (tested). The cache is built on the second call with the same rows
(a single ranking does not pay for it; the loop's every step after the first does).
Demo pool (2000 sources, ~4000 rows, 300 trees): a step takes milliseconds instead of ~0.1-0.5 s.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import numpy as np
from coniferest.label import Label
from coniferest.utils import average_path_length

if TYPE_CHECKING:
    from skysift.anomaly.detectors import Detector

__all__ = ["RowRefitter"]

logger = logging.getLogger(__name__)


class RowRefitter:
    """Scores of rows of a fixed matrix ``X`` by an active detector, refitted to known rows of ``X``."""

    def __init__(self, detector: Detector, X: np.ndarray) -> None:
        self.detector = detector
        self.X = X
        self._last_rows: np.ndarray | None = None
        self._cache: tuple[np.ndarray, np.ndarray] | None = None  # (rows, leaves or path lengths)
        self._pine_forest = None
        self._aad = None
        self._lock = threading.Lock()  # a session refits to both possible answers side by side

    def scores(self, rows: np.ndarray, known_rows: np.ndarray, known_labels: np.ndarray) -> np.ndarray:
        """Scores (higher = odder) of ``rows`` after a refit to ``known_rows`` (sorted) and their labels."""
        with self._lock:
            cached = self._cached(rows)
            if cached is not None and self.detector.method == "aad":
                self._aad_evaluator()
            elif cached is not None:
                self._pine_evaluator()
        if cached is None:
            refitted = self.detector.with_labels(self.X[known_rows], known_labels)
            return refitted.score_samples(self.X[rows])
        if self.detector.method == "aad":
            return self._aad_scores(cached, known_rows, known_labels)
        return self._pine_scores(cached, known_rows, known_labels)

    def _cached(self, rows: np.ndarray) -> np.ndarray | None:
        """The rows' leaves / path lengths if this is (at least) the second call with these rows."""
        if self._cache is not None and np.array_equal(self._cache[0], rows):
            return self._cache[1]
        if self._last_rows is None or not np.array_equal(self._last_rows, rows):
            self._last_rows = rows.copy()
            return None
        X = np.ascontiguousarray(self.X[rows])
        if self.detector.method == "aad":
            table = self._aad_evaluator().apply(X)
        else:
            table = self._pine_evaluator().leaf_values(X)
        self._cache = (rows.copy(), np.ascontiguousarray(table.T))  # trees x rows: one gather per tree
        return self._cache[1]

    def _aad_evaluator(self):
        """coniferest's AAD evaluator of the (fixed) trees."""
        if self._aad is None:
            self._aad = self.detector.aad_evaluator()
        return self._aad

    def _pine_evaluator(self):
        """Evaluator of the ``n_trees + pine_spare_trees`` trees every PineForest refit grows."""
        if self._pine_forest is None:
            det = self.detector
            if det.train_X is None:
                raise ValueError(
                    "a PineForest refit needs the rows it was fitted on (the model's fit sample)"
                )
            pine = det.pine()
            pine._expand_trees(det.train_X, det.settings.n_trees + int(det.settings.pine_spare_trees))
            self._pine_forest = pine.core_forest
        return self.detector.evaluator(self._pine_forest)

    def _aad_scores(
        self, leaves_t: np.ndarray, known_rows: np.ndarray, known_labels: np.ndarray
    ) -> np.ndarray:
        """AAD: weights refitted on the known rows, then the weighted leaf values summed tree by tree."""
        weights = self.detector.with_labels(self.X[known_rows], known_labels).weights
        weighted = weights * self._aad_evaluator().leaf_values
        total = np.zeros(leaves_t.shape[1])
        for tree_leaves in leaves_t:
            total += weighted[tree_leaves]
        return -total

    def _pine_scores(
        self, heights_t: np.ndarray, known_rows: np.ndarray, known_labels: np.ndarray
    ) -> np.ndarray:
        """PineForest: coniferest's filter on the known rows' path lengths, then the kept trees summed."""
        det = self.detector
        n_trees, n_spare = det.settings.n_trees, int(det.settings.pine_spare_trees)
        informative = known_labels != Label.UNKNOWN
        known_rows, known_labels = known_rows[informative], known_labels[informative]
        if len(known_rows) and n_spare > 0:
            known = self._pine_evaluator().leaf_values(np.ascontiguousarray(self.X[known_rows]))
            weights = known_labels.copy()  # as coniferest's PineForest.filter_trees (weight_ratio 1)
            weights[known_labels == Label.REGULAR] = 1.0 * Label.REGULAR
            kept = (known * np.reshape(weights, (-1, 1))).sum(axis=0).argsort()[n_spare:]
        else:
            kept = np.arange(n_trees)
        total = np.zeros(heights_t.shape[1])
        for tree in kept:
            total += heights_t[tree]
        return 2.0 ** (-total / (average_path_length(det.n_subsamples) * len(kept)))
