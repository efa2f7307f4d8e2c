"""Anomaly detectors on one band's feature matrix, scores HIGHER = MORE ANOMALOUS, labels optional.

Methods (``anomaly.method`` and ``anomaly.compare``):

``isoforest``          coniferest IsolationForest (Liu et al. 2008); static.
``sklearn_isoforest``  scikit-learn IsolationForest, a cross-check; static.
``aad``                coniferest AADForest (Das et al. 2017): an isolation forest whose leaf weights
                       are refitted to the known labels (anomalies up, regulars down);
                       ``aad_prior_influence`` pulls them towards the initial weights.
``pineforest``         coniferest PineForest: grows ``n_trees + pine_spare_trees`` trees and keeps the
                       ``n_trees`` that best isolate the known anomalies and not the regulars.
``lof``                scikit-learn LocalOutlierFactor (``lof_neighbors``); score = -negative_outlier_factor_.
                       O(N^2) distances: fine for fields (1e4-1e5 objects), not for a whole release.
``gmm``                scikit-learn GaussianMixture (``gmm_components``, full covariances), score =
                       minus the log-likelihood (SNAD used it on ZTF DR3).

Determinism and resume. A detector's scores are a pure function of (method, data, seed, the SET of
known labels): every refit starts from the same unlabelled model (AAD: weights reset to the initial
ones, the labelled rows sorted; PineForest: a fresh forest from the seed). coniferest's own Session
refits incrementally (AAD starts from the previous weights, PineForest keeps mixing in new trees
from an advancing random stream), so a session resumed from its answers differs from an
uninterrupted one (coniferest issue #175); here it cannot.

Static methods ignore labels in their scores; the search ranks known regulars last instead.
Labels are coniferest's :class:`~coniferest.label.Label` (ANOMALY -1, UNKNOWN 0, REGULAR 1).

Drivers (:meth:`BandDetector.signature`): forests give coniferest's per-feature path-length deltas
(``feature_signature``: the mean change of path length at splits on each feature, over c(n);
NEGATIVE = this feature isolates the object quickly), for AAD on its trees without leaf weights.
Other methods get minus the robust |z| of each transformed feature (the farther, the more negative).

scikit-learn is imported by the methods that use it only: the rule files import this package, and
scikit-learn would add seconds to every ``snakemake`` start (and every Slurm job's).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from coniferest.aadforest import AADForest
from coniferest.evaluator import ForestEvaluator
from coniferest.isoforest import IsolationForest
from coniferest.label import Label
from coniferest.pineforest import PineForest
from threadpoolctl import threadpool_limits

from skysift.anomaly.settings import DetectorSettings

__all__ = ["ACTIVE_METHODS", "STATIC_METHODS", "ALL_METHODS", "BandDetector"]

logger = logging.getLogger(__name__)

#: Methods that learn from expert labels.
ACTIVE_METHODS: tuple[str, ...] = ("aad", "pineforest")
#: Methods whose scores ignore labels.
STATIC_METHODS: tuple[str, ...] = ("isoforest", "sklearn_isoforest", "lof", "gmm")
ALL_METHODS: tuple[str, ...] = ("isoforest", "aad", "pineforest", "lof", "gmm", "sklearn_isoforest")


class BandDetector:
    """One method fitted on one band's transformed matrix ``X`` (rows = objects).

    Parameters
    ----------
    method
        One of :data:`ALL_METHODS`.
    X
        The band's transformed features (no NaN).
    settings
        Sizes and method parameters (``anomaly.n_trees``, ``n_subsamples``, ``lof_neighbors``, ...).
    seed
        Random seed (``anomaly.random_state``, or an evaluation seed).
    n_jobs
        Threads of the forests (coniferest's results do not depend on it).
    """

    def __init__(
        self, method: str, X: np.ndarray, settings: DetectorSettings, *, seed: int, n_jobs: int = 1
    ) -> None:
        if method not in ALL_METHODS:
            raise ValueError(f"anomaly.method = {method!r} is not one of {list(ALL_METHODS)}")
        self.method = method
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.seed = seed
        self.n_jobs = n_jobs
        self.settings = settings
        n_trees = settings.n_trees
        self.n_subsamples = max(2, min(settings.n_subsamples, len(self.X)))
        self._static: np.ndarray | None = None
        self._forest: Any = None
        if method == "isoforest":
            self._forest = IsolationForest(
                n_trees=n_trees, n_subsamples=self.n_subsamples, random_seed=seed, n_jobs=n_jobs
            ).fit(self.X)
            self._static = -self._forest.score_samples(self.X)
        elif method == "sklearn_isoforest":
            from sklearn.ensemble import IsolationForest as SklearnIsolationForest

            model = SklearnIsolationForest(
                n_estimators=n_trees, max_samples=self.n_subsamples, random_state=seed, n_jobs=n_jobs
            ).fit(self.X)
            self._static = -model.score_samples(self.X)
        elif method == "lof":
            from sklearn.neighbors import LocalOutlierFactor

            k = max(1, min(int(settings.lof_neighbors), len(self.X) - 1))
            # multithreaded BLAS on a shared machine was up to 10x slower (measured): one BLAS thread
            with threadpool_limits(limits=1):
                model = LocalOutlierFactor(n_neighbors=k, n_jobs=n_jobs).fit(self.X)
            self._static = -model.negative_outlier_factor_.astype(np.float64)
        elif method == "gmm":
            from sklearn.mixture import GaussianMixture

            k = max(1, min(int(settings.gmm_components), len(self.X)))
            model = GaussianMixture(
                n_components=k,
                covariance_type="full",
                reg_covar=1e-3,
                max_iter=50,
                tol=1e-2,
                random_state=seed,
            )
            with threadpool_limits(limits=1):
                self._static = -model.fit(self.X).score_samples(self.X)
        elif method == "aad":
            self._forest = AADForest(
                n_trees=n_trees,
                n_subsamples=self.n_subsamples,
                prior_influence=float(settings.aad_prior_influence),
                random_seed=seed,
                n_jobs=n_jobs,
            ).fit(self.X)
            self._w0 = self._forest.evaluator.weights.copy()
        else:  # pineforest: the unlabelled forest, reused whenever no label is known
            self._forest = self._pine().fit(self.X)

    def _pine(self) -> PineForest:
        """A fresh PineForest from the seed (never reused after a labelled fit: see the module doc)."""
        return PineForest(
            n_trees=self.settings.n_trees,
            n_subsamples=self.n_subsamples,
            n_spare_trees=int(self.settings.pine_spare_trees),
            random_seed=self.seed,
            n_jobs=self.n_jobs,
        )

    def scores(
        self,
        rows: np.ndarray | None = None,
        known_rows: np.ndarray | None = None,
        known_labels: np.ndarray | None = None,
    ) -> np.ndarray:
        """Scores (higher = odder) of ``rows`` (default all) given the labels of ``known_rows``.

        ``known_labels`` are :class:`~coniferest.label.Label` values; UNKNOWN ones are ignored.
        """
        rows = np.arange(len(self.X)) if rows is None else np.asarray(rows, dtype=np.int64)
        if self._static is not None:
            return self._static[rows]
        known_rows = np.asarray([] if known_rows is None else known_rows, dtype=np.int64)
        known_labels = np.asarray([] if known_labels is None else known_labels, dtype=np.int64)
        informative = known_labels != Label.UNKNOWN
        known_rows, known_labels = known_rows[informative], known_labels[informative]
        order = np.argsort(known_rows, kind="stable")  # the set, not the answer order, decides
        known_rows, known_labels = known_rows[order], known_labels[order]
        if self.method == "aad":
            evaluator = self._forest.evaluator
            evaluator.weights = self._w0.copy()
            if len(known_rows):
                known_X = self.X[known_rows]
                # budget "auto": the data argument only feeds a quantile that "auto" does not use,
                # so the known rows stand in for it (scoring every object per refit is the slow part).
                evaluator.fit_known(known_X, known_X, known_labels)
            return -evaluator.score_samples(self.X[rows])
        forest = self._forest
        if len(known_rows):
            forest = self._pine().fit_known(self.X, self.X[known_rows], known_labels)
        return -forest.score_samples(self.X[rows])

    def signature(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Per-feature drivers of ``rows`` (rows x features); more negative = drove the score more."""
        rows = np.arange(len(self.X)) if rows is None else np.asarray(rows, dtype=np.int64)
        if self.method in ("isoforest", "aad", "pineforest"):
            evaluator = ForestEvaluator(
                samples=self.n_subsamples,
                core_forest=self._forest.core_forest,
                sampletrees_per_batch=self._forest.sampletrees_per_batch,
            )
            return np.asarray(evaluator.feature_signature(self.X[rows]), dtype=np.float64)
        median = np.median(self.X, axis=0)
        mad = 1.4826 * np.median(np.abs(self.X - median), axis=0)
        mad = np.where(mad > 0, mad, 1.0)
        return -np.abs((self.X[rows] - median) / mad)
