"""Shared test helpers: small DR tables built in the tests (no downloaded data), and one tiny workflow run.

The tiny run (:func:`tiny_run`) is the real ``snakemake`` on the default target of a small demo, made once
per test session and shared by the workflow tests that only read it; a test that changes a run (another
config, a forced rerun, deleted outputs) works on its own copy (:func:`copy_run`), which keeps the files'
times and Snakemake's metadata, so only what the change touches reruns.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import yaml

from skysift.layout import DR_SCHEMA
from workflow_runner import run_snakemake

#: The shared tiny run's config: two fields of the demo (kilonovae 1 % of the sources, for the sky-map
#: tests), light training.
TINY_RUN_CONFIG = {
    "demo": {"seed": 7, "n_objects": 2000, "fields": [633, 1721], "class_fractions": {"kilonova": 0.01}},
    "classify": {"n_estimators": 50, "cv_folds": 3},
    "anomaly": {"n_trees": 100},
    "candidates": {"top_n": None},
}


def make_dr_table(lightcurves: list[dict], fieldid: int = 633, rcid: int = 0) -> pa.Table:
    """A DR-schema table from dicts with objectid, filterid and per-epoch arrays (hmjd, mag, magerr, catflags)."""
    rows = {name: [] for name in DR_SCHEMA.names}
    for lc in lightcurves:
        n = len(lc["hmjd"])
        rows["objectid"].append(lc["objectid"])
        rows["filterid"].append(lc.get("filterid", 2))
        rows["fieldid"].append(fieldid)
        rows["rcid"].append(rcid)
        rows["objra"].append(lc.get("ra", 150.0))
        rows["objdec"].append(lc.get("dec", 30.0))
        rows["nepochs"].append(n)
        rows["hmjd"].append(list(map(float, lc["hmjd"])))
        rows["mag"].append(list(map(float, lc["mag"])))
        rows["magerr"].append(list(map(float, lc["magerr"])))
        rows["clrcoeff"].append(list(map(float, lc.get("clrcoeff", np.zeros(n)))))
        rows["catflags"].append(list(map(int, lc.get("catflags", np.zeros(n, dtype=int)))))
    return pa.table(rows, schema=DR_SCHEMA)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator so every test is reproducible."""
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The default target of :data:`TINY_RUN_CONFIG`, run once: its directory and the dry run before it.

    Read it, never change it (use :func:`copy_run`): other test modules see the same directory.
    """
    workdir = tmp_path_factory.mktemp("tiny-run")
    (workdir / "config.yaml").write_text(yaml.safe_dump(TINY_RUN_CONFIG))
    dry = run_snakemake(workdir, "--cores", "2", "-n")
    run_snakemake(workdir, "--cores", "2")
    return workdir, dry


def copy_run(source: Path, target: Path, config: dict | None = None) -> Path:
    """A private copy of a finished run (times and ``.snakemake`` metadata kept); ``config`` replaces its config."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("locks", "incomplete"))
    if config is not None:
        (target / "config.yaml").write_text(yaml.safe_dump(config))
    return target
