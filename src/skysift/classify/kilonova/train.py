"""The kilonova classifier: a forest trained on simulated light curves, scored on held-out simulations
and on the run's labelled sources, and the kilonova probability of every source."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import train_test_split

from skysift.classify.early_snia import source_labels
from skysift.classify.kilonova.basis import (
    POSITIVE,
    WINDOW_AFTER,
    WINDOW_BEFORE,
    PCABasis,
    build_basis,
    feature_names,
    lightcurve_features,
)
from skysift.classify.persist import data_hash
from skysift.classify.pipeline import build_pipeline
from skysift.classify.skipped import SKIPPED

__all__ = ["simulated_training_set", "train_kilonova", "predict_kilonova"]

logger = logging.getLogger(__name__)


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
        return _skipped("no run light curves or labels given", 0, minimum)
    lab = source_labels(run, labels)
    df = run.set_index("source_id").join(lab, how="inner")
    n_pos = int((df["label"] == POSITIVE).sum())
    if n_pos < minimum:
        reason = (
            f"{n_pos} labelled kilonova source(s) among {len(df)} labelled sources, "
            f"needs >= {minimum} (classify.kilonova.min_run_kilonovae)"
        )
        logger.info("kilonova scores on the run's labels skipped: %s", reason)
        return _skipped(reason, n_pos, minimum)
    names = list(model.feature_names_in_)
    pred = np.asarray(model.predict(pd.DataFrame(df[names].to_numpy(float), columns=names))).astype(str)
    truth = np.where(df["label"].to_numpy() == POSITIVE, POSITIVE, "other")
    scores = _scores(truth, pred)
    logger.info(
        "kilonova classifier on the run's labels: precision %.3f recall %.3f",
        scores["precision"],
        scores["recall"],
    )
    return {"status": "evaluated", **scores}


def _skipped(reason: str, n_labels: int, needs: int) -> dict[str, Any]:
    """The ``run_labels`` entry when the run's labels cannot score the classifier."""
    return {"status": SKIPPED, "reason": reason, "n_labels": n_labels, "needs": needs}


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
