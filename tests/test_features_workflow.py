"""The clean and feature rules in a real tiny snakemake run: no cleaned copy, counted drops, params that are results."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from conftest import TINY_RUN_CONFIG, copy_run
from workflow_runner import run_snakemake

TINY = TINY_RUN_CONFIG

pytestmark = pytest.mark.workflow


def planned(workdir: Path, config: dict, *args: str) -> dict[str, int]:
    """Jobs per rule that a dry run with ``config`` plans (empty when there is nothing to do)."""
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    proc = run_snakemake(workdir, "--cores", "2", "-n", *args)
    out = proc.stdout + proc.stderr
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.MULTILINE)}


@pytest.fixture(scope="module")
def run(tiny_run, tmp_path_factory) -> Path:
    """A copy of the session's tiny run (conftest), which these tests change."""
    return copy_run(tiny_run[0], tmp_path_factory.mktemp("features-run") / "run")


def test_no_cleaned_copy_and_both_logs_count_the_same_drops(run):
    clean = sorted(p.name for p in (run / "results/clean").iterdir())
    assert clean == ["field000633.objects.parquet", "field001721.objects.parquet"]
    for batch in ("field000633", "field001721"):
        counts = [
            re.findall(r"\bcleaned \d+ -> \d+ light curves.*", (run / f"logs/{rule}/{batch}.log").read_text())
            for rule in ("clean_lightcurves", "extract_features")
        ]
        assert len(counts[0]) == 1 and counts[0] == counts[1], counts
        assert "flagged" in counts[0][0] and "duplicate light curves" in counts[0][0]
        objects = pq.read_table(run / f"results/clean/{batch}.objects.parquet")
        features = pq.read_table(run / f"results/features/{batch}.parquet")
        assert objects.column("objectid").equals(features.column("objectid"))
        assert objects.column("nepochs").equals(features.column("n_points"))


def test_execution_settings_rerun_nothing_and_feature_settings_only_what_uses_features(run):
    assert planned(run, TINY) == {}
    # how Dask runs is no result
    assert planned(run, {**TINY, "dask": {"threads_per_worker": 2}}) == {}
    # a cleaned copy only adds the copies
    assert planned(run, {**TINY, "clean": {"keep": True}}) == {"write_clean_lightcurves": 2, "all": 1}
    # a feature setting reruns the features and exactly what depends on them
    downstream = planned(run, TINY, "--forcerun", "extract_features")
    changed = planned(run, {**TINY, "features": {"min_points": 12}})
    assert changed == downstream and changed["extract_features"] == 2
    assert not {"clean_lightcurves", "crossmatch", "train_early_snia", "train_kilonova"} & set(changed)
    # a quality cut changes everything that reads light curves
    cut = planned(run, {**TINY, "clean": {"max_magerr": 0.5}})
    assert {"clean_lightcurves", "extract_features", "crossmatch", "train_early_snia"} <= set(cut)


def test_a_kept_copy_holds_the_light_curves_the_features_were_computed_from(run, tmp_path):
    (run / "config.yaml").write_text(yaml.safe_dump({**TINY, "clean": {"keep": True}}))
    proc: subprocess.CompletedProcess = run_snakemake(run, "--cores", "2")
    assert "write_clean_lightcurves" in proc.stdout + proc.stderr
    for batch in ("field000633", "field001721"):
        copy = pq.read_table(run / f"results/clean/{batch}.parquet")
        objects = pq.read_table(run / f"results/clean/{batch}.objects.parquet")
        assert copy.select(objects.column_names).equals(objects)
    assert planned(run, {**TINY, "clean": {"keep": True}}) == {}
