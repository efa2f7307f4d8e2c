"""Feature preprocessing for anomaly forests: median imputation and a per-feature transform.

Fitted once on the objects being searched and kept, so that later steps (rescoring new
objects, active anomaly detection with expert labels) see exactly the same inputs.

Transforms (config key ``anomaly.transform``):

``standardize``
    ``(x - mean) / std`` per feature (std 0 -> 1). Isolation forests split uniformly
    between a feature's min and max, so their scores are unchanged by it (up to rounding;
    tested); it puts features of wildly different scales (periods in days, amplitudes in
    mag) on one footing for scale-sensitive methods added later (AAD, distances).
``arcsinh``
    ``arcsinh((x - median) / s)`` with ``s`` the scaled MAD (std, then 1 as fall-backs):
    linear near the bulk, logarithmic in the tails, so one enormous value does not squash
    the rest of a feature's range into a single split.
``log``
    ``sign(x) * log10(1 + |x|)``: a symmetric logarithm for heavy-tailed, possibly negative
    features (periods, fluxes), no centring.
``none``
    The imputed features as they are.

Per feature: ``anomaly.feature_transforms`` maps a feature name to one of these; the other
features take ``anomaly.transform``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

__all__ = ["TRANSFORMS", "AnomalyPreprocessor"]

logger = logging.getLogger(__name__)

#: Accepted values of ``anomaly.transform``.
TRANSFORMS: tuple[str, ...] = ("standardize", "arcsinh", "log", "none")

_MAD_TO_SIGMA = 1.4826


@dataclass
class AnomalyPreprocessor:
    """Median imputation learned at fit time, then the chosen transform, as float64."""

    transform: str
    #: Per-column transforms overriding ``transform`` (column index -> name).
    column_transforms: dict[int, str] = field(default_factory=dict)
    medians_: np.ndarray | None = field(default=None, repr=False)
    center_: np.ndarray | None = field(default=None, repr=False)
    scale_: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """Validate the transform name early, with the config key in the message."""
        if self.transform not in TRANSFORMS:
            raise ValueError(f"anomaly.transform = {self.transform!r} is not one of {list(TRANSFORMS)}")
        bad = {k: v for k, v in self.column_transforms.items() if v not in TRANSFORMS}
        if bad:
            raise ValueError(f"anomaly.feature_transforms: {bad} not in {list(TRANSFORMS)}")

    def _kinds(self, n_columns: int) -> np.ndarray:
        """The transform name of every column."""
        kinds = np.full(n_columns, self.transform, dtype=object)
        for j, name in self.column_transforms.items():
            kinds[j] = name
        return kinds

    def fit(self, X: np.ndarray) -> AnomalyPreprocessor:
        """Learn per-feature medians (all-NaN feature -> 0) and the transform's centre and scale."""
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(all="ignore"):
            empty = np.all(np.isnan(X), axis=0) if X.shape[0] else np.ones(X.shape[1], dtype=bool)
            medians = np.zeros(X.shape[1])
            if (~empty).any():
                medians[~empty] = np.nanmedian(X[:, ~empty], axis=0)
        self.medians_ = medians
        filled = self._impute(X)
        kinds = self._kinds(X.shape[1])
        center, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
        if len(filled):
            std = filled.std(axis=0)
            standard = kinds == "standardize"
            center[standard] = filled[:, standard].mean(axis=0)
            scale[standard] = std[standard]
            robust = kinds == "arcsinh"
            center[robust] = medians[robust]
            mad = _MAD_TO_SIGMA * np.median(np.abs(filled[:, robust] - medians[robust]), axis=0)
            scale[robust] = np.where(mad > 0, mad, std[robust])
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.center_, self.scale_ = center, scale
        return self

    def transform_matrix(self, X: np.ndarray) -> np.ndarray:
        """Impute NaN with the fitted medians and apply the transform."""
        if self.medians_ is None:
            raise RuntimeError("AnomalyPreprocessor is not fitted; call fit() first")
        out = (self._impute(np.asarray(X, dtype=np.float64)) - self.center_) / self.scale_
        kinds = self._kinds(out.shape[1])
        robust, log = kinds == "arcsinh", kinds == "log"
        out[:, robust] = np.arcsinh(out[:, robust])
        out[:, log] = np.sign(out[:, log]) * np.log10(1.0 + np.abs(out[:, log]))
        return np.ascontiguousarray(out)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """Fit on ``X`` and return it imputed and transformed."""
        return self.fit(X).transform_matrix(X)

    def _impute(self, X: np.ndarray) -> np.ndarray:
        """A copy of X with NaN replaced by the fitted per-column medians."""
        nan = np.isnan(X)
        return np.where(nan, self.medians_[np.newaxis, :], X) if nan.any() else X.copy()
