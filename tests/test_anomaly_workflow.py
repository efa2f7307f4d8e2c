"""The anomaly rules in the real snakemake: the rule's outputs are the library's, and only the keys
they depend on rerun them (params are results)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from skysift.anomaly import SearchSettings, merge_labels, rank_anomalies
from skysift.config import default_config
from workflow_runner import run_snakemake

pytestmark = pytest.mark.workflow

TINY = {
    "demo": {"seed": 3, "n_objects": 1500, "fields": [633]},
    "anomaly": {"n_trees": 40, "compare": ["lof"], "top_n": 5},
}
SCORES = "results/anomaly/scores.parquet"


def snakemake(workdir: Path, *args: str):
    """The real snakemake on the repository's Snakefile in ``workdir`` (2 cores)."""
    return run_snakemake(workdir, "--cores", "2", *args)


def planned(workdir: Path, config: dict, overlay: dict) -> str:
    """Dry run of the scores with ``overlay`` merged into the anomaly section: snakemake's output."""
    (workdir / "overlay.yaml").write_text(
        yaml.safe_dump({**config, "anomaly": {**config["anomaly"], **overlay}})
    )
    proc = snakemake(workdir, "-n", SCORES, "--configfile", str(workdir / "overlay.yaml"))
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny run up to the anomaly scores, with an (empty) expert labels file: its directory and config."""
    workdir = tmp_path_factory.mktemp("anomaly_run")
    labels = workdir / "alice.csv"
    labels.write_text("objectid,label,expert,time,note\n")
    config = {**TINY, "anomaly": {**TINY["anomaly"], "labels": [str(labels)]}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(workdir, SCORES)
    return workdir, config


def test_the_rule_writes_what_the_library_ranks(run):
    workdir, config = run
    settings = SearchSettings.from_config({**default_config()["anomaly"], **config["anomaly"]})
    features = sorted((workdir / "results" / "features").glob("field*.parquet"))
    labels = merge_labels(config["anomaly"]["labels"])
    expected = rank_anomalies(features, settings, labels=labels, n_jobs=2)
    pd.testing.assert_frame_equal(pd.read_parquet(workdir / SCORES), expected["isoforest"], check_exact=True)
    for method in ("isoforest", "lof"):
        ranked = pd.read_parquet(workdir / f"results/anomaly/ranked/{method}.parquet")
        pd.testing.assert_frame_equal(ranked, expected[method], check_exact=True)
        top = pd.read_csv(workdir / f"results/anomaly/ranked/{method}.csv")
        assert top["objectid"].tolist() == expected[method]["objectid"].head(5).tolist()


def test_only_the_keys_the_ranked_lists_depend_on_rerun_the_search(run):
    workdir, config = run
    unrelated = {"pool_size": 10, "anomaly_classes": ["kilonova"], "evaluation": {"seeds": [9]}}
    assert "Nothing to be done" in planned(workdir, config, unrelated)
    for key, value in (("n_trees", 41), ("top_n", 6)):  # a model key, and one that only cuts the CSV
        out = planned(workdir, config, {key: value})
        assert "rule search_anomalies:" in out and "Params have changed" in out, key
    # an edited expert labels file is an input: it reruns the search too
    labels = Path(config["anomaly"]["labels"][0])
    labels.write_text(labels.read_text() + "633101100000001,regular,alice,2026-01-01T00:00:00Z,\n")
    assert "rule search_anomalies:" in planned(workdir, config, {})
