"""skysift cost: a run's benchmark files and sizes scaled to a target release, per rule and on disk."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skysift.cli import main
from skysift.cost import measure_run, predict
from skysift.io import InputError

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path, s: float, rss: float, cpu: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{s}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n")


@pytest.fixture
def results(tmp_path):
    """A finished run of 2 batches of 300 light curves each (features: 250 rows each), with benchmark files."""
    res = tmp_path / "results"
    for k, batch in enumerate(("field000001", "field000002")):
        dr = tmp_path / "dr" / f"{batch}.parquet"
        dr.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"objectid": np.arange(300)}), dr)
        (res / "fetch").mkdir(parents=True, exist_ok=True)
        (res / "fetch" / f"{batch}.tsv").write_text(f"path\tmd5\tbytes\n{dr}\tx\t1000\n")
        (res / "features").mkdir(exist_ok=True)
        pq.write_table(pa.table({"objectid": np.arange(250)}), res / "features" / f"{batch}.parquet")
        _bench(res / "benchmarks" / "extract_features" / f"{batch}.tsv", 10 + k, 400 + 100 * k, 20 + 2 * k)
    _bench(res / "benchmarks" / "fit_anomaly_model.tsv", 5, 300, 5)
    _bench(res / "benchmarks" / "rank_anomalies.tsv", 2, 200, 2)
    _bench(
        res / "benchmarks" / "combine_features" / "features.tsv", 1, 100, 1
    )  # release-wide, in a directory
    (res / "anomaly").mkdir()
    (res / "anomaly" / "scores.parquet").write_bytes(b"x" * 600)
    return res


def test_scaling_per_rule_and_disk(results):
    run = measure_run(results)
    assert (run.batches, run.lightcurves, run.feature_rows) == (2, 600, 500)
    assert run.rules["extract_features"][0] and not run.rules["combine_features"][0]
    # 10x the fields at the same light curves per field; fit sample 1,000 rows (the run fitted on its 500)
    est = predict(run, fields=20, lightcurves=6000, nodes=1, cores=4, fit_sample=1000)
    rules = {r.rule: r for r in est.rules}
    feats = rules["extract_features"]
    assert feats.jobs == 20 and feats.cpu_s == pytest.approx(42 * 10)
    assert feats.peak_mb == pytest.approx(500)  # same light curves per batch: the measured peak
    assert feats.wall_s == pytest.approx(10 * 10.5)  # 2 threads/job -> 2 jobs at once on 4 cores, 10 waves
    # fixed part of every job: the smallest CPU (1 s), wall (1 s), peak RSS (100 MB); the rest scales
    assert rules["fit_anomaly_model"].cpu_s == pytest.approx(1 + 4 * 1000 / 500)  # capped at the sample
    assert (
        rules["rank_anomalies"].cpu_s == pytest.approx(1 + 1 * 10) and rules["rank_anomalies"].peak_mb == 200
    )
    assert rules["combine_features"].jobs == 1
    assert est.disk["mirror"] == pytest.approx(20_000) and est.disk["anomaly"] == pytest.approx(6000)
    # twice the light curves per field: per-batch memory above the fixed part (smallest peak, 100 MB) doubles
    est = predict(run, fields=2, lightcurves=1200, fit_sample=1000)
    assert {r.rule: r for r in est.rules}["extract_features"].peak_mb == pytest.approx(100 + 2 * 400)


def test_cli_prints_rules_disk_and_assumptions(results, capsys):
    args = ["cost", "--results", str(results), "--fields", "1000", "--lightcurves", "1e9", "--nodes", "4"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "extract_features" in out and "node-hours" in out and "mirror" in out
    assert "assumptions:" in out and "fit_sample" in out


def test_a_directory_without_a_run_is_a_user_error(tmp_path, capsys):
    assert main(["cost", "--results", str(tmp_path), "--fields", "3", "--lightcurves", "10"]) == 2
    assert "fetch manifests" in capsys.readouterr().err
    (tmp_path / "fetch").mkdir()
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "fetch" / "field000001.tsv").write_text("path\tmd5\tbytes\n/nonexistent.parquet\tx\t1\n")
    with pytest.raises(InputError, match="nonexistent.parquet"):
        measure_run(tmp_path)


def test_the_classifier_scales_with_its_capped_training_labels(results):
    import json

    _bench(results / "benchmarks" / "train_classifier.tsv", 11, 600, 11)
    (results / "classify").mkdir()
    report = {"status": "trained", "training_labels": {"labelled": 60, "used": 60, "max_train_rows": 200}}
    (results / "classify" / "metrics.json").write_text(json.dumps(report))
    run = measure_run(results)
    assert run.labelled == 60
    # 10x the light curves: 600 labelled objects, capped at 200 -> 200 / 60 of the variable part
    rules = {r.rule: r for r in predict(run, fields=20, lightcurves=6000, max_train_rows=200).rules}
    assert rules["train_classifier"].scaling == "labels"
    assert rules["train_classifier"].cpu_s == pytest.approx(1 + 10 * 200 / 60)
    assert rules["train_classifier"].peak_mb == pytest.approx(100 + 500 * 200 / 60)
    # uncapped: with the labels, i.e. with the light curves
    rules = {r.rule: r for r in predict(run, fields=20, lightcurves=6000, max_train_rows=None).rules}
    assert rules["train_classifier"].cpu_s == pytest.approx(1 + 10 * 10)
    # a target past the cap from a run past it: flat
    rules = {r.rule: r for r in predict(run, fields=20, lightcurves=6000, max_train_rows=50).rules}
    assert rules["train_classifier"].cpu_s == pytest.approx(11)
