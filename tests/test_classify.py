"""Tests of skysift.classify: labels, training with CV metrics, predictions, persistence."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from skysift.classify import (
    labels_from_crossmatch,
    load_model,
    predict_classes,
    save_model,
    train_classifier,
    write_report,
)
from skysift.crossmatch.best import best_crossmatch
from skysift.features.table import KEY_COLUMNS, features_matrix, read_features
from skysift.io import InputError, write_parquet

CLASSES = ["cepheid", "constant", "rrlyrae", "snia"]
N_FEATURES = 6


def make_features(counts: dict[str, int], seed: int = 1, nan_fraction: float = 0.05):
    """Feature table of gaussian blobs, one per class with well separated means; and the labels."""
    rng = np.random.default_rng(seed)
    means = {c: rng.normal(0.0, 6.0, N_FEATURES) for c in counts}
    rows, labels = [], []
    for c, n in counts.items():
        rows.append(rng.normal(means[c], 1.0, size=(n, N_FEATURES)))
        labels += [c] * n
    X = np.vstack(rows).astype(np.float32)
    X[rng.random(X.shape) < nan_fraction] = np.nan
    n = len(X)
    objectid = 500_000_000_000 + rng.permutation(n).astype(np.int64) * 7
    df = pd.DataFrame(
        {
            "objectid": objectid,
            "filterid": np.int8(2),
            "fieldid": np.int16(600),
            "rcid": np.int8(5),
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-30, 90, n),
            "n_points": rng.integers(10, 200, n),
        }
    )
    for j in range(N_FEATURES):
        df[f"feature_{j}"] = X[:, j]
    df["always_nan"] = np.float32(np.nan)
    return df, pd.Series(labels, index=pd.Index(objectid, name="objectid"), name="label")


@pytest.fixture(scope="module")
def blobs():
    return make_features({"cepheid": 60, "constant": 150, "rrlyrae": 80, "snia": 40})


@pytest.fixture(scope="module")
def trained(blobs):
    df, labels = blobs
    return train_classifier(df, labels, n_estimators=60, random_state=0)


def test_features_matrix_selects_features_and_maps_inf_to_nan(blobs):
    df, _ = blobs
    df = df.copy()
    df.loc[0, "feature_0"] = np.inf
    X, names = features_matrix(df)
    assert X.dtype == np.float32
    assert not set(names) & set(KEY_COLUMNS)
    assert names == [f"feature_{j}" for j in range(N_FEATURES)] + ["always_nan"]
    assert np.isnan(X[0, 0])
    with pytest.raises(InputError, match="missing_feature"):
        features_matrix(df, ["feature_0", "missing_feature"])


def test_cv_on_separable_blobs_is_excellent(trained, blobs):
    model, report = trained
    cv = report["cv"]
    assert cv["n_splits"] == 5
    assert cv["macro"]["recall"] > 0.9
    assert cv["macro"]["f1"] > 0.9
    assert report["class_counts"] == {"cepheid": 60, "constant": 150, "rrlyrae": 80, "snia": 40}
    assert report["classes"] == CLASSES == list(model.classes_)
    matrix = np.array(cv["confusion_matrix"]["matrix"])
    assert cv["confusion_matrix"]["labels"] == CLASSES
    assert matrix.shape == (4, 4)
    # rows are true classes: row sums are the class counts
    assert matrix.sum(axis=1).tolist() == [60, 150, 80, 40]
    assert np.trace(matrix) / matrix.sum() > 0.9
    assert report["nan_fraction"]["always_nan"] == 1.0
    assert 0.0 < report["nan_fraction"]["feature_0"] < 0.2


def test_shuffled_labels_give_chance_level(blobs):
    df, labels = blobs
    shuffled = pd.Series(np.random.default_rng(7).permutation(labels.to_numpy()), index=labels.index)
    _, report = train_classifier(df, shuffled, n_estimators=60, random_state=0)
    # four classes: chance macro recall is 0.25
    assert report["cv"]["macro"]["recall"] < 0.45


def test_rare_class_is_dropped_and_logged(caplog):
    df, labels = make_features({"constant": 40, "rrlyrae": 40, "kilonova": 3}, seed=3)
    with caplog.at_level(logging.WARNING, logger="skysift.classify"):
        model, report = train_classifier(df, labels, n_estimators=30, min_class_count=5)
    assert any("kilonova" in r.getMessage() and "min_class_count" in r.getMessage() for r in caplog.records)
    assert report["dropped_classes"] == {"kilonova": 3}
    assert "kilonova" not in report["classes"]
    assert "kilonova" not in list(model.classes_)
    predictions = predict_classes(model, df)
    assert "prob_kilonova" not in predictions.columns
    assert len(predictions) == len(df)  # dropped-class objects are still predicted


def test_too_few_classes_is_an_input_error():
    df, labels = make_features({"constant": 40, "kilonova": 2}, seed=4)
    with pytest.raises(InputError, match="at least 2 classes"):
        train_classifier(df, labels, n_estimators=10)


def test_cv_folds_reduced_to_smallest_class_or_skipped():
    df, labels = make_features({"constant": 30, "rrlyrae": 30, "cv": 3}, seed=5)
    _, report = train_classifier(df, labels, n_estimators=20, min_class_count=2, cv_folds=5)
    assert report["cv"]["n_splits"] == 3
    df, labels = make_features({"constant": 30, "rrlyrae": 30, "cv": 1}, seed=5)
    model, report = train_classifier(df, labels, n_estimators=20, min_class_count=1, cv_folds=5)
    assert "skipped" in report["cv"] and "smallest class" in report["cv"]["skipped"]
    assert "cv" in list(model.classes_)


def test_predictions_cover_every_object_and_probabilities_sum_to_one(trained, blobs):
    model, _ = trained
    df, labels = blobs
    unlabelled, _ = make_features({"x": 25}, seed=9)
    unlabelled["objectid"] += 1  # ids of make_features are multiples of 7 offsets: +1 never collides
    everything = pd.concat([df, unlabelled], ignore_index=True)
    predictions = predict_classes(model, everything)
    assert predictions["objectid"].tolist() == everything["objectid"].tolist()
    prob_cols = [f"prob_{c}" for c in CLASSES]
    assert list(predictions.columns) == ["objectid", "predicted_class", "max_probability", *prob_cols]
    probs = predictions[prob_cols].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(predictions["max_probability"].to_numpy(), probs.max(axis=1))
    assert (predictions["predicted_class"].to_numpy() == np.array(CLASSES)[probs.argmax(axis=1)]).all()
    # training objects are mostly predicted as their own label
    own = predictions.set_index("objectid").loc[labels.index, "predicted_class"]
    assert (own.to_numpy() == labels.to_numpy()).mean() > 0.95


def test_prediction_uses_column_names_not_positions(trained, blobs):
    model, _ = trained
    df, _ = blobs
    reference = predict_classes(model, df)
    shuffled = df[list(reversed(df.columns))].assign(unrelated=1.0)
    pd.testing.assert_frame_equal(predict_classes(model, shuffled), reference)
    with pytest.raises(InputError, match="feature_3"):
        predict_classes(model, df.drop(columns="feature_3"))


def test_model_round_trip_gives_identical_predictions(trained, blobs, tmp_path):
    model, report = trained
    df, _ = blobs
    path = save_model(model, tmp_path / "models" / "classifier.joblib")
    assert not list(path.parent.glob(".*.tmp"))
    loaded = load_model(path)
    pd.testing.assert_frame_equal(predict_classes(loaded, df), predict_classes(model, df))

    report_path = write_report(report, tmp_path / "report.json")
    text = report_path.read_text()

    def reject(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    data = json.loads(text, parse_constant=reject)
    assert data["cv"]["macro"]["recall"] == pytest.approx(report["cv"]["macro"]["recall"])
    assert data["cv"]["confusion_matrix"]["labels"] == CLASSES

    not_a_model = tmp_path / "other.joblib"
    import joblib

    joblib.dump({"something": 1}, not_a_model)
    with pytest.raises(InputError, match="not a skysift classifier"):
        load_model(not_a_model)


def test_training_is_deterministic_and_models_selectable(blobs):
    df, labels = blobs
    a = predict_classes(train_classifier(df, labels, n_estimators=20, random_state=3, cv_folds=0)[0], df)
    b = predict_classes(train_classifier(df, labels, n_estimators=20, random_state=3, cv_folds=0)[0], df)
    pd.testing.assert_frame_equal(a, b)
    model, report = train_classifier(df, labels, model="random_forest", n_estimators=20)
    assert type(model.named_steps["classify"]).__name__ == "RandomForestClassifier"
    assert report["cv"]["macro"]["recall"] > 0.9
    with pytest.raises(ValueError, match="classify.model"):
        train_classifier(df, labels, model="xgboost")


def test_labels_from_crossmatch_priority_and_empty_labels():
    xmatch = pd.DataFrame(
        {
            "objectid": [1, 1, 1, 2, 2, 3, 4, 4],
            "catalog": ["simbad", "vsx", "tns", "simbad", "vsx", "simbad", "simbad", "gaia"],
            "match_name": ["S1", "V1", "T1", "S2", "V2", "S3", "S4", "G4"],
            "match_type": ["RR*", "RRAB", "", "QSO", "EA", "Star", "Ce*", "DCEP"],
            "sep_arcsec": [0.3, 0.5, 0.9, 0.2, 0.8, 0.1, 0.6, 0.2],
            "label": ["rrlyrae", "rrlyrae", None, "agn", "eclipsing_binary", "", "cepheid", "cepheid"],
        }
    )
    labels = labels_from_crossmatch(xmatch)
    # 1: TNS row has no label -> VSX; 2: VSX beats SIMBAD; 3: empty label -> unlabelled;
    # 4: unlisted catalog (gaia) comes after simbad
    assert labels.to_dict() == {1: "rrlyrae", 2: "eclipsing_binary", 4: "cepheid"}
    assert labels.index.name == "objectid"
    best = best_crossmatch(xmatch)
    assert best.loc[4, "catalog"] == "simbad"
    assert best.loc[3, "match_name"] == "S3"  # unlabelled match still reported
    assert labels_from_crossmatch(xmatch, priority=("simbad", "vsx", "tns"))[2] == "agn"


def test_read_features_concatenates_batches_and_rejects_duplicates(blobs, tmp_path):
    df, _ = blobs
    first, second = df.iloc[:100], df.iloc[100:]
    paths = [
        write_parquet(pa.Table.from_pandas(part, preserve_index=False), tmp_path / f"field{i}.parquet")
        for i, part in enumerate([first, second])
    ]
    both = read_features(paths)
    assert len(both) == len(df)
    assert both["objectid"].tolist() == df["objectid"].tolist()
    with pytest.raises(InputError, match="duplicated objectid"):
        predict_classes(None, [paths[0], paths[0]])
