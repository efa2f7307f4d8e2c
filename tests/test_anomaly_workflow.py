"""The anomaly rules in the real snakemake: fit on a sample, score per batch, merge a top-K.

With a sample of every row the merged lists are those of one search over all rows; forcing the fit
reruns the fit, the scores, the merge and the candidates, nothing else; a deleted batch's scores
rerun that batch and the merge only; only the keys a rule's outputs depend on rerun it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import TINY_RUN_CONFIG, copy_run
from skysift.anomaly import BATCH_COLUMNS, SearchSettings, merge_labels, rank_anomalies
from skysift.config import default_config
from workflow_runner import run_snakemake

pytestmark = pytest.mark.workflow

BATCHES = ["field000633", "field001721"]
#: The session's tiny run (conftest) with a lighter anomaly search and one short candidate list.
TINY = {
    **TINY_RUN_CONFIG,
    "anomaly": {"n_trees": 40, "compare": ["aad", "pineforest", "lof"], "top_n": 5},
    "candidates": {"lists": {"anomalies": {"select": "anomalies", "top_n": 10}}},
}
SCORES = "results/anomaly/scores.parquet"
CANDIDATES = "results/candidates/candidates.ecsv"
METHODS = ["isoforest", "aad", "pineforest", "lof"]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """The real snakemake on the repository's Snakefile in ``workdir`` (2 cores)."""
    return run_snakemake(workdir, "--cores", "2", *args)


def planned(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> number of jobs of a dry run."""
    jobs: dict[str, int] = {}
    for rule in re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, flags=re.MULTILINE):
        jobs[rule] = jobs.get(rule, 0) + 1
    return jobs


def text(proc: subprocess.CompletedProcess) -> str:
    """Everything snakemake printed."""
    return proc.stdout + proc.stderr


def dry_run(
    workdir: Path, config: dict, *args: str, overlay: dict | None = None
) -> subprocess.CompletedProcess:
    """Dry run with ``overlay`` merged into the anomaly section."""
    (workdir / "overlay.yaml").write_text(
        yaml.safe_dump({**config, "anomaly": {**config["anomaly"], **(overlay or {})}})
    )
    return snakemake(workdir, "-n", *args, "--configfile", str(workdir / "overlay.yaml"))


@pytest.fixture(scope="module")
def run(tiny_run, tmp_path_factory):
    """The tiny two-field run (a copy) up to the candidate table with an expert labels file: its directory, config."""
    workdir = copy_run(tiny_run[0], tmp_path_factory.mktemp("anomaly_run") / "run")
    labels = workdir / "alice.csv"
    config = {**TINY, "anomaly": {**TINY["anomaly"], "labels": [str(labels)]}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    first = [pd.read_parquet(workdir / f"results/features/{b}.parquet")["objectid"] for b in BATCHES]
    labels.write_text(
        "objectid,label,expert,time,note\n"
        f"{first[0].iloc[0]},regular,alice,2026-01-01T00:00:00Z,\n"
        f"{first[1].iloc[3]},anomaly,alice,2026-01-02T00:00:00Z,\n"
    )
    snakemake(workdir, CANDIDATES)
    return workdir, config


def test_the_rules_rank_as_one_search_over_every_row(run):
    workdir, config = run
    section = {**default_config()["anomaly"], **config["anomaly"]}
    features = [workdir / f"results/features/{b}.parquet" for b in BATCHES]
    expected = rank_anomalies(
        features, SearchSettings.from_config(section), labels=merge_labels(section["labels"])
    )
    model = (workdir / "results/anomaly/model/isoforest.json").read_text()
    assert '"every_row": true' in model  # the default fit_sample holds the tiny release
    pd.testing.assert_frame_equal(pd.read_parquet(workdir / SCORES), expected["isoforest"], check_exact=True)
    for method in METHODS:
        ranked = pd.read_parquet(workdir / f"results/anomaly/ranked/{method}.parquet")
        pd.testing.assert_frame_equal(ranked, expected[method], check_exact=True, obj=method)
        top = pd.read_csv(workdir / f"results/anomaly/ranked/{method}.csv")
        assert top["objectid"].tolist() == expected[method]["objectid"].head(5).tolist()
        for batch in BATCHES:
            per_batch = pd.read_parquet(workdir / f"results/anomaly/scores/{method}/{batch}.parquet")
            assert list(per_batch.columns) == list(BATCH_COLUMNS)
            assert per_batch["batch_rank"].tolist() == list(range(1, len(per_batch) + 1))
    labelled = merge_labels(section["labels"])
    regular = int(labelled.loc[labelled["label"] == "regular", "objectid"].item())
    assert expected["aad"].loc[expected["aad"]["objectid"] == regular, "label"].item() == "regular"


def test_forcerun_fit_reruns_the_fit_scores_merge_and_candidates_only(run):
    workdir, config = run
    assert "Nothing to be done" in text(dry_run(workdir, config, CANDIDATES))
    jobs = planned(dry_run(workdir, config, CANDIDATES, "--forcerun", "fit_anomaly_model"))
    assert jobs == {"fit_anomaly_model": 1, "score_anomalies": 2, "rank_anomalies": 1, "make_candidates": 1}


def test_a_deleted_batch_scores_rerun_that_batch_and_the_merge_only(run):
    workdir, config = run
    lost = workdir / "results/anomaly/scores/aad/field001721.parquet"
    before = pd.read_parquet(lost)
    ranked_before = pd.read_parquet(workdir / "results/anomaly/ranked/aad.parquet")
    lost.unlink()
    # asked for again (Snakemake recreates a deleted intermediate file only when it is asked for, or when
    # what it feeds must rerun anyway), it reruns its batch's job and the merge, not the fit
    targets = (SCORES, str(lost.relative_to(workdir)))
    dry = dry_run(workdir, config, *targets)
    assert planned(dry) == {"score_anomalies": 1, "rank_anomalies": 1}
    assert "batch=field001721" in dry.stdout
    snakemake(workdir, *targets)
    pd.testing.assert_frame_equal(pd.read_parquet(lost), before, check_exact=True)
    pd.testing.assert_frame_equal(
        pd.read_parquet(workdir / "results/anomaly/ranked/aad.parquet"), ranked_before
    )


def test_only_the_keys_a_rule_depends_on_rerun_it(run):
    workdir, config = run
    unrelated = {"pool_size": 10, "anomaly_classes": ["kilonova"], "evaluation": {"seeds": [9]}}
    assert "Nothing to be done" in text(dry_run(workdir, config, SCORES, overlay=unrelated))
    for key, value in (("n_trees", 41), ("fit_sample", 50)):  # model keys: everything from the fit on
        assert planned(dry_run(workdir, config, SCORES, overlay={key: value})) == {
            "fit_anomaly_model": 1, "score_anomalies": 2, "rank_anomalies": 1
        }, key  # fmt: skip
    for key, value in (("top_n", 6), ("top_k", 100)):  # merge keys: the merge only
        assert planned(dry_run(workdir, config, SCORES, overlay={key: value})) == {"rank_anomalies": 1}, key
    # an edited expert labels file is an input of the fit: it refits and reranks
    labels = Path(config["anomaly"]["labels"][0])
    labels.write_text(labels.read_text() + "634101100000003,regular,alice,2026-01-03T00:00:00Z,\n")  # any id
    assert "fit_anomaly_model" in planned(dry_run(workdir, config, SCORES))


def test_free_answers_and_expert_lists_in_the_workflow(run):
    workdir, config = run
    labels = Path(config["anomaly"]["labels"][0])
    before = labels.read_bytes()
    overlay = {
        "free_answers": {"enabled": True, "classes": ["eclipsing_binary", "rrlyrae", "lpv", "constant"]}
    }
    target = "results/anomaly/experts/consensus.csv"
    # the cross-match tables become inputs of the fit: it refits and reranks
    assert planned(dry_run(workdir, config, SCORES, overlay=overlay)).get("fit_anomaly_model") == 1
    dry_run(workdir, config, overlay=overlay)  # writes overlay.yaml
    snakemake(workdir, target, SCORES, "--configfile", str(workdir / "overlay.yaml"))
    assert labels.read_bytes() == before  # free answers never reach an expert labels file
    scores = pd.read_parquet(workdir / SCORES)
    free = scores.loc[scores["label_expert"].str.startswith("catalog:")]
    assert len(free) and (free["label"] == "regular").all()
    assert (
        free["label_origin"].str.startswith("results/crossmatch/").all() and (free["known_class"] != "").all()
    )
    assert (scores.loc[scores["label_expert"] == "alice", "known_class"] == "").all()
    lists = pd.read_parquet(workdir / "results/anomaly/experts/lists.parquet")
    assert set(lists["expert"]) == {"alice"}
    consensus = pd.read_csv(workdir / target)
    assert consensus["consensus_rank"].iloc[0] == 1 and "answers" in consensus
