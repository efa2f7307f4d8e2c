"""Tests of skysift.classify.kilonova: PCA basis, projection features, simulations, training, predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from skysift.classify import load_model, save_model
from skysift.classify.kilonova import (
    WINDOW_AFTER,
    PCABasis,
    build_basis,
    feature_names,
    lightcurve_features,
    predict_kilonova,
    project,
    run_features,
    train_kilonova,
)
from skysift.io import InputError
from skysift.simulate import simulate_lightcurves


@pytest.fixture(scope="module")
def basis() -> PCABasis:
    """A small basis (100 simulated kilonovae)."""
    return build_basis(100, 3, seed=1)


@pytest.fixture(scope="module")
def simulated(basis):
    """Features of simulated kilonovae, SNe Ia, constant stars and RR Lyrae, with their classes."""
    epochs = simulate_lightcurves({"kilonova": 40, "snia": 40, "constant": 40, "rrlyrae": 40}, seed=3)
    feats = lightcurve_features(epochs, basis)
    cls = epochs.drop_duplicates("source_id").set_index("source_id")["class"]
    return feats.assign(cls=cls.reindex(feats["source_id"]).to_numpy()), epochs


def test_basis_is_deterministic_and_dominated_by_one_shape(basis):
    again = build_basis(100, 3, seed=1)
    np.testing.assert_array_equal(again.components, basis.components)
    assert basis.components.shape == (3, basis.grid.size)
    assert basis.explained[0] > 0.9 and basis.explained.sum() < 1.0 + 1e-9
    # a kilonova fades within days: the first component is near zero two weeks after the peak
    peak = np.argmin(np.abs(basis.grid))
    late = np.argmin(np.abs(basis.grid - 14.0))
    assert abs(basis.components[0, late]) < 0.01 * abs(basis.components[0, peak])
    round_trip = PCABasis.from_dict(basis.to_dict())
    np.testing.assert_allclose(round_trip.at(np.array([0.3, 2.0])), basis.at(np.array([0.3, 2.0])))


def test_kilonova_projects_with_small_residual_and_supernova_with_large(simulated):
    feats, _ = simulated
    med = feats.groupby("cls")["residual_r"].median()
    assert med["kilonova"] < 0.05
    for other in ("snia", "constant", "rrlyrae"):
        assert med[other] > 0.3, med
    kn = feats[feats["cls"] == "kilonova"]
    assert (kn["npoints_r"] <= 5).all()  # a ZTF-like cadence sees a kilonova a few times at most


def test_projection_of_a_basis_curve_and_of_a_flat_curve(basis):
    t = np.array([0.0, 0.5, 1.0, 1.6, 2.5, 3.0])
    curve = 2.0 * basis.at(t)[:, 0]  # any scale: fluxes are divided by the maximum
    flat = np.full(12, 5.0) - np.linspace(0, 0.01, 12)  # brightest first: all 12 within the window
    t_flat = np.linspace(-8, 12, 12)
    lc = np.r_[np.zeros(t.size, np.int64), np.ones(12, np.int64)]
    out = project(basis, lc, np.r_[t, t_flat], np.r_[curve, flat], n_lc=3)
    assert out.loc[0, "residual"] < 0.02
    assert out.loc[1, "residual"] > 0.3
    assert out.loc[0, "npoints"] == 6 and out.loc[1, "npoints"] == 12
    assert out.loc[0, "max_flux"] == pytest.approx(curve.max())
    assert out.loc[2, "npoints"] == 0 and np.isnan(out.loc[2, "residual"])  # no epochs: NaN, not 0
    # epochs outside the window around the brightest epoch are not used
    far = project(
        basis, np.zeros(3, np.int64), np.array([0.0, 1.0, WINDOW_AFTER + 5]), np.array([1, 0.4, 0.3]), 1
    )
    assert far.loc[0, "npoints"] == 2


def test_too_few_points_give_nan_coefficients(basis):
    out = project(basis, np.zeros(1, np.int64), np.array([3.0]), np.array([10.0]), n_lc=1, min_points=2)
    assert out.loc[0, "npoints"] == 1 and out.loc[0, "max_flux"] == 10.0
    assert np.isnan(out.loc[0, "pc1"]) and np.isnan(out.loc[0, "residual"])


def test_training_on_simulations_gives_high_precision_recall_and_is_deterministic(basis, tmp_path):
    kwargs = {"n_kilonova": 80, "n_per_class": 10, "n_constant": 80, "n_estimators": 30, "seed": 2}
    model, _, report = train_kilonova(basis=basis, **kwargs)
    held = report["held_out_simulations"]
    assert held["n_kilonova"] == 24  # 30 % of 80, stratified
    assert held["precision"] > 0.8 and held["recall"] > 0.8, held
    assert report["run_labels"] == {
        "status": "skipped",
        "reason": "no run light curves or labels given",
        "n_labels": 0,
        "needs": 3,
    }
    assert report["features"] == feature_names(3)
    _, _, again = train_kilonova(basis=basis, **kwargs)
    assert again["data_hash"] == report["data_hash"] and again["held_out_simulations"] == held
    # persisted with skops; loading checks the feature list
    path = save_model(model, tmp_path / "kn.skops")
    assert list(load_model(path, feature_names(3)).classes_) == ["kilonova", "other"]
    with pytest.raises(InputError, match="missing from the table"):
        load_model(path, feature_names(2))


def _dr_table(epochs: pd.DataFrame) -> pa.Table:
    """A DR-like table (one row per source and band) from simulated detections."""
    rows = []
    for (sid, fid), part in epochs.groupby(["source_id", "filterid"]):
        ra = 10.0 + 0.01 * sid
        rows.append(
            {
                "objectid": int(633 * 10**12 + fid * 10**11 + 10**9 + 10**8 + sid),
                "filterid": int(fid),
                "fieldid": 633,
                "objra": ra,
                "objdec": 20.0,
                "hmjd": part["hmjd"].tolist(),
                "mag": part["mag"].tolist(),
            }
        )
    return pa.Table.from_pylist(rows)


def test_run_features_and_predictions_cover_every_source(basis, simulated):
    _, epochs = simulated
    table = _dr_table(epochs)
    run = run_features(table, basis)
    n_sources = epochs["source_id"].nunique()
    assert len(run) == n_sources  # g and r light curves of a source associated into one row
    assert run["objectid_g"].notna().sum() > 0.8 * n_sources
    assert (run["filterid"] == np.where(run["objectid_r"].notna(), 2, 1)).all()
    model, _, report = train_kilonova(
        run,
        pd.Series({oid: "kilonova" for oid in []}, dtype=str),
        basis=basis,
        n_kilonova=80,
        n_per_class=10,
        n_constant=80,
        n_estimators=30,
        seed=2,
    )
    assert report["run_labels"]["status"] == "skipped" and report["run_labels"]["n_labels"] == 0
    assert "classify.kilonova.min_run_kilonovae" in report["run_labels"]["reason"]
    pred = predict_kilonova(model, run)
    assert len(pred) == n_sources and pred["prob_kilonova"].between(0, 1).all()
    assert {"objectid", "filterid", "fieldid", "ra", "dec"} <= set(pred.columns)  # what candidate lists need
    assert (pred["fieldid"] == 633).all() and pred["ra"].notna().all()
    sid = run["objectid"] % 10**8
    cls = epochs.drop_duplicates("source_id").set_index("source_id")["class"].reindex(sid).to_numpy()
    p = pred["prob_kilonova"].to_numpy()
    assert p[cls == "kilonova"].mean() > 0.7 and p[cls != "kilonova"].mean() < 0.3
    # with labelled kilonovae in the run, it is also scored on them (never trained on)
    labels = pd.Series(cls, index=run["objectid"].to_numpy(np.int64))
    _, _, report = train_kilonova(
        run, labels, basis=basis, n_kilonova=80, n_per_class=10, n_constant=80, n_estimators=30, seed=2
    )
    assert report["run_labels"]["n_kilonova"] == int((cls == "kilonova").sum())
    assert report["run_labels"]["recall"] > 0.7
