"""The scikit-learn models of two static methods, as plain arrays (saved without skops, loaded in ms).

``lof``  :class:`LofScorer`: scikit-learn's novelty score of LocalOutlierFactor (the mean ratio of the
         neighbours' local reachability densities to the row's, over its ``k`` nearest fitted rows)
         computed from the fitted rows, their k-distances and densities; the nearest neighbours come
         from scikit-learn's NearestNeighbors with LOF's defaults.
``gmm``  :func:`gmm_from_arrays`: a GaussianMixture rebuilt from its fitted parameters (weights, means,
         covariances, Cholesky factors of the precisions); its ``score_samples`` is scikit-learn's own.

Both are what every score job loads (``anomaly.compare`` includes lof by default): loading them with
skops walked the interpreter's modules for every object and cost seconds per job.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LofScorer", "gmm_arrays", "gmm_from_arrays"]


class LofScorer:
    """Novelty scores of LocalOutlierFactor against fitted rows (higher = more normal, as scikit-learn's)."""

    def __init__(
        self, train_X: np.ndarray, k: int, kdist: np.ndarray, lrd: np.ndarray, n_jobs: int = 1
    ) -> None:
        self.train_X = np.ascontiguousarray(train_X, dtype=np.float64)
        self.k, self.kdist, self.lrd, self.n_jobs = int(k), np.asarray(kdist), np.asarray(lrd), n_jobs
        self._nn: Any = None

    @classmethod
    def from_lof(cls, model: Any, train_X: np.ndarray, n_jobs: int = 1) -> LofScorer:
        """From a fitted scikit-learn LocalOutlierFactor and the rows it was fitted on."""
        k = int(model.n_neighbors_)
        return cls(train_X, k, model._distances_fit_X_[:, k - 1].copy(), model._lrd.copy(), n_jobs)

    def arrays(self) -> dict[str, np.ndarray]:
        """What :meth:`from_arrays` needs."""
        return {
            "lof_X": self.train_X,
            "lof_kdist": self.kdist,
            "lof_lrd": self.lrd,
            "lof_k": np.array(self.k),
        }

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str, n_jobs: int = 1) -> LofScorer:
        """From the arrays of :meth:`arrays` (keys with ``prefix``)."""
        return cls(arrays[prefix + "lof_X"], int(arrays[prefix + "lof_k"]), arrays[prefix + "lof_kdist"],
                   arrays[prefix + "lof_lrd"], n_jobs)  # fmt: skip

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """Minus the local outlier factor of rows ``X`` against the fitted rows."""
        if self._nn is None:
            from sklearn.neighbors import NearestNeighbors

            self._nn = NearestNeighbors(n_neighbors=self.k, n_jobs=self.n_jobs).fit(self.train_X)
        distances, neighbours = self._nn.kneighbors(X, n_neighbors=self.k)
        reach = np.maximum(distances, self.kdist[neighbours])
        lrd = 1.0 / (np.mean(reach, axis=1) + 1e-10)
        return -np.mean(self.lrd[neighbours] / lrd[:, np.newaxis], axis=1)


def gmm_arrays(model: Any) -> dict[str, np.ndarray]:
    """The fitted parameters of a full-covariance GaussianMixture."""
    return {"gmm_weights": model.weights_, "gmm_means": model.means_, "gmm_covariances": model.covariances_,
            "gmm_precisions_cholesky": model.precisions_cholesky_}  # fmt: skip


def gmm_from_arrays(arrays: Any, prefix: str) -> Any:
    """A GaussianMixture with the parameters of :func:`gmm_arrays` (keys with ``prefix``): it scores as fitted."""
    from sklearn.mixture import GaussianMixture

    means = arrays[prefix + "gmm_means"]
    model = GaussianMixture(n_components=len(means), covariance_type="full")
    model.weights_ = arrays[prefix + "gmm_weights"]
    model.means_ = means
    model.covariances_ = arrays[prefix + "gmm_covariances"]
    model.precisions_cholesky_ = arrays[prefix + "gmm_precisions_cholesky"]
    model.n_features_in_ = means.shape[1]
    model.converged_, model.n_iter_, model.lower_bound_ = True, 0, float("nan")
    return model
