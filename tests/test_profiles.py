"""Profiles that compose and command-line overrides, as a user types them (real snakemake dry runs).

Snakemake loads ``profiles/default`` of a workflow implicitly, and that workflow profile wins over the
user's own ``--profile``: the project therefore ships no implicit profile (``profiles/local`` is asked for).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from workflow_runner import ROOT, run_snakemake

pytestmark = pytest.mark.workflow

TINY = {"demo": {"seed": 3, "n_objects": 300, "fields": [633]}}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(TINY))
    return tmp_path


def job_resources(output: str) -> dict[str, str]:
    """rule name -> the resources line of its job in a dry run's output."""
    found = {}
    for block in re.split(r"\n(?=rule |localrule )", output):
        rule = re.match(r"(?:local)?rule (\w+):", block)
        resources = re.search(r"^\s+resources: (.*)$", block, re.MULTILINE)
        if rule and resources:
            found[rule.group(1)] = resources.group(1)
    return found


def test_no_profile_is_loaded_implicitly():
    assert not (ROOT / "profiles" / "default").exists(), "Snakemake would load profiles/default implicitly"


def test_the_users_profile_sets_the_job_resources(workdir, tmp_path_factory):
    profile = tmp_path_factory.mktemp("site") / "mysite"
    profile.mkdir()
    (profile / "config.yaml").write_text(
        yaml.safe_dump({"cores": 3, "default-resources": {"slurm_account": "myproj", "mem_mb": 1234}})
    )
    proc = run_snakemake(workdir, "-n", "--profile", str(profile))
    resources = job_resources(proc.stdout + proc.stderr)
    assert {"simulate_survey", "fetch_lightcurves", "extract_features"} <= set(resources), resources
    for rule, line in resources.items():
        assert "slurm_account=myproj" in line, (rule, line)
    # rules without their own memory take the profile's; rules that size themselves keep their own
    assert "mem_mb=1234" in resources["fetch_lightcurves"]
    assert "mem_mb=4000" in resources["extract_features"]


def test_command_line_overrides_take_the_schema_types(workdir):
    proc = run_snakemake(
        workdir,
        "-n",
        "--cores",
        "1",
        "--config",
        'fetch={"http": {"timeout": 30}}',
        "demo={n_objects: 250, seed: 5, fields: [633]}",
        "tns_send=false",
    )
    assert "fetch_lightcurves" in proc.stdout + proc.stderr


def test_a_bad_override_is_named(workdir):
    proc = run_snakemake(workdir, "-n", "--cores", "1", "--config", "demo={n_objects: many}", check=False)
    assert proc.returncode != 0
    assert "demo.n_objects: 'many' is not of type 'integer'" in proc.stdout + proc.stderr
