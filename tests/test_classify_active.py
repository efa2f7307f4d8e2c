"""Tests of the classifier outputs: hierarchy, calibration, skops persistence, active learning, early SN Ia."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from astropy.table import Table
from sklearn.ensemble import RandomForestClassifier

from skysift.classify import (
    load_model,
    model_card,
    plot_confusion_matrix,
    plot_reliability,
    predict_classes,
    save_model,
    train_classifier,
    write_per_class_table,
)
from skysift.classify.active import (
    LabelOracle,
    active_learning_curve,
    run_active_learning,
    select_batch,
    summarise_curves,
)
from skysift.classify.early_snia import fit_sigmoids, rising_phase_features, sigmoid
from skysift.io import InputError
from test_classify import make_features

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def leaves():
    """Blobs of demo classes from three hierarchy groups."""
    return make_features(
        {"rrlyrae": 50, "cepheid": 40, "agn": 50, "snia": 40, "snii": 30, "constant": 80}, seed=11
    )


def test_hierarchical_model_scores_near_one_and_probabilities_sum_to_one(leaves):
    df, labels = leaves
    model, report = train_classifier(df, labels, n_estimators=40, hierarchical=True, cv_folds=3)
    assert type(model.named_steps["classify"]).__name__ == "HierarchicalClassifier"
    assert report["cv"]["macro"]["recall"] > 0.9
    pred = predict_classes(model, df)
    probs = pred.filter(like="prob_").to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    shuffled = pd.Series(np.random.default_rng(3).permutation(labels.to_numpy()), index=labels.index)
    _, chance = train_classifier(df, shuffled, n_estimators=40, hierarchical=True, cv_folds=3)
    assert chance["cv"]["macro"]["recall"] < 0.35  # six classes: chance is 1/6


@pytest.mark.parametrize(
    ("model", "calibration"), [("hist_gradient_boosting", "none"), ("random_forest", "sigmoid")]
)
def test_other_models_and_calibration(leaves, model, calibration):
    df, labels = leaves
    fitted, report = train_classifier(
        df, labels, model=model, n_estimators=30, calibration=calibration, cv_folds=3
    )
    assert report["cv"]["macro"]["f1"] > 0.85
    rel = report["cv"]["reliability"]
    assert sum(b["count"] for b in rel["bins"]) == len(labels)
    assert 0 <= rel["ece"] <= 1 and rel["brier"] < 0.5


def test_outputs_skops_card_and_feature_check(leaves, tmp_path):
    df, labels = leaves
    model, report = train_classifier(df, labels, n_estimators=20, cv_folds=3)
    card = model_card(model, report)
    assert card["classes"] == sorted(set(labels)) and card["data_hash"].startswith("sha256:")
    assert card["features"] == [c for c in df.columns if c.startswith("feature_") or c == "always_nan"]
    json.dumps(card, allow_nan=False)
    path = save_model(model, tmp_path / "m.skops", card)
    pd.testing.assert_frame_equal(predict_classes(load_model(path, df), df), predict_classes(model, df))
    with pytest.raises(
        InputError, match=r"missing from the table \['feature_1'\].*not used by the model \['extra'\]"
    ):
        load_model(path, df.drop(columns="feature_1").assign(extra=1.0))
    plot_confusion_matrix(report, tmp_path / "cm.png")
    plot_reliability(report, tmp_path / "rel.png")
    assert (tmp_path / "cm.png").read_bytes()[:8] == PNG == (tmp_path / "rel.png").read_bytes()[:8]
    table = Table.read(write_per_class_table(report, tmp_path / "pc.ecsv"))
    assert list(table["class"])[-1] == "macro avg" and table["support"][:-1].sum() == len(labels)


def _imbalanced(seed: int = 0):
    """Six gaussian classes, three of them rare, in 5 dimensions."""
    rng = np.random.default_rng(seed)
    sizes = [600, 400, 300, 40, 30, 30]
    means = rng.normal(0, 2.5, (len(sizes), 5))
    X = np.vstack([rng.normal(m, 1.0, (n, 5)) for m, n in zip(means, sizes, strict=True)])
    y = np.repeat([f"c{i}" for i in range(len(sizes))], sizes)
    return X, y


def _rf(seed: int) -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=25, random_state=seed)


def test_loop_budget_no_leakage_and_determinism():
    X, y = _imbalanced()
    curve, info = active_learning_curve(
        X, y, _rf, strategy="margin", seed=4, n_initial=10, batch_size=7, budget=50
    )
    assert len(info["queried"]) == 50 and curve["n_labels"].iloc[-1] == 60
    assert curve["n_queries"].tolist() == [0, 7, 14, 21, 28, 35, 42, 49, 50]
    assert not set(info["queried"]) & set(info["test"]) and not set(info["initial"]) & set(info["test"])
    assert set(info["labelled"]) <= set(info["pool"])
    again, info2 = active_learning_curve(
        X, y, _rf, strategy="margin", seed=4, n_initial=10, batch_size=7, budget=50
    )
    pd.testing.assert_frame_equal(curve, again)
    np.testing.assert_array_equal(info["queried"], info2["queried"])
    _, other = active_learning_curve(
        X, y, _rf, strategy="margin", seed=5, n_initial=10, batch_size=7, budget=50
    )
    assert set(other["queried"]) != set(info["queried"])
    oracle = LabelOracle(y, info["pool"])
    with pytest.raises(InputError, match="outside the pool"):
        oracle.query(info["test"][:1])
    with pytest.raises(InputError, match="budget"):
        active_learning_curve(X, y, _rf, strategy="random", seed=0, n_initial=10, budget=10_000)


def test_uncertainty_sampling_beats_random_on_imbalanced_classes():
    X, y = _imbalanced(1)
    curves = run_active_learning(
        X,
        y,
        _rf,
        strategies=("uncertainty", "random"),
        seeds=(0, 1, 2),
        n_initial=10,
        batch_size=10,
        budget=80,
    )
    summary = summarise_curves(curves).set_index(["strategy", "n_labels"])
    unc, rnd = summary.loc[("uncertainty", 90)], summary.loc[("random", 90)]
    assert unc["n_seeds"] == 3
    assert unc["balanced_accuracy_mean"] > rnd["balanced_accuracy_mean"] + 0.05


def test_select_batch_picks_the_least_confident():
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [0.99, 0.01]])
    rng = np.random.default_rng(0)
    assert select_batch("uncertainty", proba, 2, rng).tolist() == [1, 2]
    assert select_batch("margin", proba, 1, rng).tolist() == [1]
    assert select_batch("entropy", proba, 1, rng).tolist() == [1]


def test_sigmoid_fits_recover_parameters():
    rng = np.random.default_rng(2)
    t = np.tile(np.linspace(-20, 0, 12), (50, 1))
    a, b, c = rng.uniform(0.2, 0.6, 50), rng.uniform(-12, -6, 50), rng.uniform(0.9, 1.1, 50)
    f = sigmoid(t, a[:, None], b[:, None], c[:, None]) + rng.normal(0, 0.005, t.shape)
    fa, fb, fc, mse = fit_sigmoids(t, f, np.ones_like(t, dtype=bool))
    assert np.median(np.abs(fa - a) / a) < 0.1 and np.median(np.abs(fb - b)) < 0.5
    assert np.median(np.abs(fc - c)) < 0.05 and np.all(mse < 1e-3)


def test_rising_phase_selection_per_light_curve():
    t = np.arange(0.0, 40.0, 2.0)
    flux = np.where(t < 20, 1 + 100 * np.exp(0.3 * (t - 20)), 101 * np.exp(-(t - 20) / 10))
    mag = 27.5 - 2.5 * np.log10(flux)
    table = pa.table(
        {
            "objectid": [1, 2, 3],
            "filterid": pa.array([1, 2, 1], pa.int8()),
            "hmjd": [t[::-1].tolist(), t.tolist(), t[:2].tolist()],  # epochs in any order
            "mag": [mag[::-1].tolist(), mag.tolist(), mag[:2].tolist()],
            "magerr": [[0.05] * 20, [0.05] * 20, [0.05] * 2],
        }
    )
    out = rising_phase_features(table, min_points=3, rise_window_days=None).set_index("objectid")
    assert out.loc[1, "nrise"] == out.loc[2, "nrise"] == 11  # epochs 0..20 inclusive
    assert out.loc[3, "nrise"] == 2 and np.isnan(out.loc[3, "a"])
    assert out.loc[1, "a"] == pytest.approx(out.loc[2, "a"]) and out.loc[1, "a"] > 0.1
    assert rising_phase_features(table, min_points=3, rise_window_days=9).loc[0, "nrise"] == 5
