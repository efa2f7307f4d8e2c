"""Representativeness of the classifier's labels: shifts, the two-sample AUC, the unlabelled sample, metrics.json."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pyarrow.dataset
import pyarrow.parquet as pq
import pytest

from skysift.classify import ClassifierSettings, LabelSource
from skysift.classify import representative as rep
from skysift.classify.representative import (
    NOT_REPRESENTATIVE,
    NOT_TESTED,
    REPRESENTATIVE,
    read_unlabelled_sample,
    representativeness,
)
from skysift.classify.run import TrainingOutputs, check_representativeness, run_training
from skysift.classify.settings import RepresentativenessSettings
from skysift.config import default_config
from skysift.io import write_parquet_df


def population(n: int, seed: int, first_id: int = 0) -> pd.DataFrame:
    """Feature rows of a survey-like population: a mean magnitude from 15 to 21 (most sources faint),
    variability that is easier to see on bright sources, noise growing towards the limit."""
    rng = np.random.default_rng(seed)
    mag = 21.0 - rng.exponential(1.5, n).clip(0, 6)
    variable = rng.random(n) < 0.2
    amplitude = np.where(variable, rng.uniform(0.2, 1.0, n), 0.0) + rng.normal(0, 0.02, n) * (mag - 14)
    err = 0.01 + 0.3 * np.exp(mag - 21)
    return pd.DataFrame(
        {
            "objectid": np.arange(first_id, first_id + n, dtype=np.int64),
            "filterid": np.full(n, 2, dtype=np.int8),
            "fieldid": np.full(n, 633, dtype=np.int16),
            "rcid": rng.integers(0, 64, n).astype(np.int8),
            "ra": rng.uniform(0, 10, n),
            "dec": rng.uniform(0, 10, n),
            "n_points": rng.integers(10, 200, n),
            "mean": mag + rng.normal(0, err),
            "amplitude": np.abs(amplitude),
            "standard_deviation": np.abs(amplitude) / 2 + err,
            "skew": rng.normal(0, 1, n),
            "eta": rng.normal(2, 0.3, n),
            "label_class": np.where(variable, "rrlyrae", "constant"),
        }
    )


def features_only(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["label_class"])


def test_identical_distributions_are_representative_without_warning(caplog):
    df = features_only(population(3000, seed=1))
    labelled = df.sample(n=600, random_state=2)
    unlabelled = df.drop(labelled.index)
    with caplog.at_level(logging.WARNING, logger="skysift.classify.representative"):
        block, shifts = representativeness(labelled, unlabelled, auc_warn=0.7, seed=0)
    assert block["verdict"] == REPRESENTATIVE
    assert 0.4 < block["auc"] < 0.6
    assert shifts["ks"].max() < 0.1  # a random split shifts no feature
    assert "warning" not in block
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert block["n_labelled"] == 600 and block["n_unlabelled"] == 2400


def test_labels_of_bright_sources_only_are_not_representative_and_named(caplog):
    df = features_only(population(3000, seed=3))
    bright = df["mean"] < 18.5
    labelled, unlabelled = df[bright], df[~bright]
    assert 100 < len(labelled) < 1000
    with caplog.at_level(logging.WARNING, logger="skysift.classify.representative"):
        block, shifts = representativeness(labelled, unlabelled, auc_warn=0.7, seed=0)
    assert block["verdict"] == NOT_REPRESENTATIVE
    assert block["auc"] > 0.95
    top = block["top_features"][0]
    assert top["feature"] == "mean"  # the magnitude-like feature leads the shifts
    assert top["ks"] > 0.9 and top["smd"] < -1  # labelled are brighter: smaller magnitudes
    assert top["median_labelled"] < 18.5 < top["median_unlabelled"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "mean (KS" in warnings[0] and "auc_warn" in warnings[0]
    assert block["warning"] == warnings[0]
    json.dumps(block)  # JSON-ready (no NaN objects, no numpy scalars)


def test_too_few_rows_are_not_tested():
    df = features_only(population(50, seed=4))
    block, _ = representativeness(df.head(1), df.tail(40), auc_warn=0.7)
    assert block["verdict"] == NOT_TESTED and block["auc"] is None and "skipped" in block


@pytest.fixture
def batches(tmp_path):
    """Three batch feature files of 900, 300 and 1800 rows (small row groups), and a labelled set."""
    paths, first = [], 0
    for name, n in (("field000633", 900), ("field000634", 300), ("field001721", 1800)):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(
            pyarrow.Table.from_pandas(
                features_only(population(n, seed=n, first_id=first)), preserve_index=False
            ),
            path,
            row_group_size=100,
        )
        paths.append(path)
        first += n
    labelled = np.arange(0, 3000, 10, dtype=np.int64)  # 10 % of every batch
    return paths, labelled


class CountingDataset:
    """pyarrow's dataset, counting the rows its ``take`` materialises."""

    taken: list[int] = []

    def __init__(self, *args, **kwargs):
        self._dataset = pyarrow.dataset.dataset(*args, **kwargs)

    def take(self, indices, *args, **kwargs):
        table = self._dataset.take(indices, *args, **kwargs)
        CountingDataset.taken.append(table.num_rows)
        return table


def test_unlabelled_sample_is_seeded_stratified_and_reads_only_its_rows(batches, monkeypatch):
    paths, labelled = batches
    CountingDataset.taken = []
    monkeypatch.setattr(rep, "ds", type("ds", (), {"dataset": CountingDataset}))
    sample, meta = read_unlabelled_sample(paths, labelled, sample_size=600, seed=7)
    assert len(sample) == 600 == meta["sample_rows"]
    assert CountingDataset.taken == [180, 60, 360]  # rows read from each batch = its share, no more
    assert [b["unlabelled"] for b in meta["batches"]] == [810, 270, 1620]
    assert [b["sampled"] for b in meta["batches"]] == [180, 60, 360]  # proportional to unlabelled rows
    assert not np.isin(sample["objectid"], labelled).any()
    assert sample["objectid"].is_unique
    batch_of = np.searchsorted([900, 1200, 3000], sample["objectid"], side="right")
    assert np.bincount(batch_of).tolist() == [180, 60, 360]
    again, _ = read_unlabelled_sample(paths, labelled, sample_size=600, seed=7)
    pd.testing.assert_frame_equal(sample, again)
    other, _ = read_unlabelled_sample(paths, labelled, sample_size=600, seed=8)
    assert set(other["objectid"]) != set(sample["objectid"])
    whole, meta = read_unlabelled_sample(paths, labelled, sample_size=10_000, seed=7)
    assert len(whole) == 2700 == meta["unlabelled_rows"]  # every unlabelled row when fewer than asked


def _outputs(tmp_path) -> TrainingOutputs:
    return TrainingOutputs(
        model=tmp_path / "model.skops",
        card=tmp_path / "card.json",
        metrics=tmp_path / "metrics.json",
        per_class=tmp_path / "per_class.ecsv",
        per_class_csv=tmp_path / "per_class.csv",
        confusion=tmp_path / "confusion.png",
        reliability=tmp_path / "reliability.png",
        representativeness=tmp_path / "representativeness.png",
    )


def test_metrics_json_carries_the_block_and_the_figure(tmp_path, caplog):
    """Bright-only labels through the training stage: the block, the warning and the figure."""
    paths, first = [], 0
    truth = []
    for name, n in (("field000633", 1500), ("field000634", 1000)):
        df = population(n, seed=n + 1, first_id=first)
        path = tmp_path / f"{name}.parquet"
        write_parquet_df(features_only(df), path)
        paths.append(path)
        bright = df[df["mean"] < 18.5]
        truth.append(bright[["objectid"]].assign(**{"class": bright["label_class"]}))
        first += n
    write_parquet_df(pd.concat(truth, ignore_index=True), tmp_path / "truth.parquet")
    classify = default_config()["classify"] | {"n_estimators": 20, "cv_folds": 3}
    check = RepresentativenessSettings.from_config(classify["representativeness"] | {"sample_size": 800})
    with caplog.at_level(logging.WARNING, logger="skysift.classify.representative"):
        run_training(
            paths,
            LabelSource(truth=tmp_path / "truth.parquet"),
            ClassifierSettings.from_config(classify),
            _outputs(tmp_path),
            representative=check,
        )
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    block = metrics["representativeness"]
    assert metrics["status"] == "trained"
    assert block["verdict"] == NOT_REPRESENTATIVE and block["auc"] > 0.9
    assert block["top_features"][0]["feature"] == "mean"
    assert block["n_unlabelled"] == 800 and block["n_labelled"] == metrics["n_labelled"]
    for batch in block["sample"]["batches"]:  # each batch gives its share of the unlabelled rows
        assert abs(batch["sampled"] - 800 * batch["unlabelled"] / block["sample"]["unlabelled_rows"]) < 1
    assert any("mean (KS" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert (tmp_path / "representativeness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = json.loads((tmp_path / "card.json").read_text())["representativeness"]
    assert (
        card["verdict"] == NOT_REPRESENTATIVE and card["top_features"][0] == "mean"
    )  # travels with the model

    disabled = RepresentativenessSettings.from_config(classify["representativeness"] | {"enabled": False})
    run_training(
        paths,
        LabelSource(truth=tmp_path / "truth.parquet"),
        ClassifierSettings.from_config(classify),
        _outputs(tmp_path),
        representative=disabled,
    )
    block = json.loads((tmp_path / "metrics.json").read_text())["representativeness"]
    assert block["verdict"] == NOT_TESTED and "enabled is false" in block["skipped"]


def test_a_skipped_classifier_has_no_block_and_a_figure_that_says_why(tmp_path):
    df = population(300, seed=5)
    write_parquet_df(features_only(df), tmp_path / "field000633.parquet")
    one_class = df.head(20)[["objectid"]].assign(**{"class": "constant"})
    write_parquet_df(one_class, tmp_path / "truth.parquet")
    classify = default_config()["classify"]
    report = run_training(
        [tmp_path / "field000633.parquet"],
        LabelSource(truth=tmp_path / "truth.parquet"),
        ClassifierSettings.from_config(classify),
        _outputs(tmp_path),
        representative=RepresentativenessSettings.from_config(classify["representativeness"]),
    )
    assert report["status"] == "skipped" and "representativeness" not in report
    assert (tmp_path / "representativeness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_object_labelled_is_not_tested(batches, tmp_path):
    paths, _ = batches
    labelled = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    block = check_representativeness(
        paths,
        labelled,
        RepresentativenessSettings(enabled=True, sample_size=500, auc_warn=0.7),
        tmp_path / "figure.png",
        seed=0,
        cv_folds=5,
    )
    assert block["verdict"] == NOT_TESTED and "every object is labelled" in block["skipped"]
    assert block["sample"]["sample_rows"] == 0 and block["sample"]["labelled_rows"] == 3000
    assert (tmp_path / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
