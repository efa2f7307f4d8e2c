"""End to end: the real `snakemake` on a tiny demo config in a temporary directory."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from astropy.table import Table

from conftest import TINY_RUN_CONFIG, copy_run
from skysift.io import read_tables
from workflow_runner import ROOT, run_snakemake

RULES = [
    "simulate_survey",
    "fetch_lightcurves",
    "clean_lightcurves",
    "crossmatch",
    "extract_features",
    "write_feature_batch",
    "combine_features",
    "train_classifier",
    "predict_classes",
    "extract_kilonova_features",
    "train_kilonova",
    "predict_kilonova",
    "extract_early_snia_features",
    "train_early_snia",
    "predict_early_snia",
    "fit_anomaly_model",
    "score_anomalies",
    "rank_anomalies",
    "make_candidates",
]
RARE = {"kilonova", "microlensing", "flare", "cv", "tde", "slsn", "artefact"}

TINY = TINY_RUN_CONFIG

pytestmark = pytest.mark.workflow


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real snakemake on the repository's Snakefile inside ``workdir`` (2 cores)."""
    return run_snakemake(workdir, "--cores", "2", *args, check=check)


def planned_rules(proc: subprocess.CompletedProcess) -> set[str]:
    """Rule names announced by a dry run (``rule X:`` / ``localrule X:`` lines)."""
    out = proc.stdout + proc.stderr
    return set(re.findall(r"^(?:local)?rule (\w+):", out, flags=re.MULTILINE))


@pytest.fixture
def run(tiny_run):
    """The session's tiny run (conftest): read it only, copy it to change it."""
    return tiny_run


def test_dry_run_plans_every_rule(run):
    _, dry = run
    assert planned_rules(dry) >= set(RULES)


def test_candidate_table_is_complete_and_ranks_rare_objects_high(run):
    workdir, _ = run
    table = Table.read(workdir / "results/candidates/candidates.ecsv")
    assert len(table) > 1000
    for column in ("rank", "objectid", "ra", "dec", "anomaly_score", "predicted_class", "xmatch_name"):
        assert column in table.colnames
    assert table["ra"].unit == "deg"
    assert list(table["rank"]) == sorted(table["rank"])
    truth = pd.read_parquet(workdir / "results/demo/truth.parquet")
    df = table.to_pandas()[["objectid", "anomaly_score"]].merge(truth[["objectid", "class"]], on="objectid")
    rare = df[df["class"].isin(RARE)]
    assert len(rare) >= 5
    median = df["anomaly_score"].median()
    assert (rare["anomaly_score"] > median).mean() > 0.7, rare
    csv = pd.read_csv(workdir / "results/candidates/candidates.csv")
    assert len(csv) == len(table)
    assert Table.read(workdir / "results/candidates/candidates.vot", format="votable").colnames


def test_every_rule_logged_and_benchmarked(run):
    workdir, _ = run
    for rule in RULES:
        logs = list((workdir / "logs").glob(f"{rule}*")) + list((workdir / "logs" / rule).glob("*.log"))
        assert logs, f"no log for {rule}"
    clean_log = next((workdir / "logs/clean_lightcurves").glob("*.log")).read_text()
    assert "dropped epochs" in clean_log and "flagged" in clean_log
    assert list((workdir / "results/benchmarks/extract_features").glob("*.tsv"))


def test_rerun_is_a_no_op_and_forcerun_features_reruns_downstream_only(run):
    workdir, _ = run
    again = snakemake(workdir, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
    forced = snakemake(workdir, "-n", "--forcerun", "extract_features")
    planned = planned_rules(forced)
    # everything downstream of the features reruns, nothing upstream of them does
    assert planned >= {
        "extract_features",
        "write_feature_batch",
        "combine_features",
        "train_classifier",
        "predict_classes",
        "fit_anomaly_model",
        "score_anomalies",
        "rank_anomalies",
        "make_candidates",
        "all",
    }
    assert not planned & {"simulate_survey", "fetch_lightcurves", "clean_lightcurves", "crossmatch"}


def test_classifier_metrics_exist_with_per_class_scores(run):
    import json

    workdir, _ = run
    metrics = json.loads((workdir / "results/classify/metrics.json").read_text())
    text = json.dumps(metrics)
    assert "rrlyrae" in text
    # one predictions file per batch, every object of the batch's features in it
    for path in sorted((workdir / "results/features").glob("*.parquet")):
        batch = pd.read_parquet(workdir / "results/classify/predictions" / path.name)
        assert sorted(batch["objectid"]) == sorted(pd.read_parquet(path, columns=["objectid"])["objectid"])
    predictions = pd.concat(pd.read_parquet(p) for p in (workdir / "results/classify/predictions").glob("*"))
    prob = predictions.filter(like="prob_").to_numpy()
    assert np.allclose(prob.sum(axis=1), 1.0, atol=1e-6)


def test_a_bad_config_key_fails_with_its_name(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"clean": {"max_magerror": 0.5}}))
    proc = snakemake(tmp_path, "-n", check=False)
    assert proc.returncode != 0
    assert "unknown key clean.max_magerror" in proc.stdout + proc.stderr


def test_lint_is_clean(tmp_path):
    shutil.copy(ROOT / "config" / "config.yaml", tmp_path / "config.yaml")
    proc = snakemake(tmp_path, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_publish_bundle_of_the_run_verifies_and_tables_read_back(run):
    from skysift.candidates.publish import verify_sha256sums

    workdir, _ = run
    bundles = list((workdir / "results/publish").glob("skysift-candidates-*"))
    bundle = next(b for b in bundles if b.is_dir())
    assert (workdir / "results/publish" / f"{bundle.name}.tar.gz").is_file()
    assert verify_sha256sums(bundle) == []
    for name in ("anomalies", "unknown_transients"):
        table = Table.read(bundle / f"{name}.ecsv", format="ascii.ecsv")
        assert len(table) > 0 and table["ra"].unit == "deg"
        assert all(table[c].description for c in table.colnames)
        assert len(Table.read(bundle / f"{name}.vot", format="votable")) == len(table)
        for oid in table["objectid"][:5]:
            assert (bundle / "lightcurves" / f"lc_{oid}.png").is_file()
    provenance = __import__("json").loads((bundle / "provenance.json").read_text())
    assert provenance["config"]["demo"]["seed"] == 7 and len(provenance["config_sha256"]) == 64


def test_snakemake_report_builds_with_candidate_plots(run, tmp_path):
    import zipfile

    workdir, _ = run
    snakemake(workdir, "--report", str(tmp_path / "report.zip"))
    with zipfile.ZipFile(tmp_path / "report.zip") as archive:
        names = archive.namelist()
        assert "report/report.html" in names
        assert any(n.endswith("/sky_map.png") for n in names)
        assert any(n.endswith("/score_distribution.png") for n in names)
        assert any("/lc_" in n and n.endswith(".png") for n in names)
        assert any(n.endswith("/provenance.json") for n in names)
        assert "Candidates" in archive.read("report/report.html").decode("utf-8", "replace")


def test_kilonova_classifier_and_source_candidate_lists(run):
    import json

    workdir, _ = run
    metrics = json.loads((workdir / "results/classify/kilonova/metrics.json").read_text())
    held = metrics["held_out_simulations"]
    assert held["n_kilonova"] > 100 and held["precision"] > 0.8 and held["recall"] > 0.8, held
    card = json.loads((workdir / "results/classify/kilonova/model_card.json").read_text())
    assert card["features"] == metrics["features"] and len(card["pca_basis"]["components"]) == 3
    # one features and one predictions file per batch (no job holds the release)
    batches = sorted(p.name for p in (workdir / "results/features").glob("*.parquet"))
    for kind in ("features", "predictions"):
        for name in ("kilonova", "early_snia"):
            got = sorted(p.name for p in (workdir / f"results/classify/{name}/{kind}").glob("*.parquet"))
            assert got == batches, (name, kind)
    pred = read_tables(sorted((workdir / "results/classify/kilonova/predictions").glob("*.parquet")))
    truth = pd.read_parquet(workdir / "results/demo/truth.parquet")
    gr = truth[truth["filterid"].isin([1, 2])]
    # every g/r sky source has one row, also those too short for the cleaned light curves
    assert pred["source_id"].is_unique and pred["prob_kilonova"].between(0, 1).all()
    assert abs(len(pred) - gr["source_id"].nunique()) <= 0.02 * len(pred)
    covered = set(pred["objectid_g"].dropna().astype(int)) | set(pred["objectid_r"].dropna().astype(int))
    # the rest: no good epoch, or a second light curve of a source in one band
    assert gr["objectid"].isin(covered).mean() > 0.98
    for name in ("kilonova", "early_snia"):
        table = Table.read(workdir / f"results/candidates/{name}.ecsv")
        assert {"objectid", "ra", "dec", "source_probability", "xmatch_name"} <= set(table.colnames)
        assert table["ra"].unit == "deg" and not np.ma.getmaskarray(table["ra"]).any()
        assert (np.diff(np.asarray(table["source_probability"])) <= 0).all()
        assert (np.asarray(table["source_probability"]) >= 0.5).all()


def test_a_user_label_table_is_an_input_of_every_classifier(tmp_path):
    labels = tmp_path / "my_labels.csv"
    labels.write_text("objectid,label\n633101100000001,snia\n")
    classify = {**TINY["classify"], "labels": "table", "label_table": {"path": str(labels)}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({**TINY, "classify": classify}))
    dry = snakemake(tmp_path, "-n", "results/classify/metrics.json", "results/classify/kilonova/metrics.json")
    jobs = dry.stdout.split("rule ")
    for rule in ("train_classifier", "train_kilonova"):
        job = next(j for j in jobs if j.startswith(f"{rule}:"))
        assert str(labels) in job and "results/crossmatch/" not in job.split("output:")[0]
    classify["label_table"] = {"path": None}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({**TINY, "classify": classify}))
    failed = snakemake(tmp_path, "-n", "results/classify/metrics.json", check=False)
    assert failed.returncode != 0 and "classify.label_table.path" in failed.stdout + failed.stderr


def test_anomaly_ranked_lists_of_the_run(run):
    workdir, _ = run
    scores = pd.read_parquet(workdir / "results/anomaly/scores.parquet")
    assert list(scores.columns[:4]) == ["objectid", "filterid", "anomaly_score", "anomaly_rank"]
    assert scores["anomaly_rank"].tolist() == list(range(1, len(scores) + 1))
    for method in ("isoforest", "aad", "pineforest", "lof"):
        ranked = pd.read_parquet(workdir / f"results/anomaly/ranked/{method}.parquet")
        assert len(ranked) == len(scores) and set(ranked["objectid"]) == set(scores["objectid"])
        scored = ranked["method_score"].notna()
        assert ranked.loc[scored, "drivers"].str.count(":").eq(3).all()
        # g and r of one source share the source score: the most anomalous band's percentile
        best = ranked.groupby("source_id")["band_percentile"].transform("max")
        np.testing.assert_allclose(ranked.loc[scored, "anomaly_score"], best[scored])


def test_anomaly_evaluation_on_the_tiny_run(run, tmp_path):
    workdir = copy_run(run[0], tmp_path / "run")
    evaluation = {"budgets": [10, 20], "seeds": [0, 1, 2], "methods": ["isoforest", "aad"]}
    (workdir / "evaluation.yaml").write_text(
        yaml.safe_dump({**TINY, "anomaly": {**TINY["anomaly"], "evaluation": evaluation}})
    )
    snakemake(workdir, "results/anomaly/evaluation.png", "--configfile", str(workdir / "evaluation.yaml"))
    table = pd.read_csv(workdir / "results/anomaly/evaluation.csv")
    assert set(zip(table["method"], table["budget"], strict=True)) == {
        (m, b) for m in ("isoforest", "aad") for b in (10, 20)
    }
    assert (table["n_seeds"] == 3).all() and (table["mean"] <= table["budget"]).all()
    found = table.set_index(["method", "budget"])["mean"]
    # on the demo the forests find far more rare objects than random inspection would
    assert found[("aad", 20)] > 3 * table["random_expectation"].max()
    assert found[("aad", 20)] > found[("isoforest", 20)]  # the acceptance test of issue 7, in miniature
    assert (workdir / "results/anomaly/evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_expert_labels_file_is_an_input_of_fit_anomaly_model(tmp_path):
    labels = tmp_path / "alice.csv"
    labels.write_text(
        "objectid,label,expert,time,note\n633101100000001,regular,alice,2026-01-01T00:00:00Z,\n"
    )
    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump({**TINY, "anomaly": {**TINY["anomaly"], "labels": [str(labels)]}})
    )
    dry = snakemake(tmp_path, "-n", "results/anomaly/scores.parquet")
    job = next(j for j in dry.stdout.split("rule ") if j.startswith("fit_anomaly_model:"))
    assert str(labels) in job.split("output:")[0]


@pytest.mark.e2e
def test_alert_names_looked_up_in_a_local_alerce_fill_the_broker_links(run, tmp_path):
    """alert_lookup.enabled: the local rule asks the (fake) ALeRCE about the candidates, the tables link them."""
    from servers import FakeAlerce

    workdir = copy_run(run[0], tmp_path / "run")
    table = Table.read(workdir / "results/candidates/candidates.ecsv")
    ranked = []  # the best-ranked objects of three different sky sources (a source's bands share a position)
    for row in table:
        if all(
            abs(row["dec"] - r["dec"]) > 10 / 3600 or abs(row["ra"] - r["ra"]) > 10 / 3600 for r in ranked
        ):
            ranked.append(row)
        if len(ranked) == 3:
            break
    objects = [
        (f"ZTF2{i}aaaaaaa", float(r["ra"]), float(r["dec"]) + 0.3 / 3600) for i, r in enumerate(ranked)
    ]
    fake = FakeAlerce(objects)
    with fake as url:
        lookup = {"enabled": True, "url": url, "min_interval": 0.0, "backoff": 0.01}
        links = {"alerce": "https://broker.example/ztf/{ztf_name}"}
        config = {**TINY, "candidates": {**TINY["candidates"], "alert_lookup": lookup, "links": links}}
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))
        proc = snakemake(workdir)
        assert "rule lookup_alert_names" in proc.stdout + proc.stderr
        names = pd.read_csv(workdir / "results/candidates/alert_names.csv")
        named = dict(zip(names["objectid"], names["ztf_name"], strict=True))
        assert {int(r["objectid"]): named[int(r["objectid"])] for r in ranked} == {
            int(r["objectid"]): name for r, (name, _, _) in zip(ranked, objects, strict=True)
        }
        # the other bands of the three sources are named too; nobody else is in a cone
        named_rows = names[names["ztf_name"].notna()]
        assert 3 <= len(named_rows) <= 9 and (named_rows["ztf_sep"] <= 1.5).all()
        table = Table.read(workdir / "results/candidates/candidates.ecsv")
        top = table[np.isin(table["objectid"], [int(r["objectid"]) for r in ranked])]
        assert list(top["alerce_url"]) == [f"https://broker.example/ztf/{n}" for n in top["ztf_name"]]
        assert str(top["fink_url"][0]).startswith("https://fink-portal.org/ZTF2")
        assert (~table["ztf_name"].mask).sum() == len(set(named_rows["objectid"]) & set(table["objectid"]))
        # one cone per candidate-to-be, cached: asked again, the broker hears nothing new
        asked = fake.requests  # at most one per object (a source's bands may share a position: one cone)
        assert 3 <= asked <= len(names)
        (workdir / "results/candidates/alert_names.csv").unlink()
        snakemake(workdir, "results/candidates/alert_names.csv")
        again = pd.read_csv(workdir / "results/candidates/alert_names.csv")
        assert again["ztf_name"].notna().sum() == len(named_rows)
        assert fake.requests == asked


def test_alert_names_table_and_lookup_together_are_refused(tmp_path):
    candidates = {"alert_names": "names.csv", "alert_lookup": {"enabled": True}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({**TINY, "candidates": candidates}))
    proc = snakemake(tmp_path, "-n", check=False)
    assert proc.returncode != 0 and "either alert_names" in proc.stdout + proc.stderr
