"""Kilonova classifier (after Fink's kilonova module, Biswas et al. 2023): PCA of simulated kilonovae + forest.

A *basis* of ``n_components`` principal components is built from noise-free kilonova light
curves of the demo simulator's kilonova model (:mod:`skysift.simulate.models`):
each band's flux, normalised to its peak, on a grid of days around the peak. An observed
light curve (one ZTF objectid = one band) is aligned on its brightest epoch, its fluxes
(zero point 27.5) within ``[-WINDOW_BEFORE, +WINDOW_AFTER]`` days are divided by that maximum
and projected on the basis by ridge-regularised least squares. Features per band (g, r):

    pc1..pcK   projection coefficients       residual   RMS of the projection residual (units of the max)
    max_flux   brightest flux (ZP 27.5)      npoints    epochs inside the window

A kilonova (fast rise, ~1 mag/day fade) projects with a small residual; a supernova or a
variable star stays bright over the window and leaves a large one. A random forest separates
kilonovae from every other class on light curves simulated at run time with the demo
survey's cadence and noise (:func:`skysift.simulate.simulate_lightcurves`, seeded);
precision and recall are measured on held-out simulations and, when the run has enough
labelled kilonovae, on the run's own labelled sources.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import train_test_split

from skysift.classify.early_snia import BANDS, ZERO_POINT, source_labels
from skysift.classify.model import build_pipeline
from skysift.classify.persist import data_hash
from skysift.io import InputError
from skysift.sky import associate_sources

__all__ = [
    "WINDOW_BEFORE",
    "WINDOW_AFTER",
    "PCABasis",
    "build_basis",
    "project",
    "lightcurve_features",
    "feature_names",
    "simulated_training_set",
    "read_run_lightcurves",
    "run_features",
    "train_kilonova",
    "predict_kilonova",
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


def simulated_training_set(
    basis: PCABasis,
    *,
    n_kilonova: int = 500,
    n_per_class: int = 100,
    n_constant: int = 2000,
    negative_classes: Sequence[str] | None = None,
    seed: int = 0,
    min_points: int = 2,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and labels (kilonova / other) of sources simulated with the demo survey's cadence and noise.

    ``negative_classes`` defaults to every other class of the demo simulator; ``constant`` gets
    ``n_constant`` sources (faint constant stars seen once or twice near the limit are the
    commonest look-alikes of a kilonova), the others ``n_per_class``. Sources with no
    detection at all are left out (they have no light curve).
    """
    from skysift.simulate import CLASSES, simulate_lightcurves

    negatives = [c for c in CLASSES if c != POSITIVE] if negative_classes is None else list(negative_classes)
    counts = {
        POSITIVE: n_kilonova,
        **{c: n_constant if c == "constant" else n_per_class for c in negatives if c != POSITIVE},
    }
    epochs = simulate_lightcurves(counts, seed=seed)
    feats = lightcurve_features(epochs, basis, min_points=min_points)
    cls = epochs.drop_duplicates("source_id").set_index("source_id")["class"]
    y = np.where(cls.reindex(feats["source_id"]).to_numpy() == POSITIVE, POSITIVE, "other")
    logger.info(
        "kilonova training simulations: %d sources with detections (%d kilonovae) of %d simulated",
        len(feats),
        int((y == POSITIVE).sum()),
        sum(counts.values()),
    )
    return feats, y


def read_run_lightcurves(
    manifests: Sequence[str | Path], clean: dict[str, Any] | None = None, min_epochs: int = 1
) -> pa.Table:
    """The run's DR light curves with its quality cuts (``clean`` config) but at least ``min_epochs`` epochs.

    The clean stage keeps light curves with >= clean.min_epochs epochs (10 by default); a kilonova
    fades below the limit in days, so its light curves are read again from the fetched DR files.
    """
    from skysift.layout import read_dr_files
    from skysift.lightcurves import CleanConfig, clean_table, read_manifest

    config = dataclasses.replace(CleanConfig.from_config(dict(clean or {})), min_epochs=min_epochs)
    tables = []
    for manifest in manifests:
        listing = pd.read_csv(manifest, sep="\t")
        paths = read_manifest(manifest)
        if "filterid" in listing.columns:  # g and r only: the i band is not used
            paths = [p for p, f in zip(paths, listing["filterid"], strict=True) if int(f) in BANDS]
        if paths:
            tables.append(clean_table(read_dr_files(paths), config))
    table = pa.concat_tables(tables) if tables else None
    if table is None:
        raise InputError("no fetch manifests given for the kilonova classifier")
    logger.info("kilonova classifier: %d light curves with >= %d good epochs", table.num_rows, min_epochs)
    return table


def run_features(
    lightcurves: pa.Table, basis: PCABasis, *, min_points: int = 2, radius_arcsec: float = 1.0
) -> pd.DataFrame:
    """Features of every sky source of DR light curves (g/r objectids associated by position).

    Returns source_id, objectid_g, objectid_r, objectid (r if present, else g), ra, dec and
    the :func:`feature_names` columns.
    """
    needed = ("objectid", "filterid", "fieldid", "objra", "objdec", "hmjd", "mag")
    missing = [c for c in needed if c not in lightcurves.column_names]
    if missing:
        raise InputError(f"light-curve table lacks column(s) {missing}; expected DR light curves")
    table = lightcurves.filter(
        pc.is_in(lightcurves["filterid"], pa.array(list(BANDS), lightcurves["filterid"].type))
    )
    objects = table.select(["objectid", "filterid", "fieldid", "objra", "objdec"]).to_pandas()
    objects = objects.rename(columns={"objra": "ra", "objdec": "dec"})
    objects = associate_sources(objects, radius_arcsec)
    lengths = pc.list_value_length(table["hmjd"]).to_numpy(zero_copy_only=False).astype(np.int64)
    epochs = pd.DataFrame(
        {
            "hmjd": pc.list_flatten(table["hmjd"]).to_numpy(zero_copy_only=False).astype(float),
            "mag": pc.list_flatten(table["mag"]).to_numpy(zero_copy_only=False).astype(float),
        }
    )
    lc = np.repeat(np.arange(len(objects)), lengths)
    flux = 10 ** (-0.4 * (epochs["mag"].to_numpy() - ZERO_POINT))
    per_lc = project(basis, lc, epochs["hmjd"].to_numpy(), flux, len(objects), min_points)
    per_lc["objectid"] = objects["objectid"].to_numpy(np.int64)
    merged = objects.merge(per_lc, on="objectid", how="inner")
    merged = merged.sort_values(
        ["source_id", "filterid", "npoints", "objectid"], ascending=[True, True, False, True]
    )
    merged = merged.drop_duplicates(["source_id", "filterid"], keep="first")
    out = pd.DataFrame({"source_id": np.unique(merged["source_id"].to_numpy(np.int64))})
    names = [c for c in per_lc.columns if c != "objectid"]
    for filterid, band in BANDS.items():
        part = merged[merged["filterid"] == filterid].set_index("source_id").reindex(out["source_id"])
        out[f"objectid_{band}"] = part["objectid"].astype("Int64").array
        for name in names:
            values = part[name].to_numpy(float)
            out[f"{name}_{band}"] = np.nan_to_num(values, nan=0.0) if name == "npoints" else values
    pos = merged.groupby("source_id")[["ra", "dec"]].mean().reindex(out["source_id"])
    out["objectid"] = out["objectid_r"].fillna(out["objectid_g"]).astype(np.int64)
    out["filterid"] = np.where(out["objectid_r"].notna(), 2, 1).astype(np.int8)
    fields = objects.drop_duplicates("objectid").set_index("objectid")["fieldid"]
    out["fieldid"] = fields.reindex(out["objectid"]).to_numpy()
    out["ra"] = pos["ra"].to_numpy(float)
    out["dec"] = pos["dec"].to_numpy(float)
    logger.info("kilonova features of %d sources (%d light curves)", len(out), len(objects))
    return out


def _scores(truth: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Precision/recall of the kilonova class."""
    t, p = truth == POSITIVE, pred == POSITIVE
    return {
        "n": int(truth.size),
        "n_kilonova": int(t.sum()),
        "n_predicted": int(p.sum()),
        "precision": float(precision_score(t, p, zero_division=0)),
        "recall": float(recall_score(t, p, zero_division=0)),
    }


def train_kilonova(
    run: pd.DataFrame | None = None,
    labels: pd.Series | None = None,
    *,
    basis: PCABasis | None = None,
    n_components: int = 3,
    n_basis: int = 200,
    n_kilonova: int = 500,
    n_per_class: int = 100,
    n_constant: int = 2000,
    negative_classes: Sequence[str] | None = None,
    test_fraction: float = 0.3,
    n_estimators: int = 200,
    min_points: int = 2,
    min_run_kilonovae: int = 3,
    seed: int = 0,
    n_jobs: int = 1,
) -> tuple[object, PCABasis, dict[str, Any]]:
    """Build the basis (unless given), simulate a training set, fit the forest; return (model, basis, report).

    Precision/recall (threshold 0.5) come from a stratified held-out part of the simulations;
    when ``run`` (from :func:`run_features`) and ``labels`` (objectid -> class) hold at least
    ``min_run_kilonovae`` labelled kilonovae, also on the run's labelled sources (never trained on).
    The saved model is refitted on all simulations.
    """
    if basis is None:
        basis = build_basis(n_basis, n_components, seed)
    n_components = basis.n_components
    sims, y = simulated_training_set(
        basis, n_kilonova=n_kilonova, n_per_class=n_per_class, n_constant=n_constant, negative_classes=negative_classes,
        seed=seed, min_points=min_points,
    )  # fmt: skip
    names = feature_names(n_components)
    X = pd.DataFrame(sims[names].to_numpy(float), columns=names)
    train, test = train_test_split(np.arange(y.size), test_size=test_fraction, random_state=seed, stratify=y)
    model = build_pipeline("random_forest", n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs)
    model.fit(X.iloc[train], y[train])
    held_out = _scores(y[test], np.asarray(model.predict(X.iloc[test])).astype(str))
    model.fit(X, y)
    report: dict[str, Any] = {
        "model": "kilonova",
        "positive_class": POSITIVE,
        "features": names,
        "params": {
            "n_components": n_components, "n_basis": n_basis, "n_kilonova": n_kilonova,
            "n_per_class": n_per_class, "n_constant": n_constant, "test_fraction": test_fraction, "n_estimators": n_estimators,
            "min_points": min_points, "seed": seed, "window_days": [-WINDOW_BEFORE, WINDOW_AFTER],
        },
        "basis_explained_variance": basis.explained.tolist(),
        "classes": [str(c) for c in model.classes_],
        "class_counts": {c: int((y == c).sum()) for c in np.unique(y)},
        "n_train": int(y.size),
        "data_hash": data_hash(X.to_numpy(np.float32), y, names),
        "held_out_simulations": held_out,
    }  # fmt: skip
    report["run_labels"] = _run_scores(model, run, labels, min_run_kilonovae)
    logger.info(
        "kilonova classifier: held-out simulations precision %.3f recall %.3f (%d kilonovae of %d)",
        held_out["precision"],
        held_out["recall"],
        held_out["n_kilonova"],
        held_out["n"],
    )
    return model, basis, report


def _run_scores(
    model: object, run: pd.DataFrame | None, labels: pd.Series | None, minimum: int
) -> dict[str, Any]:
    """Scores on the run's labelled sources, or why there are none."""
    if run is None or labels is None:
        return {"skipped": "no run light curves or labels given"}
    lab = source_labels(run, labels)
    df = run.set_index("source_id").join(lab, how="inner")
    n_pos = int((df["label"] == POSITIVE).sum())
    if n_pos < minimum:
        reason = (
            f"the run has {n_pos} labelled kilonova source(s) (< {minimum}) among {len(df)} labelled sources"
        )
        logger.info("kilonova scores on the run's labels skipped: %s", reason)
        return {"skipped": reason}
    names = list(model.feature_names_in_)
    pred = np.asarray(model.predict(pd.DataFrame(df[names].to_numpy(float), columns=names))).astype(str)
    truth = np.where(df["label"].to_numpy() == POSITIVE, POSITIVE, "other")
    scores = _scores(truth, pred)
    logger.info(
        "kilonova classifier on the run's labels: precision %.3f recall %.3f",
        scores["precision"],
        scores["recall"],
    )
    return scores


def predict_kilonova(model: object, run: pd.DataFrame) -> pd.DataFrame:
    """Kilonova probability of every source: source_id, objectid(_g, _r), filterid, fieldid, ra, dec,
    npoints_g/r and prob_kilonova (objectid/filterid: the source's r light curve, else g)."""
    names = list(model.feature_names_in_)
    keys = ["source_id", "objectid", "objectid_g", "objectid_r", "filterid", "fieldid", "ra", "dec"]
    out = run[[*keys, "npoints_g", "npoints_r"]].copy()
    if len(run) == 0:
        out[f"prob_{POSITIVE}"] = np.empty(0)
        return out
    proba = model.predict_proba(pd.DataFrame(run[names].to_numpy(float), columns=names))
    out[f"prob_{POSITIVE}"] = proba[:, list(model.classes_).index(POSITIVE)]
    return out
