"""The workflow as a Snakemake ``module`` of another project: schema and resources found beside the rules."""

from __future__ import annotations

import shutil

import pytest
import yaml

from workflow_runner import ROOT, run_snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.e2e]

HOST_SNAKEFILE = """\
configfile: "config.yaml"


module skysift:
    snakefile:
        "{upstream}"
    config:
        config["skysift"]


use rule * from skysift as skysift_*


rule count_candidates:
    input:
        rules.skysift_all.input,
    output:
        "n_candidates.txt",
    shell:
        "grep -vc '^#' results/candidates/candidates.csv > {{output}}"
"""


@pytest.mark.parametrize("with_src", [True, False], ids=["checkout", "installed-package"])
def test_deployed_as_a_module_in_another_project_dry_runs(tmp_path, with_src):
    """Another project imports the rules with ``module``; without ``src/`` beside the workflow (a module
    taken from a remote source), the installed skysift package is used."""
    upstream = tmp_path / "skysift"
    upstream.mkdir()
    shutil.copy(ROOT / "Snakefile", upstream / "Snakefile")
    shutil.copytree(ROOT / "workflow", upstream / "workflow", symlinks=True)
    shutil.copytree(ROOT / "config", upstream / "config")
    if with_src:
        shutil.copytree(
            ROOT / "src", upstream / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
        )
    project = tmp_path / "project"
    project.mkdir()
    (project / "Snakefile").write_text(HOST_SNAKEFILE.format(upstream=upstream / "Snakefile"))
    config = {"skysift": {"demo": {"n_objects": 300, "fields": [633]}}}
    (project / "config.yaml").write_text(yaml.safe_dump(config))
    proc = run_snakemake(project, "-n", "--cores", "1", "count_candidates", snakefile=project / "Snakefile")
    out = proc.stdout + proc.stderr
    for rule in (
        "skysift_simulate_survey",
        "skysift_extract_features",
        "skysift_make_candidates",
        "count_candidates",
    ):
        assert rule in out, out[-3000:]
    # the module's config is validated against the schema beside its rules: a bad key is named
    config["skysift"]["demo"]["n_objectz"] = 3
    (project / "config.yaml").write_text(yaml.safe_dump(config))
    bad = run_snakemake(project, "-n", "--cores", "1", snakefile=project / "Snakefile", check=False)
    assert bad.returncode != 0 and "n_objectz" in bad.stdout + bad.stderr
