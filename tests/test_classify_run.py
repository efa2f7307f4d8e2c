"""The classify stages end to end in Python (skysift.classify.run): trained and skipped outputs, typed settings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table

from skysift.classify import (
    ActiveLearningSettings,
    ClassifierSettings,
    LabelSource,
    TooFewLabels,
    run_learning_curves,
    run_predictions,
    run_training,
    train_classifier,
)
from skysift.classify.active import run_active_learning
from skysift.classify.labels import cap_labels
from skysift.classify.run import LearningCurveOutputs, TrainingOutputs
from skysift.config import ConfigError, default_config
from skysift.io import write_parquet_df
from test_classify import make_features

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A features file and two label tables: one with labels for every object, one without rows."""
    tmp = tmp_path_factory.mktemp("run")
    df, labels = make_features({"constant": 60, "rrlyrae": 50, "snia": 40}, seed=2)
    features = write_parquet_df(df, tmp / "features.parquet")
    full = tmp / "labels.csv"
    labels.rename("label").reset_index().to_csv(full, index=False)
    empty = tmp / "empty.csv"
    empty.write_text("objectid,label\n")
    return tmp, features, full, empty


def _settings(**overrides):
    classify = default_config()["classify"]
    classify.update(n_estimators=20, cv_folds=3, **overrides)
    return classify


def _source(path, classify):
    return LabelSource.from_inputs({"label_table": str(path)}, {**classify["label_table"], "path": str(path)})


def _outputs(tmp, name):
    names = (
        "model",
        "card",
        "metrics",
        "per_class",
        "per_class_csv",
        "confusion",
        "reliability",
    )
    suffix = {
        "model": "skops",
        "per_class": "ecsv",
        "per_class_csv": "csv",
        "confusion": "png",
        "reliability": "png",
    }
    return TrainingOutputs(**{n: tmp / name / f"{n}.{suffix.get(n, 'json')}" for n in names})


def test_settings_come_from_the_schema_and_name_bad_keys():
    settings = ClassifierSettings.from_config(default_config()["classify"])
    assert settings.model == "balanced_random_forest" and settings.n_estimators == 300
    with pytest.raises(ConfigError, match="classify.min_class_count"):
        ClassifierSettings.from_config({k: v for k, v in _settings().items() if k != "min_class_count"})


def test_trained_stage_writes_status_trained_and_predicts_every_object(data):
    tmp, features, full, _ = data
    classify = _settings()
    out = _outputs(tmp, "trained")
    report = run_training([features], _source(full, classify), ClassifierSettings.from_config(classify), out)
    metrics = json.loads(out.metrics.read_text())
    assert metrics["status"] == "trained" == report["status"] and metrics["cv"]["macro"]["recall"] > 0.9
    predictions = run_predictions(features, out.model, out.metrics, tmp / "trained" / "predictions.parquet")
    assert len(pd.read_parquet(tmp / "trained" / "predictions.parquet")) == 150 == len(predictions)
    assert out.confusion.read_bytes()[:8] == PNG and len(Table.read(out.per_class)) == 4


def test_no_labels_skip_the_classifier_with_every_output(data):
    tmp, features, _, empty = data
    classify = _settings(min_class_count=7)
    out = _outputs(tmp, "skipped")
    run_training([features], _source(empty, classify), ClassifierSettings.from_config(classify), out)
    metrics = json.loads(out.metrics.read_text())
    assert metrics == {
        "status": "skipped",
        "reason": "0 labelled objects (classes none), needs at least 2 classes with >= 7 labelled objects "
        "each (classify.min_class_count)",
        "n_labels": 0,
        "needs": 14,
        "model": "balanced_random_forest",
    }
    run_predictions(features, out.model, out.metrics, tmp / "skipped" / "predictions.parquet")
    predictions = pd.read_parquet(tmp / "skipped" / "predictions.parquet")
    assert len(predictions) == 0 and list(predictions.columns) == [
        "objectid",
        "predicted_class",
        "max_probability",
    ]
    assert out.confusion.read_bytes()[:8] == PNG == out.reliability.read_bytes()[:8]
    assert len(Table.read(out.per_class)) == 0


def test_one_class_is_too_few_for_the_classifier_and_for_active_learning():
    df, labels = make_features({"constant": 60}, seed=4)
    with pytest.raises(TooFewLabels, match="needs at least 2 classes") as exc:
        train_classifier(df, labels, n_estimators=5)
    assert exc.value.n_labels == 60 and exc.value.needs == 10
    X = df[[c for c in df.columns if c.startswith("feature_")]].fillna(0).to_numpy()
    with pytest.raises(TooFewLabels, match=r"60 labelled objects in 1 class\(es\)"):
        run_active_learning(X, labels.to_numpy(), lambda seed: None, n_initial=10)
    with pytest.raises(TooFewLabels, match="needs >= 32") as exc:
        run_active_learning(X[:20], np.array(["a", "b"] * 10), lambda seed: None, n_initial=20)
    assert exc.value.needs == 32


def test_active_learning_skipped_without_labels(data):
    tmp, features, _, empty = data
    classify = _settings()
    out = LearningCurveOutputs(
        *(tmp / "al" / n for n in ("curves.csv", "summary.csv", "plot.png", "metrics.json"))
    )
    report = run_learning_curves(
        [features],
        _source(empty, classify),
        ActiveLearningSettings.from_config(classify["active_learning"]),
        out,
    )
    assert report["status"] == "skipped" and report["needs"] == 32
    assert json.loads(out.metrics.read_text()) == report
    assert len(pd.read_csv(out.curves)) == 0 and len(pd.read_csv(out.summary)) == 0
    assert out.plot.read_bytes()[:8] == PNG


def test_label_cap_keeps_rare_classes_and_cuts_the_largest():
    labels = pd.Series(
        ["constant"] * 500 + ["rrlyrae"] * 80 + ["snia"] * 15 + [None] * 5,
        index=np.arange(600, dtype=np.int64) * 7 + 3,
    )
    capped = cap_labels(labels, 200, seed=1)
    counts = capped.value_counts().to_dict()
    # snia (15) and rrlyrae (80) are below their fair shares (66, then 92): they keep every label;
    # constant, the largest, gets the rest
    assert counts == {"snia": 15, "rrlyrae": 80, "constant": 105}
    assert capped.index.isin(labels.index).all() and capped.notna().all()
    assert capped.index.equals(cap_labels(labels, 200, seed=1).index)  # seeded
    assert not capped.index.equals(cap_labels(labels, 200, seed=2).index)
    assert len(cap_labels(labels, None, seed=1)) == 595 == len(cap_labels(labels, 10_000, seed=1))


def test_training_reads_and_reports_only_the_capped_labels(data):
    tmp, features, full, _ = data
    classify = _settings(max_train_rows=90)
    out = _outputs(tmp, "capped")
    report = run_training([features], _source(full, classify), ClassifierSettings.from_config(classify), out)
    assert report["training_labels"] == {"labelled": 150, "used": 90, "max_train_rows": 90}
    assert sum(report["class_counts"].values()) == 90  # three classes of 30: every class above its share
    assert json.loads(out.metrics.read_text())["training_labels"]["used"] == 90
