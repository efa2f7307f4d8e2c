"""A run without labels (#16): the real snakemake on a tiny demo whose label table has no rows finishes the
default target; the supervised stages say they were skipped and why, and the anomaly list is published."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from astropy.table import Table

from conftest import TINY_RUN_CONFIG, copy_run
from skysift.candidates.publish import verify_sha256sums
from skysift.classify import load_model
from skysift.io import InputError
from workflow_runner import run_snakemake

pytestmark = pytest.mark.workflow

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tiny_run, tmp_path_factory) -> Path:
    """The session's tiny run (conftest), copied, then its default target with an empty user label table."""
    workdir = copy_run(tiny_run[0], tmp_path_factory.mktemp("nolabels") / "run")
    labels = workdir / "no_labels.csv"
    labels.write_text("objectid,label\n")
    classify = {
        **TINY_RUN_CONFIG["classify"],
        "labels": "table",
        "label_table": {"path": str(labels)},
        "kilonova": {
            "n_basis": 100,
            "n_kilonova": 150,
            "n_per_class": 30,
            "n_constant": 300,
            "n_estimators": 50,
        },
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump({**TINY_RUN_CONFIG, "classify": classify}))
    run_snakemake(workdir, "--cores", "2")
    return workdir


def _metrics(workdir: Path, stage: str) -> dict:
    return json.loads((workdir / "results/classify" / stage / "metrics.json").read_text())


def test_the_classifier_is_skipped_with_every_output_written(run):
    metrics = _metrics(run, "")
    assert metrics["status"] == "skipped" and metrics["n_labels"] == 0 and metrics["needs"] == 10
    assert "0 labelled objects" in metrics["reason"] and "classify.min_class_count" in metrics["reason"]
    batches = sorted((run / "results/classify/predictions").glob("*.parquet"))  # every batch has its file
    assert [p.name for p in batches] == sorted(p.name for p in (run / "results/features").glob("*.parquet"))
    for path in batches:
        predictions = pd.read_parquet(path)
        assert len(predictions) == 0 and list(predictions.columns) == [
            "objectid",
            "predicted_class",
            "max_probability",
        ]
    for png in ("confusion_matrix.png", "reliability.png"):
        assert (run / "results/classify" / png).read_bytes()[:8] == PNG
    per_class = Table.read(run / "results/classify/per_class_metrics.ecsv")
    assert len(per_class) == 0 and per_class.meta["note"].startswith("skipped: 0 labelled objects")
    card = json.loads((run / "results/classify/model_card.json").read_text())
    assert card["status"] == "skipped" and card["reason"] == metrics["reason"]
    with pytest.raises(InputError, match="training was skipped"):
        load_model(run / "results/classify/model.skops")
    assert (
        "classifier (train_classifier) skipped: 0 labelled objects"
        in (run / "logs/train_classifier.log").read_text()
    )


def test_active_learning_and_early_snia_are_skipped(run):
    active = _metrics(run, "active_learning")
    assert active["status"] == "skipped" and active["n_labels"] == 0 and active["needs"] == 32
    assert "classify.active_learning.n_initial" in active["reason"]
    curves = pd.read_csv(run / "results/classify/active_learning/curves.csv")
    assert len(curves) == 0 and {"strategy", "seed", "n_labels", "balanced_accuracy"} <= set(curves.columns)
    assert (run / "results/classify/active_learning/learning_curves.png").read_bytes()[:8] == PNG
    early = _metrics(run, "early_snia")
    assert (
        early["status"] == "skipped" and early["n_labels"] == 0 and "classify.early_snia" in early["reason"]
    )
    predictions = sorted((run / "results/classify/early_snia/predictions").glob("*.parquet"))
    features = sorted((run / "results/classify/early_snia/features").glob("*.parquet"))
    assert [p.name for p in predictions] == [p.name for p in features] and len(features) == 2  # one per batch
    assert all(len(pd.read_parquet(p)) == 0 for p in predictions)
    assert all(len(pd.read_parquet(p)) > 0 for p in features)  # features need no labels


def test_kilonova_trains_on_simulations_and_skips_only_its_run_evaluation(run):
    kilonova = _metrics(run, "kilonova")
    assert kilonova["status"] == "trained" and kilonova["held_out_simulations"]["recall"] > 0.5
    assert kilonova["run_labels"]["status"] == "skipped" and kilonova["run_labels"]["n_labels"] == 0
    predictions = sorted((run / "results/classify/kilonova/predictions").glob("*.parquet"))
    assert len(predictions) == 2 and all(len(pd.read_parquet(p)) > 0 for p in predictions)


def test_lists_by_class_are_empty_with_a_note_and_the_anomaly_list_is_published(run):
    anomalies = Table.read(run / "results/candidates/anomalies.ecsv")
    assert len(anomalies) == 100 and "note" not in anomalies.meta
    assert anomalies["predicted_class"].mask.all()  # no classifier: class columns masked
    for name, model in (("unknown_transients", "classifier"), ("early_snia", "early SN Ia classifier")):
        table = Table.read(run / f"results/candidates/{name}.ecsv")
        assert len(table) == 0
        assert table.meta["note"].startswith(f"empty: the {model} was not trained (0 labelled")
    page = (run / "results/candidates/index.html").read_text()
    assert "empty: the classifier was not trained" in page
    bundle = next(p for p in (run / "results/publish").iterdir() if p.is_dir())
    assert verify_sha256sums(bundle) == []
    published = Table.read(bundle / "anomalies.ecsv")
    assert list(published["objectid"]) == list(anomalies["objectid"])
    assert "empty: the classifier was not trained" in (bundle / "README.md").read_text()
    provenance = json.loads((bundle / "provenance.json").read_text())
    assert provenance["lists"]["unknown_transients"]["note"].startswith("empty: the classifier")
