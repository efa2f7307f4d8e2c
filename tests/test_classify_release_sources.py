"""The early SN Ia and kilonova classifiers in the release shape (skysift.classify.run_sources): per-batch
features equal the whole-release computation's rows, training on the labelled sources' rows gives the model
and metrics of training on every row, predictions per batch are the whole-release predictions."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from skysift.classify import (
    EarlySniaSettings,
    KilonovaSettings,
    LabelSource,
    LabelTableSettings,
    load_model,
    write_report,
)
from skysift.classify.early_snia import predict_early_snia, source_features, train_early_snia
from skysift.classify.kilonova import (
    build_basis,
    predict_kilonova,
    read_run_lightcurves,
    run_features,
    train_kilonova,
)
from skysift.classify.run_sources import (
    EarlySniaOutputs,
    KilonovaOutputs,
    read_labelled_source_rows,
    run_early_snia_features,
    run_early_snia_predictions,
    run_early_snia_training,
    run_kilonova_basis,
    run_kilonova_features,
    run_kilonova_predictions,
    run_kilonova_training,
)
from skysift.clean import read_clean_lightcurves
from skysift.config import default_config
from skysift.io import read_tables
from skysift.lightcurves import CleanConfig, manifest_files
from skysift.simulate import simulate_release
from skysift.sources.local import fetch_local_batch

FIELDS = [633, 1721]
EARLY = {"seeds": [0], "budget": 20, "batch_size": 5, "n_estimators": 20}
KILONOVA = {"n_basis": 50, "n_kilonova": 60, "n_per_class": 8, "n_constant": 60, "n_estimators": 20}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A small simulated release of two fields (batches), one fetch manifest per batch, its truth labels."""
    root = tmp_path_factory.mktemp("release")
    simulate_release(
        root, n_objects=1500, seed=11, fields=FIELDS, class_fractions={"snia": 0.08, "kilonova": 0.02}
    )
    dr = default_config()["dr"]
    manifests = []
    for field in FIELDS:
        manifest = root / f"field{field:06d}.tsv"
        fetch_local_batch(root / dr, field, manifest)
        manifests.append(manifest)
    # a label table of 70 % of the light curves (the rest unlabelled, as a real run's cross-match leaves them)
    truth = pd.read_parquet(root / "truth.parquet")
    truth = truth.sample(frac=0.7, random_state=3).rename(columns={"class": "label"})
    table = root / "labels.csv"
    truth[["objectid", "label"]].to_csv(table, index=False)
    return root, manifests, _label_table(table)


def _label_table(path) -> LabelSource:
    """The labels of a user label table (objectid, label) at ``path``."""
    section = {**default_config()["classify"]["label_table"], "path": str(path)}
    return LabelSource(table=path, table_settings=LabelTableSettings.from_config(section))


def _settings(cls, section: str, **changes):
    """Settings of a ``classify`` section: the schema's defaults with ``changes``."""
    return cls.from_config({**default_config()["classify"][section], **changes})


def _per_batch(release, tmp_path, name, compute):
    """``compute(manifest, out)`` for every batch; the written files."""
    _, manifests, _ = release
    paths = []
    for manifest in manifests:
        out = tmp_path / name / f"{manifest.stem}.parquet"
        compute(manifest, out)
        paths.append(out)
    return paths


def _release_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by source_id, as one whole-release table has them."""
    return frame.sort_values("source_id", kind="stable").reset_index(drop=True)


def test_early_snia_per_batch_equals_the_whole_release(release, tmp_path):
    _, manifests, labels = release
    settings = _settings(EarlySniaSettings, "early_snia", **EARLY)
    cuts = default_config()["clean"]
    # the whole-release computation (the former train_early_snia job)
    whole = source_features(
        read_clean_lightcurves(manifest_files(manifests), cuts),
        min_points=settings.min_points,
        rise_window_days=settings.rise_window_days,
    )
    features = _per_batch(
        release, tmp_path, "features",
        lambda m, out: run_early_snia_features(
            m, out, min_points=settings.min_points, rise_window_days=settings.rise_window_days, cuts=cuts
        ),
    )  # fmt: skip
    per_batch = [pd.read_parquet(p) for p in features]
    assert all(len(b) > 0 for b in per_batch)
    pd.testing.assert_frame_equal(_release_order(pd.concat(per_batch)), whole, check_exact=True)

    # training reads only the labelled sources' rows and gives the model and metrics of training on every row
    label_series = labels.read()
    rows = read_labelled_source_rows(features, label_series.index.to_numpy())
    assert 0 < len(rows) < len(whole)
    params = {"n_estimators": settings.n_estimators, **settings.loop()}
    model, report, curves = train_early_snia(
        whole, label_series, positive=settings.positive_class, exclude=settings.exclude_classes, **params
    )
    outputs = EarlySniaOutputs(*(tmp_path / n for n in ("model.skops", "m.json", "curves.csv", "c.png")))
    got = run_early_snia_training(features, labels, settings, outputs)
    assert got["status"] == "trained"
    expected_report = write_report({"status": "trained", **report}, tmp_path / "expected.json")
    assert outputs.metrics.read_text() == expected_report.read_text()
    pd.testing.assert_frame_equal(
        pd.read_csv(outputs.curves), curves.reset_index(drop=True), check_dtype=False
    )

    # per-batch predictions are the whole-release predictions of the batch's sources
    predictions = [
        run_early_snia_predictions(f, outputs.model, outputs.metrics, tmp_path / f"p{i}.parquet")
        for i, f in enumerate(features)
    ]
    expected = predict_early_snia(model, whole, settings.positive_class)
    pd.testing.assert_frame_equal(_release_order(pd.concat(predictions)), expected)
    assert expected["prob_snia"].notna().any()
    assert list(load_model(outputs.model).classes_) == list(model.classes_)


def test_early_snia_without_labels_writes_every_output_and_empty_predictions(release, tmp_path):
    root, manifests, _ = release
    settings = _settings(EarlySniaSettings, "early_snia", **EARLY)
    features = _per_batch(
        release, tmp_path, "features",
        lambda m, out: run_early_snia_features(m, out, min_points=3, rise_window_days=50.0),
    )  # fmt: skip
    empty = tmp_path / "labels.csv"
    empty.write_text("objectid,label\n")
    labels = _label_table(empty)
    outputs = EarlySniaOutputs(*(tmp_path / n for n in ("model.skops", "m.json", "curves.csv", "c.png")))
    report = run_early_snia_training(features, labels, settings, outputs)
    assert report["status"] == "skipped" and report["n_labels"] == 0
    assert all(p.exists() for p in dataclasses.astuple(outputs))
    for i, f in enumerate(features):
        pred = run_early_snia_predictions(f, outputs.model, outputs.metrics, tmp_path / f"p{i}.parquet")
        assert len(pd.read_parquet(tmp_path / f"p{i}.parquet")) == 0 and "prob_snia" in pred.columns


def test_kilonova_per_batch_equals_the_whole_release(release, tmp_path):
    _, manifests, labels = release
    settings = _settings(KilonovaSettings, "kilonova", **KILONOVA)
    clean = CleanConfig.from_config(default_config()["clean"])
    basis_path = tmp_path / "basis.json"
    basis = run_kilonova_basis(
        basis_path, n_basis=settings.n_basis, n_components=settings.n_components, seed=settings.seed
    )
    assert np.array_equal(
        basis.components, build_basis(settings.n_basis, settings.n_components, 0).components
    )
    whole = run_features(
        read_run_lightcurves(manifests, clean, min_epochs=1), basis, min_points=settings.min_points
    )
    features = _per_batch(
        release, tmp_path, "features",
        lambda m, out: run_kilonova_features(m, basis_path, clean, out, min_points=settings.min_points),
    )  # fmt: skip
    pd.testing.assert_frame_equal(_release_order(read_tables(features)), whole, check_exact=True)

    label_series = labels.read()
    model, _, report = train_kilonova(whole, label_series, basis=basis, **dataclasses.asdict(settings))
    assert report["run_labels"]["status"] == "evaluated"  # the run's labelled kilonovae score it
    outputs = KilonovaOutputs(*(tmp_path / n for n in ("model.skops", "card.json", "m.json")))
    got = run_kilonova_training(features, basis_path, labels, settings, outputs)
    expected_report = write_report({"status": "trained", **report}, tmp_path / "expected.json")
    assert outputs.metrics.read_text() == expected_report.read_text()
    assert got["run_labels"] == report["run_labels"]
    card = json.loads(outputs.card.read_text())
    assert card["pca_basis"]["components"] == basis.to_dict()["components"]

    predictions = [
        run_kilonova_predictions(f, outputs.model, outputs.metrics, tmp_path / f"p{i}.parquet")
        for i, f in enumerate(features)
    ]
    expected = predict_kilonova(model, whole)
    pd.testing.assert_frame_equal(_release_order(pd.concat(predictions)), expected)


def test_a_batch_without_g_or_r_files_has_no_sources(release, tmp_path):
    root, _, _ = release
    field = next(
        f for f in FIELDS if list((root / default_config()["dr"]).rglob(f"ztf_{f:06d}_zi_*.parquet"))
    )
    manifest = tmp_path / "i_only.tsv"
    fetch_local_batch(root / default_config()["dr"], field, manifest, filters=["zi"])
    basis = tmp_path / "basis.json"
    run_kilonova_basis(basis, n_basis=20, n_components=3, seed=0)
    clean = CleanConfig.from_config(default_config()["clean"])
    kilonova = run_kilonova_features(manifest, basis, clean, tmp_path / "kn.parquet", min_points=2)
    early = run_early_snia_features(manifest, tmp_path / "es.parquet", min_points=3, rise_window_days=50.0)
    assert len(kilonova) == 0 and len(early) == 0
    assert len(pd.read_parquet(tmp_path / "kn.parquet").columns) == len(kilonova.columns)


def test_labelled_rows_concatenate_batches_whose_objectid_columns_differ_in_type(tmp_path):
    """A batch whose sources all lack a g light curve stored objectid_g as double (all NaN) where the others
    stored int64, and the training's concatenation failed (found by benchmarks/bench_release.py at 10
    fields); the features are written as nullable int64 now and the reader casts older files."""
    with_g = pd.DataFrame(
        {"source_id": [1, 2], "objectid_g": [11, 12], "objectid_r": [21, 22], "x": [0.1, 0.2]}
    )
    no_g = pd.DataFrame(
        {"source_id": [3], "objectid_g": [np.nan], "objectid_r": [23], "x": [0.3]}  # double, as older files
    )
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    with_g.to_parquet(paths[0])
    no_g.to_parquet(paths[1])
    rows = read_labelled_source_rows(paths, [12, 23])
    assert rows["source_id"].tolist() == [2, 3]
    assert rows["objectid_r"].tolist() == [22, 23]
    assert rows["objectid_g"].isna().tolist() == [False, True] and rows["objectid_g"].iloc[0] == 12


def test_source_features_write_objectids_as_int64_whatever_the_batch(release, tmp_path):
    _, manifests, _ = release
    settings = _settings(EarlySniaSettings, "early_snia", **EARLY)
    cuts = default_config()["clean"]
    out = tmp_path / "f.parquet"
    run_early_snia_features(
        manifests[0],
        out,
        min_points=settings.min_points,
        rise_window_days=settings.rise_window_days,
        cuts=cuts,
    )
    schema = pq.read_schema(out)
    assert schema.field("objectid_g").type == "int64" and schema.field("objectid_r").type == "int64"
