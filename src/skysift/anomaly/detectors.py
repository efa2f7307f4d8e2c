"""Anomaly detectors of one band, scores HIGHER = MORE ANOMALOUS, labels optional.

Methods (``anomaly.method`` and ``anomaly.compare``):

``isoforest``          coniferest IsolationForest (Liu et al. 2008); static.
``sklearn_isoforest``  scikit-learn IsolationForest, a cross-check; static.
``aad``                coniferest AADForest (Das et al. 2017): an isolation forest whose leaf weights
                       are refitted to the known labels (anomalies up, regulars down);
                       ``aad_prior_influence`` pulls them towards the initial weights, ``aad_budget``
                       is the score quantile the answers are held to.
``pineforest``         coniferest PineForest: grows ``n_trees + pine_spare_trees`` trees and keeps the
                       ``n_trees`` that best isolate the known anomalies and not the regulars.
``lof``                scikit-learn LocalOutlierFactor (``lof_neighbors``); score = -negative_outlier_factor_
                       for the rows it was fitted on, the novelty score for other rows. O(N^2)
                       distances: fit it on a sample (``anomaly.fit_sample``), not on a release.
``gmm``                scikit-learn GaussianMixture (``gmm_components``, full covariances), score =
                       minus the log-likelihood (SNAD used it on ZTF DR3).

Two classes. :class:`Detector` is a fitted model (fitted on a band's rows, or loaded from a saved
model: :mod:`skysift.anomaly.store`) that scores any rows and refits to labels
(:meth:`Detector.with_labels`). :class:`BandDetector` is a detector over one fixed matrix of rows (what
a search ranks), with the fast refits of :mod:`skysift.anomaly.refit`.

Determinism and resume. A detector's scores are a pure function of (method, data, seed, the SET of
known labels): every refit starts from the same unlabelled model (AAD: weights reset to the initial
ones, the labelled rows sorted; PineForest: the same ``n_trees + pine_spare_trees`` trees from the
seed, filtered anew). coniferest's own Session refits incrementally (AAD starts from the previous
weights, PineForest keeps mixing in new trees from an advancing random stream), so a session resumed
from its answers differs from an uninterrupted one (coniferest issue #175); here it cannot.

Static methods ignore labels in their scores; the search ranks known regulars last instead.
Labels are coniferest's :class:`~coniferest.label.Label` (ANOMALY -1, UNKNOWN 0, REGULAR 1).

Drivers (:meth:`Detector.signature`): forests give coniferest's per-feature path-length deltas
(``feature_signature``: the mean change of path length at splits on each feature, over c(n);
NEGATIVE = this feature isolates the object quickly), for AAD on its trees without leaf weights.
Other methods get minus the robust |z| of each transformed feature (the farther, the more negative).

scikit-learn is imported by the methods that use it only: the rule files import this package, and
scikit-learn would add seconds to every ``snakemake`` start (and every Slurm job's).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
from coniferest.aadforest import AADEvaluator, AADForest
from coniferest.evaluator import ForestEvaluator
from coniferest.isoforest import IsolationForest
from coniferest.label import Label
from coniferest.pineforest import PineForest
from threadpoolctl import threadpool_limits

from skysift.anomaly.estimators import LofScorer
from skysift.anomaly.settings import DetectorSettings

__all__ = ["ACTIVE_METHODS", "STATIC_METHODS", "ALL_METHODS", "FOREST_METHODS", "Detector", "BandDetector"]

logger = logging.getLogger(__name__)

#: Methods that learn from expert labels.
ACTIVE_METHODS: tuple[str, ...] = ("aad", "pineforest")
#: Methods whose scores ignore labels.
STATIC_METHODS: tuple[str, ...] = ("isoforest", "sklearn_isoforest", "lof", "gmm")
ALL_METHODS: tuple[str, ...] = ("isoforest", "aad", "pineforest", "lof", "gmm", "sklearn_isoforest")
#: Methods whose model is a coniferest forest (saved as its trees' arrays).
FOREST_METHODS: tuple[str, ...] = ("isoforest", "aad", "pineforest")
#: Rows per batch of the forests' traversals (coniferest's default).
SAMPLETREES_PER_BATCH = 1 << 14


def check_method(method: str) -> None:
    """Raise the config error of an unknown method."""
    if method not in ALL_METHODS:
        raise ValueError(f"anomaly.method = {method!r} is not one of {list(ALL_METHODS)}")


@dataclasses.dataclass
class Detector:
    """One method fitted on one band's transformed rows; scores any rows of that band.

    Build it with :meth:`fit` (or :func:`skysift.anomaly.store.load_detector`). ``forest`` is the
    coniferest ``CoreForest`` of forest methods (PineForest: the one kept for the current labels),
    ``weights`` the AAD leaf weights of the current labels, ``model`` the fitted scikit-learn estimator
    (lof: a :class:`~skysift.anomaly.estimators.LofScorer`),
    ``train_X`` the rows it was fitted on (PineForest refits and LOF need them; may be None otherwise),
    ``train_scores`` the scores of those rows (LOF: leave-self-out), ``center``/``spread`` the median and
    scaled MAD of ``train_X`` (drivers of the non-forest methods).
    """

    method: str
    settings: DetectorSettings
    seed: int
    n_subsamples: int
    n_jobs: int = 1
    forest: Any = None
    weights: np.ndarray | None = None
    model: Any = None
    train_X: np.ndarray | None = None
    train_scores: np.ndarray | None = None
    center: np.ndarray | None = None
    spread: np.ndarray | None = None

    @classmethod
    def fit(
        cls, method: str, X: np.ndarray, settings: DetectorSettings, *, seed: int, n_jobs: int = 1
    ) -> Detector:
        """Fit ``method`` on ``X`` (rows = objects of one band, no NaN) without labels.

        Parameters
        ----------
        method
            One of :data:`ALL_METHODS`.
        X
            The band's transformed features.
        settings
            Sizes and method parameters (``anomaly.n_trees``, ``n_subsamples``, ``lof_neighbors``, ...).
        seed
            Random seed (``anomaly.random_state``, or an evaluation seed).
        n_jobs
            Threads (coniferest's results do not depend on it).
        """
        check_method(method)
        X = np.ascontiguousarray(X, dtype=np.float64)
        n_subsamples = max(2, min(settings.n_subsamples, len(X)))
        det = cls(method, settings, seed, n_subsamples, n_jobs)
        det.center = np.median(X, axis=0)
        mad = 1.4826 * np.median(np.abs(X - det.center), axis=0)
        det.spread = np.where(mad > 0, mad, 1.0)
        if method in ("pineforest", "lof"):
            det.train_X = X
        if method == "isoforest":
            det.forest = (
                IsolationForest(
                    n_trees=settings.n_trees, n_subsamples=n_subsamples, random_seed=seed, n_jobs=n_jobs
                )
                .fit(X)
                .core_forest
            )
        elif method == "aad":
            det.forest = det._aad_forest(X)
            det.weights = det.initial_weights()
        elif method == "pineforest":
            det.forest = det.pine().fit(X).core_forest
        elif method == "sklearn_isoforest":
            from sklearn.ensemble import IsolationForest as SklearnIsolationForest

            det.model = SklearnIsolationForest(
                n_estimators=settings.n_trees, max_samples=n_subsamples, random_state=seed, n_jobs=n_jobs
            ).fit(X)
        elif method == "lof":
            from sklearn.neighbors import LocalOutlierFactor

            k = max(1, min(int(settings.lof_neighbors), len(X) - 1))
            # multithreaded BLAS on a shared machine was up to 10x slower (measured): one BLAS thread
            with threadpool_limits(limits=1):
                lof = LocalOutlierFactor(n_neighbors=k, n_jobs=n_jobs).fit(X)
            det.train_scores = -lof.negative_outlier_factor_.astype(np.float64)
            det.model = LofScorer.from_lof(lof, X, n_jobs)
        else:  # gmm
            from sklearn.mixture import GaussianMixture

            k = max(1, min(int(settings.gmm_components), len(X)))
            model = GaussianMixture(
                n_components=k,
                covariance_type="full",
                reg_covar=1e-3,
                max_iter=50,
                tol=1e-2,
                random_state=seed,
            )
            with threadpool_limits(limits=1):
                det.model = model.fit(X)
        if det.train_scores is None and method in STATIC_METHODS:
            det.train_scores = det.score_samples(X)
        return det

    @property
    def active(self) -> bool:
        """Whether the scores depend on the labels."""
        return self.method in ACTIVE_METHODS

    def _aad_forest(self, X: np.ndarray | None = None) -> AADForest:
        """An AADForest of this detector's parameters, fitted on X or wrapped around ``self.forest``."""
        aad = AADForest(
            n_trees=self.settings.n_trees,
            n_subsamples=self.n_subsamples,
            prior_influence=float(self.settings.aad_prior_influence),
            budget=self.settings.aad_budget,
            random_seed=self.seed,
            n_jobs=self.n_jobs,
        )
        if X is not None:
            return aad.fit(X).core_forest
        aad.core_forest = self.forest
        aad.evaluator = AADEvaluator(aad)
        return aad

    def aad_evaluator(self) -> AADEvaluator:
        """coniferest's AAD evaluator of the forest, with this detector's weights."""
        evaluator = self._aad_forest().evaluator
        evaluator.weights = np.array(self.weights, dtype=np.float64)
        return evaluator

    def initial_weights(self) -> np.ndarray:
        """AAD's unlabelled leaf weights (coniferest: 1/sqrt(number of leaves) each)."""
        n_leaves = int(sum(tree.n_leaves for tree in self.forest))
        return np.full(n_leaves, np.reciprocal(np.sqrt(n_leaves)))

    def pine(self) -> PineForest:
        """A fresh PineForest from the seed (never reused after a labelled fit: see the module doc)."""
        return PineForest(
            n_trees=self.settings.n_trees,
            n_subsamples=self.n_subsamples,
            n_spare_trees=int(self.settings.pine_spare_trees),
            random_seed=self.seed,
            n_jobs=self.n_jobs,
        )

    def evaluator(self, forest: Any = None) -> ForestEvaluator:
        """coniferest's evaluator of a forest (default this detector's)."""
        return ForestEvaluator(
            samples=self.n_subsamples,
            core_forest=self.forest if forest is None else forest,
            sampletrees_per_batch=SAMPLETREES_PER_BATCH,
        )

    def with_labels(self, known_X: np.ndarray, known_labels: np.ndarray) -> Detector:
        """The detector refitted from its unlabelled state to known rows (static methods: itself).

        ``known_labels`` are :class:`~coniferest.label.Label` values; UNKNOWN ones are ignored. The rows
        should come sorted by a fixed key (the set, not the answer order, decides).
        """
        known_labels = np.asarray(known_labels, dtype=np.int64)
        informative = known_labels != Label.UNKNOWN
        known_X = np.asarray(known_X, dtype=np.float64)[informative]
        known_labels = known_labels[informative]
        if not self.active:
            return self
        if self.method == "aad":
            weights = self.initial_weights()
            if len(known_labels):
                evaluator = self.aad_evaluator()
                evaluator.weights = weights.copy()
                # budget "auto": the data argument only feeds a quantile that "auto" does not use,
                # so the known rows stand in for it (scoring every object per refit is the slow part).
                evaluator.fit_known(known_X, known_X, known_labels)
                weights = evaluator.weights
            return dataclasses.replace(self, weights=np.asarray(weights, dtype=np.float64))
        if self.train_X is None:
            raise ValueError("a PineForest refit needs the rows it was fitted on (the model's fit sample)")
        pine = self.pine()
        forest = pine.fit_known(self.train_X, known_X if len(known_labels) else None,
                                known_labels if len(known_labels) else None).core_forest  # fmt: skip
        return dataclasses.replace(self, forest=forest)

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """Scores (higher = odder) of rows ``X`` with the current labels (LOF: the novelty score)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if not len(X):
            return np.empty(0)
        if self.method in ("isoforest", "pineforest"):
            return -self.evaluator().score_samples(X)
        if self.method == "aad":
            return -self.aad_evaluator().score_samples(X)
        with threadpool_limits(limits=1):  # scikit-learn: one BLAS thread (see fit)
            return -self.model.score_samples(X).astype(np.float64)

    def signature(self, X: np.ndarray) -> np.ndarray:
        """Per-feature drivers of rows ``X`` (rows x features); more negative = drove the score more."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if self.method in FOREST_METHODS:
            if not len(X):
                return np.empty((0, X.shape[1]))
            with np.errstate(divide="ignore", invalid="ignore"):  # 0/0: features no tree splits on
                return np.asarray(self.evaluator().feature_signature(X), dtype=np.float64)
        return -np.abs((X - self.center) / self.spread)


class BandDetector:
    """A detector over one fixed matrix ``X`` (the rows of one band a search ranks).

    Parameters
    ----------
    detector
        The fitted model (unlabelled).
    X
        The rows to score (transformed features, no NaN).
    static_scores
        Scores of the rows for static methods (default: the detector's training scores when ``X`` is
        what it was fitted on, else :meth:`Detector.score_samples`).
    """

    def __init__(self, detector: Detector, X: np.ndarray, *, static_scores: np.ndarray | None = None) -> None:
        from skysift.anomaly.refit import RowRefitter

        self.detector = detector
        self.method = detector.method
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self._static = None
        if not detector.active:
            scores = detector.score_samples(self.X) if static_scores is None else static_scores
            self._static = np.asarray(scores, dtype=np.float64)
        self._refitter = RowRefitter(detector, self.X) if detector.active else None

    @classmethod
    def fit(
        cls, method: str, X: np.ndarray, settings: DetectorSettings, *, seed: int, n_jobs: int = 1
    ) -> BandDetector:
        """Fit ``method`` on ``X`` and score those same rows (static methods: their training scores)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        detector = Detector.fit(method, X, settings, seed=seed, n_jobs=n_jobs)
        return cls(detector, X, static_scores=detector.train_scores if not detector.active else None)

    @property
    def n_subsamples(self) -> int:
        """Objects per tree of the fitted model."""
        return self.detector.n_subsamples

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
        return self._refitter.scores(rows, known_rows[order], known_labels[order])

    def signature(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Per-feature drivers of ``rows`` (rows x features); more negative = drove the score more."""
        rows = np.arange(len(self.X)) if rows is None else np.asarray(rows, dtype=np.int64)
        return self.detector.signature(self.X[rows])
