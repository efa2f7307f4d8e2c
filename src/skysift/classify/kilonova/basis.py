"""The kilonova PCA basis and the projection of light curves on it (see :mod:`skysift.classify.kilonova`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from skysift.classify.early_snia import BANDS, ZERO_POINT
from skysift.io import InputError

__all__ = [
    "WINDOW_BEFORE",
    "WINDOW_AFTER",
    "POSITIVE",
    "PCABasis",
    "build_basis",
    "project",
    "feature_names",
    "lightcurve_features",
]

logger = logging.getLogger(__name__)

#: Days before the brightest epoch that the projection uses.
WINDOW_BEFORE = 10.0
#: Days after the brightest epoch that the projection uses.
WINDOW_AFTER = 20.0
#: Grid step (days) of the basis.
GRID_STEP = 0.1
#: Ridge penalty of the projection (normalised-flux units): keeps one- or two-point fits finite.
RIDGE = 1e-3
POSITIVE = "kilonova"


class PCABasis:
    """Principal components of peak-normalised kilonova fluxes on a time grid (days from the peak)."""

    def __init__(self, grid: np.ndarray, components: np.ndarray, explained: np.ndarray) -> None:
        self.grid = np.asarray(grid, dtype=float)
        self.components = np.asarray(components, dtype=float)  # (n_components, grid.size)
        self.explained = np.asarray(explained, dtype=float)

    @property
    def n_components(self) -> int:
        """Number of components."""
        return self.components.shape[0]

    def at(self, dt: np.ndarray) -> np.ndarray:
        """Components evaluated at days ``dt`` from the peak, shape (dt.size, n_components); 0 outside the grid."""
        return np.column_stack([np.interp(dt, self.grid, c, left=0.0, right=0.0) for c in self.components])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in the model card)."""
        return {
            "grid": self.grid.tolist(),
            "components": self.components.tolist(),
            "explained": self.explained.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PCABasis:
        """Inverse of :meth:`to_dict`."""
        return cls(np.asarray(data["grid"]), np.asarray(data["components"]), np.asarray(data["explained"]))


def build_basis(n_curves: int = 200, n_components: int = 3, seed: int = 0) -> PCABasis:
    """PCA basis from ``n_curves`` noise-free g and r kilonova light curves of the demo model (deterministic).

    Components are the right singular vectors of the (not mean-subtracted) matrix of
    peak-normalised fluxes, so a light curve is a combination of them without an offset term.
    """
    from skysift.simulate.models import MODELS, SampleContext

    if n_components < 1 or n_curves < n_components:
        raise InputError(
            f"kilonova basis needs n_curves >= n_components >= 1, got {n_curves}, {n_components}"
        )
    sampler, evaluate = MODELS[POSITIVE]
    dense = np.arange(0.0, 1000.0, 1.0)  # any regular epochs: peaks land on one of them
    ctx = SampleContext(start=0.0, end=1000.0, epochs={0: dense})
    params = sampler(np.random.default_rng([seed, 11]), np.zeros(n_curves, dtype=np.int64), ctx)
    grid = np.arange(-WINDOW_BEFORE, WINDOW_AFTER + GRID_STEP / 2, GRID_STEP)
    fine = np.arange(-WINDOW_BEFORE - 3.0, WINDOW_AFTER + 3.0 + GRID_STEP / 2, GRID_STEP)
    aligned = params.take(np.arange(n_curves))
    aligned.extra["t_expl"] = params.extra["t_expl"] - params.t0  # r-band peak at t = 0
    rows = []
    for b in (0, 1):  # g, r
        mags = evaluate(aligned, fine, np.full(fine.size, b), None)
        flux = np.where(
            np.isfinite(mags), 10 ** (-0.4 * (mags - np.nanmin(mags, axis=1, keepdims=True))), 0.0
        )
        peak = fine[np.argmax(flux, axis=1)]
        rows += [np.interp(grid + peak[i], fine, flux[i], left=0.0, right=0.0) for i in range(n_curves)]
    matrix = np.vstack(rows)
    _, s, vt = np.linalg.svd(matrix, full_matrices=False)
    comps = vt[:n_components]
    comps *= np.sign(comps[:, np.argmin(np.abs(grid))])[:, None]  # positive at the peak: stable signs
    explained = (s**2 / np.sum(s**2))[:n_components]
    logger.info(
        "kilonova PCA basis from %d light curves x 2 bands: explained variance %s",
        n_curves,
        np.round(explained, 4).tolist(),
    )
    return PCABasis(grid, comps, explained)


def project(
    basis: PCABasis, lc: np.ndarray, t: np.ndarray, flux: np.ndarray, n_lc: int, min_points: int = 2
) -> pd.DataFrame:
    """Project many light curves at once: flat epochs (``lc`` index, time, flux) -> features per light curve.

    Returns columns pc1..pcK, residual, max_flux, npoints (NaN coefficients and residual where
    fewer than ``min_points`` epochs fall in the window around the brightest epoch).
    """
    k = basis.n_components
    out = pd.DataFrame(index=range(n_lc))
    for j in range(k):
        out[f"pc{j + 1}"] = np.nan
    out["residual"] = np.nan
    out["max_flux"] = np.nan
    out["npoints"] = 0
    if t.size == 0:
        return out
    finite = np.isfinite(t) & np.isfinite(flux)
    if not finite.all():
        lc, t, flux = lc[finite], t[finite], flux[finite]
    if np.any(lc[1:] < lc[:-1]):  # group the epochs by light curve (flattened DR lists already are)
        order = np.argsort(lc, kind="stable")
        lc, t, flux = lc[order], t[order], flux[order]
    # the first epoch of maximum flux of every light curve, in O(n)
    starts = np.flatnonzero(np.r_[True, lc[1:] != lc[:-1]])
    group_max = np.full(n_lc, -np.inf)
    group_max[lc[starts]] = np.maximum.reduceat(flux, starts)
    at_max = np.flatnonzero(flux == group_max[lc])
    first_lc, first_pos = np.unique(lc[at_max], return_index=True)
    imax = np.full(n_lc, -1, dtype=np.int64)
    imax[first_lc] = at_max[first_pos]
    has = imax >= 0
    f_max = np.where(has, flux[np.maximum(imax, 0)], np.nan)
    dt = t - t[imax[lc]]
    sel = (dt >= -WINDOW_BEFORE) & (dt <= WINDOW_AFTER)
    npoints = np.bincount(lc[sel], minlength=n_lc)
    out["max_flux"] = f_max
    out["npoints"] = npoints
    fit = npoints >= min_points
    sel &= fit[lc]
    if not sel.any():
        return out
    r = lc[sel]
    B = basis.at(dt[sel])
    y = flux[sel] / f_max[r]
    ata = np.zeros((n_lc, k, k))
    aty = np.zeros((n_lc, k))
    for i in range(k):
        aty[:, i] = np.bincount(r, weights=B[:, i] * y, minlength=n_lc)
        for j in range(i, k):
            ata[:, i, j] = ata[:, j, i] = np.bincount(r, weights=B[:, i] * B[:, j], minlength=n_lc)
    rows = np.flatnonzero(fit)
    coef = np.linalg.solve(ata[rows] + RIDGE * np.eye(k)[None], aty[rows][:, :, None])[:, :, 0]
    full = np.full((n_lc, k), np.nan)
    full[rows] = coef
    model = np.einsum("ij,ij->i", B, full[r])
    sq = np.bincount(r, weights=(y - model) ** 2, minlength=n_lc)
    for j in range(k):
        out[f"pc{j + 1}"] = full[:, j]
    out["residual"] = np.where(fit, np.sqrt(sq / np.maximum(npoints, 1)), np.nan)
    return out


def feature_names(n_components: int = 3, bands: Sequence[str] = ("g", "r")) -> list[str]:
    """Feature columns: pc1..pcK, residual, max_flux, npoints per band."""
    per_band = [*(f"pc{j + 1}" for j in range(n_components)), "residual", "max_flux", "npoints"]
    return [f"{name}_{band}" for band in bands for name in per_band]


def lightcurve_features(
    epochs: pd.DataFrame, basis: PCABasis, *, key: str = "source_id", min_points: int = 2
) -> pd.DataFrame:
    """Per-``key`` wide features from a long table of detections (key, filterid, hmjd, mag).

    Every key value gets a row; a band without detections has NaN features and npoints 0.
    """
    missing = [c for c in (key, "filterid", "hmjd", "mag") if c not in epochs.columns]
    if missing:
        raise InputError(f"detections table lacks column(s) {missing}")
    epochs = epochs[epochs["filterid"].isin(list(BANDS))]
    keys = np.unique(epochs[key].to_numpy(np.int64))
    out = pd.DataFrame({key: keys})
    for filterid, band in BANDS.items():
        part = epochs[epochs["filterid"] == filterid]
        lc = np.searchsorted(keys, part[key].to_numpy(np.int64))
        flux = 10 ** (-0.4 * (part["mag"].to_numpy(float) - ZERO_POINT))
        feats = project(basis, lc, part["hmjd"].to_numpy(float), flux, keys.size, min_points)
        for name in feats.columns:
            out[f"{name}_{band}"] = feats[name].to_numpy()
    return out
