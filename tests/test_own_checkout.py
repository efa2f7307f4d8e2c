"""The workflow runs its own checkout's library, whatever the environment has installed.

Two checkouts share one virtual environment (installed, editable, from the first): a run of the
second checkout's Snakefile must import the second checkout's ``src`` in the Snakefile process and in
every job's script (each job logs where its library came from).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from workflow_runner import ROOT

pytestmark = [pytest.mark.workflow, pytest.mark.e2e]


def test_a_second_checkout_runs_its_own_library(tmp_path):
    second = tmp_path / "checkout2"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".snakemake", "results", "logs")
    for part in ("Snakefile", "workflow", "config", "src", "envs", "pyproject.toml"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, second / part, ignore=ignore, symlinks=True)
        else:
            second.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, second / part)
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.yaml").write_text(yaml.safe_dump({"demo": {"n_objects": 200, "fields": [633]}}))
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("snakemake")),
            "--snakefile",
            str(second / "Snakefile"),
            "--directory",
            str(work),
            "--configfile",
            str(work / "config.yaml"),
            "--cores",
            "1",
            "results/fetch/field000633.tsv",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    for log in ("simulate_survey.log", "fetch_lightcurves/field000633.log"):
        text = (work / "logs" / log).read_text()
        assert f"from {second / 'src' / 'skysift'}" in text, text[:2000]
        assert str(ROOT / "src") not in text
