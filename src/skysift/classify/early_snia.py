"""Early SN Ia classifier (after Fink's early SN Ia module, Leoni et al. 2022): sigmoid fits to the rise.

Per light curve (one ZTF objectid = one band) the *rising phase* is the epochs up to the
maximum flux, within ``rise_window_days`` of it; a band with fewer than ``min_points`` rising
epochs has no features. Magnitudes become fluxes with a zero point of 27.5 (Fink's FLUXCAL
convention), times are counted from the maximum and fluxes divided by it, and
``f(t) = c / (1 + exp(-a (t - b)))`` is fitted by least squares (a vectorised
Levenberg-Marquardt over all light curves at once). Features per band (g, r):

    a        rise rate (1/day)             b       time of half rise (days, relative to the maximum)
    c        asymptote (units of the max)  snratio root-mean-square S/N of the rising epochs
    mse      mean squared fit residual     nrise   number of rising epochs

The g and r objectids of a sky source are associated by position
(:func:`skysift.crossmatch.associate.associate_sources`); a source is one row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from skysift.classify.active import active_learning_curve, min_labels, run_active_learning, summarise_curves
from skysift.classify.pipeline import build_pipeline
from skysift.classify.skipped import TooFewLabels
from skysift.io import InputError
from skysift.sky import associate_sources

__all__ = [
    "train_early_snia",
    "predict_early_snia",
    "empty_early_predictions",
    "SIGMOID_FEATURES",
    "ZERO_POINT",
    "sigmoid",
    "fit_sigmoids",
    "rising_phase_features",
    "source_features",
]

logger = logging.getLogger(__name__)

#: Features of one band, in order (columns ``<name>_<band>``).
SIGMOID_FEATURES: tuple[str, ...] = ("a", "b", "c", "snratio", "mse", "nrise")
#: Magnitude zero point of the flux scale.
ZERO_POINT = 27.5
#: filterid -> band name.
BANDS: dict[int, str] = {1: "g", 2: "r"}
#: Labelled sources of the positive class the training needs (the stratified test set needs some too).
MIN_POSITIVE = 4


def sigmoid(t: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """c / (1 + exp(-a (t - b)))."""
    return c / (1.0 + np.exp(-np.clip(a * (t - b), -50, 50)))


def fit_sigmoids(
    t: np.ndarray, f: np.ndarray, mask: np.ndarray, n_iter: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares sigmoid fits of many padded curves at once: (a, b, c, mse) per row.

    ``t``, ``f``, ``mask`` have shape (n_curves, max_points); masked-out points are ignored.
    Times are relative to the maximum (<= 0), fluxes normalised to it. a is kept in
    [1e-3, 10] per day, c in [0, 20].
    """
    w = mask.astype(float)
    n = w.sum(axis=1)
    tmin = np.where(mask, t, 0.0).min(axis=1)
    a = np.full(t.shape[0], 0.3)
    b = tmin / 2.0
    c = np.ones(t.shape[0])
    lam = np.full(t.shape[0], 1e-2)

    def loss(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Sum of squared residuals per row."""
        r = (sigmoid(t, a[:, None], b[:, None], c[:, None]) - f) * w
        return (r**2).sum(axis=1)

    current = loss(a, b, c)
    for _ in range(n_iter):
        z = np.clip(a[:, None] * (t - b[:, None]), -50, 50)
        s = 1.0 / (1.0 + np.exp(-z))
        ds = s * (1 - s)
        r = (c[:, None] * s - f) * w
        g = (c[:, None] * ds * (t - b[:, None]) * w, -c[:, None] * ds * a[:, None] * w, s * w)
        JtJ = np.empty((t.shape[0], 3, 3))
        for i in range(3):
            for j in range(i, 3):
                JtJ[:, i, j] = JtJ[:, j, i] = (g[i] * g[j]).sum(axis=1)
        Jtr = np.stack([(g[i] * r).sum(axis=1) for i in range(3)], axis=1)
        diag = np.maximum(np.diagonal(JtJ, axis1=1, axis2=2), 1e-9)
        damped = JtJ + lam[:, None, None] * (np.eye(3)[None] * diag[:, :, None])
        try:
            step = np.linalg.solve(damped, -Jtr[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            step = np.zeros_like(Jtr)
        step = np.nan_to_num(step)
        a_new = np.clip(a + step[:, 0], 1e-3, 10.0)
        b_new = np.clip(b + step[:, 1], tmin - 100.0, 100.0)
        c_new = np.clip(c + step[:, 2], 0.0, 20.0)
        new = loss(a_new, b_new, c_new)
        better = new < current
        a, b, c = np.where(better, a_new, a), np.where(better, b_new, b), np.where(better, c_new, c)
        current = np.where(better, new, current)
        lam = np.clip(np.where(better, lam / 3.0, lam * 4.0), 1e-7, 1e7)
    mse = current / np.maximum(n, 1)
    return a, b, c, mse


def rising_phase_features(
    lightcurves: pa.Table | pd.DataFrame, *, min_points: int = 3, rise_window_days: float | None = 50.0
) -> pd.DataFrame:
    """Sigmoid features of the rising phase of every g/r light curve (DR schema rows, one per objectid).

    Returns objectid, filterid and :data:`SIGMOID_FEATURES` (NaN where fewer than ``min_points``
    rising epochs). ``nrise`` is always set.
    """
    names = lightcurves.column_names if isinstance(lightcurves, pa.Table) else list(lightcurves.columns)
    missing = [c for c in ("objectid", "filterid", "hmjd", "mag", "magerr") if c not in names]
    if missing:
        raise InputError(f"light-curve table lacks column(s) {missing}; expected cleaned DR light curves")
    table = (
        lightcurves
        if isinstance(lightcurves, pa.Table)
        else pa.Table.from_pandas(lightcurves, preserve_index=False)
    )
    table = table.filter(pc.is_in(table["filterid"], pa.array(list(BANDS), table["filterid"].type)))
    lcs = table.select(["objectid", "filterid"]).to_pandas()
    # flat arrays over all epochs (no Python loop per light curve); lc = light-curve index of an epoch
    lengths = pc.list_value_length(table["hmjd"]).to_numpy(zero_copy_only=False).astype(np.int64)
    lc = np.repeat(np.arange(len(lcs)), lengths)

    def flat(name: str) -> np.ndarray:
        """One list column flattened to float64."""
        return pc.list_flatten(table[name]).to_numpy(zero_copy_only=False).astype(float)

    t, mag, magerr = flat("hmjd"), flat("mag"), flat("magerr")
    order = np.lexsort((t, lc))
    lc, t, mag, magerr = lc[order], t[order], mag[order], magerr[order]
    flux = 10 ** (-0.4 * (mag - ZERO_POINT))
    err = 0.4 * np.log(10) * flux * magerr
    # the first epoch of maximum flux of every light curve
    by_flux = np.lexsort((np.arange(t.size), -flux, lc))
    first = np.ones(t.size, dtype=bool)
    first[1:] = lc[by_flux][1:] != lc[by_flux][:-1]
    imax = np.full(len(lcs), -1, dtype=np.int64)
    imax[lc[by_flux][first]] = by_flux[first]
    pos = np.arange(t.size)
    keep = pos <= imax[lc]
    t_max, f_max = t[imax[lc]], flux[imax[lc]]
    if rise_window_days is not None:
        keep &= t >= t_max - rise_window_days
    nrise = np.bincount(lc[keep], minlength=len(lcs)).astype(np.int64)
    out = pd.DataFrame(
        {"objectid": lcs["objectid"].to_numpy(np.int64), "filterid": lcs["filterid"].to_numpy(np.int8)}
    )
    for name in SIGMOID_FEATURES[:-1]:
        out[name] = np.nan
    out["nrise"] = nrise
    fit = np.flatnonzero(nrise >= min_points)
    if fit.size:
        row = np.full(len(lcs), -1, dtype=np.int64)
        row[fit] = np.arange(fit.size)
        sel = keep & (row[lc] >= 0)
        r = row[lc[sel]]
        col = np.arange(sel.sum()) - np.searchsorted(r, r)  # rank of the epoch within its rise
        width = int(nrise[fit].max())
        tt = np.zeros((fit.size, width))
        ff = np.zeros((fit.size, width))
        mask = np.zeros((fit.size, width), dtype=bool)
        tt[r, col] = (t - t_max)[sel]
        ff[r, col] = (flux / f_max)[sel]
        mask[r, col] = True
        snr2 = np.bincount(r, weights=(flux[sel] / np.maximum(err[sel], 1e-12)) ** 2, minlength=fit.size)
        snr = np.sqrt(snr2 / nrise[fit])
        a, b, c, mse = fit_sigmoids(tt, ff, mask)
        for name, values in {"a": a, "b": b, "c": c, "snratio": snr, "mse": mse}.items():
            out.loc[out.index[fit], name] = values
    logger.info(
        "rising-phase sigmoid fits: %d light curves, %d with >= %d rising epochs",
        len(out),
        fit.size,
        min_points,
    )
    return out


def source_features(
    lightcurves: pa.Table | pd.DataFrame,
    *,
    min_points: int = 3,
    rise_window_days: float | None = 50.0,
    radius_arcsec: float = 1.0,
) -> pd.DataFrame:
    """One row per sky source: source_id, objectid_g, objectid_r and ``<feature>_<band>`` for g and r."""
    per_lc = rising_phase_features(lightcurves, min_points=min_points, rise_window_days=rise_window_days)
    columns = ["objectid", "filterid", "fieldid", "objra", "objdec"]
    if isinstance(lightcurves, pa.Table):
        objects = lightcurves.select(columns).to_pandas()
    else:
        objects = lightcurves.loc[:, columns].copy()
    objects = objects.rename(columns={"objra": "ra", "objdec": "dec"})
    objects = associate_sources(objects[objects["filterid"].isin(list(BANDS))], radius_arcsec)
    merged = objects[["objectid", "source_id"]].merge(per_lc, on="objectid", how="inner")
    # one light curve per source and band: the one with most rising epochs (ties: smallest objectid)
    merged = merged.sort_values(
        ["source_id", "filterid", "nrise", "objectid"], ascending=[True, True, False, True]
    )
    merged = merged.drop_duplicates(["source_id", "filterid"], keep="first")
    out = pd.DataFrame({"source_id": np.unique(merged["source_id"].to_numpy(np.int64))})
    for filterid, band in BANDS.items():
        part = merged[merged["filterid"] == filterid].set_index("source_id")
        part = part.reindex(out["source_id"])
        # nullable Int64 kept as such: to_numpy() would give objects (NA) in one batch and int64 in another,
        # and parquet files of different types (double / int64) do not concatenate
        out[f"objectid_{band}"] = part["objectid"].astype("Int64").array
        for name in SIGMOID_FEATURES:
            values = part[name].to_numpy(float)
            out[f"{name}_{band}"] = np.nan_to_num(values, nan=0.0) if name == "nrise" else values
    return out


def feature_names(bands: Sequence[str] = ("g", "r")) -> list[str]:
    """Column names of the sigmoid features of ``bands``."""
    return [f"{name}_{band}" for band in bands for name in SIGMOID_FEATURES]


def source_labels(features: pd.DataFrame, labels: pd.Series) -> pd.Series:
    """Label of every source from its g or r objectid's label (objectid -> label); unlabelled sources left out."""
    by_g = labels.reindex(features["objectid_g"].astype("float").to_numpy()).to_numpy(dtype=object)
    by_r = labels.reindex(features["objectid_r"].astype("float").to_numpy()).to_numpy(dtype=object)
    lab = np.where(pd.isna(by_g), by_r, by_g)
    out = pd.Series(lab, index=features["source_id"].to_numpy(np.int64), name="label").dropna().astype(str)
    out.index.name = "source_id"
    return out


def _training_set(
    features: pd.DataFrame, labels: pd.Series, positive: str, exclude: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Labelled sources with a fitted rise in g or r (``exclude`` classes left out) and binary labels."""
    lab = source_labels(features, labels)
    df = features.set_index("source_id").join(lab, how="inner")
    fitted = df[["a_g", "a_r"]].notna().any(axis=1)
    df = df[fitted & ~df["label"].isin(list(exclude))]
    y = np.where(df["label"].to_numpy() == positive, positive, "other")
    return df, y


def train_early_snia(
    features: pd.DataFrame,
    labels: pd.Series,
    *,
    positive: str = "snia",
    exclude: Sequence[str] = ("constant",),
    strategies: Sequence[str] = ("uncertainty", "random"),
    seeds: Sequence[int] = (0, 1, 2),
    n_initial: int = 10,
    batch_size: int = 5,
    budget: int = 200,
    test_fraction: float = 0.3,
    n_estimators: int = 100,
    n_jobs: int = 1,
) -> tuple[object, dict, pd.DataFrame]:
    """Train the SN Ia vs rest classifier with active learning; return (model, report, learning curves).

    Learning curves (purity/efficiency on a held-out test set) are computed for every strategy
    and seed; the returned model is the one trained on the labels uncertainty sampling (the
    first strategy) bought with the first seed, and the report holds its held-out purity and
    efficiency and the mean/std over seeds of every strategy at the full budget.
    """
    df, y = _training_set(features, labels, positive, exclude)
    names = feature_names()
    X = pd.DataFrame(df[names].to_numpy(float), columns=names)
    n_pos = int((y == positive).sum())
    needs = max(min_labels(n_initial, test_fraction), MIN_POSITIVE + 1)
    if y.size < needs or n_pos < MIN_POSITIVE or n_pos == y.size:
        raise TooFewLabels(
            f"{y.size} labelled sources with a fitted rise ({n_pos} {positive!r}), needs >= {needs} with "
            f">= {MIN_POSITIVE} {positive!r} and some others (classify.early_snia.n_initial = {n_initial} "
            f"plus a {test_fraction:.0%} test set)",
            n_labels=y.size,
            needs=needs,
        )
    logger.info("early SN Ia training set: %d sources, %d %s", y.size, n_pos, positive)

    def make_model(seed: int):
        """The random forest of one run."""
        return build_pipeline("random_forest", n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs)

    budget = min(budget, int((1 - test_fraction) * y.size) - n_initial)
    curves = run_active_learning(
        X, y, make_model, strategies=strategies, seeds=seeds, n_initial=n_initial,
        batch_size=batch_size, budget=budget, test_fraction=test_fraction, positive_class=positive,
    )  # fmt: skip
    _, info = active_learning_curve(
        X, y, make_model, strategy=strategies[0], seed=seeds[0], n_initial=n_initial,
        batch_size=batch_size, budget=budget, test_fraction=test_fraction, positive_class=positive,
    )  # fmt: skip
    model = info["model"]
    test = info["test"]
    pred = np.asarray(model.predict(X.iloc[test])).astype(str)
    truth = y[test]
    tp = int(((pred == positive) & (truth == positive)).sum())
    final = {
        "strategy": strategies[0],
        "seed": seeds[0],
        "n_labels": int(info["labelled"].size),
        "n_test": int(test.size),
        "n_test_positive": int((truth == positive).sum()),
        "purity": tp / max(int((pred == positive).sum()), 1),
        "efficiency": tp / max(int((truth == positive).sum()), 1),
    }
    summary = summarise_curves(curves, ["purity", "efficiency", "balanced_accuracy"])
    at_budget = summary[summary["n_labels"] == summary["n_labels"].max()]
    report = {
        "positive_class": positive,
        "excluded_classes": list(exclude),
        "features": names,
        "n_sources": int(y.size),
        "n_positive": n_pos,
        "params": {"n_initial": n_initial, "batch_size": batch_size, "budget": budget, "seeds": list(seeds),
                   "strategies": list(strategies), "test_fraction": test_fraction, "n_estimators": n_estimators},
        "held_out": final,
        "at_budget": at_budget.set_index("strategy").to_dict(orient="index"),
    }  # fmt: skip
    logger.info("early SN Ia (%s, %d labels): purity %.3f, efficiency %.3f on %d held-out sources",
                final["strategy"], final["n_labels"], final["purity"], final["efficiency"], final["n_test"])  # fmt: skip
    return model, report, curves


def empty_early_predictions(positive: str) -> pd.DataFrame:
    """A predictions table without rows (a skipped classifier): the columns of :func:`predict_early_snia`."""
    return pd.DataFrame(
        {
            "source_id": np.empty(0, dtype=np.int64),
            "objectid_g": pd.array([], dtype="Int64"),
            "objectid_r": pd.array([], dtype="Int64"),
            f"prob_{positive}": np.empty(0, dtype=np.float64),
        }
    )


def predict_early_snia(model: object | None, features: pd.DataFrame, positive: str = "snia") -> pd.DataFrame:
    """Probability of ``positive`` for every source: source_id, objectid_g, objectid_r, prob_<positive>."""
    names = feature_names()
    out = features[["source_id", "objectid_g", "objectid_r"]].copy()
    if model is None:  # not trained (too few labels): no probabilities
        out[f"prob_{positive}"] = np.nan
        return out
    proba = model.predict_proba(pd.DataFrame(features[names].to_numpy(float), columns=names))
    out[f"prob_{positive}"] = proba[:, list(model.classes_).index(positive)]
    fitted = features[["a_g", "a_r"]].notna().any(axis=1).to_numpy()
    out.loc[~fitted, f"prob_{positive}"] = np.nan  # no rise fitted: not classified
    return out
