"""`skysift profile install|check`: the Slurm profile written where `snakemake --profile slurm` finds it.

No Slurm needed here (tests/test_slurm.py runs the installed profile on a real one): Snakemake's own
profile lookup is exercised with a dry run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from skysift.cli import main
from skysift.siteprofile import (
    ProfileError,
    SiteSettings,
    find_profile,
    render_profile,
    site_from_profile,
    template_text,
)
from workflow_runner import NO_IMPLICIT_PROFILE, ROOT, run_snakemake

SITE = ["--account", "astro-01", "--partition", "compute", "--long-partition", "week", "--qos", "normal"]


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> Path:
    """A private XDG_CONFIG_HOME, so the user's real Snakemake profiles are never touched."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_the_packaged_profile_is_profiles_slurm():
    packaged = ROOT / "src" / "skysift" / "profiles" / "slurm" / "config.yaml"
    assert packaged.read_text() == (ROOT / "profiles" / "slurm" / "config.yaml").read_text(), (
        "src/skysift/profiles/slurm/config.yaml differs from profiles/slurm/config.yaml: "
        "edit profiles/slurm/config.yaml and copy it over the packaged one"
    )
    assert template_text("slurm") == packaged.read_text()


def test_install_writes_where_snakemake_looks_and_refuses_to_overwrite(xdg, capsys):
    # --no-check: this machine may have a Slurm that knows nothing of astro-01.
    assert main(["profile", "install", "slurm", *SITE, "--no-check"]) == 0
    written = xdg / "snakemake" / "slurm" / "config.yaml"
    assert f"wrote {written}" in capsys.readouterr().out
    profile = yaml.safe_load(written.read_text())
    assert (
        profile["default-resources"]["slurm_account"] == "'astro-01'"
    )  # a string once Snakemake evaluates it
    assert profile["set-resources"]["extract_features"]["slurm_partition"] == "'week'"
    assert profile["slurm-status-command"] == "sacct"
    assert find_profile("slurm") == written
    assert site_from_profile(written) == SiteSettings("astro-01", "compute", "normal", None)

    before = written.read_text()
    assert main(["profile", "install", "slurm", "--account", "other", "--partition", "p", "--no-check"]) == 1
    err = capsys.readouterr().err
    assert "exists" in err and "--force" in err
    assert written.read_text() == before
    assert (
        main(
            ["profile", "install", "slurm", "--account", "other", "--partition", "p", "--force", "--no-check"]
        )
        == 0
    )
    assert site_from_profile(written) == SiteSettings("other", "p")
    # Without --long-partition the long rules go to the default partition, not to a `long` that may not exist.
    assert (
        yaml.safe_load(written.read_text())["set-resources"]["evaluate_anomalies"]["slurm_partition"] == "'p'"
    )


def test_snakemake_finds_the_installed_profile_by_name(xdg, tmp_path):
    """`snakemake --profile slurm` from a directory without profiles/: the site's resources reach the jobs."""
    assert main(["profile", "install", "slurm", *SITE, "--no-check"]) == 0
    workdir = tmp_path / "run"
    workdir.mkdir()
    (workdir / "config.yaml").write_text(yaml.safe_dump({"demo": {"n_objects": 100, "fields": [633]}}))
    proc = run_snakemake(
        workdir,
        "--profile",
        "slurm",
        *NO_IMPLICIT_PROFILE,
        "--dry-run",
        cwd=workdir,
        env={"XDG_CONFIG_HOME": str(xdg)},
    )
    out = proc.stdout + proc.stderr
    assert "Using profile slurm" in out
    jobs = re.split(r"\n\s*rule ", out)  # a job of a job group is indented under its group
    clean = next(j for j in jobs if j.startswith("clean_lightcurves:"))
    features = next(j for j in jobs if j.startswith("extract_features:"))
    for resource in ("slurm_account=astro-01", "qos=normal", "mem_mb=2000"):
        assert resource in clean, clean
    assert "slurm_partition=compute" in clean and "slurm_partition=week" in features, features


def test_render_without_accounting_uses_squeue_and_no_account():
    profile = yaml.safe_load(
        render_profile(template_text(), SiteSettings(partition="batch", accounting=False))
    )
    assert profile["slurm-status-command"] == "squeue" and profile["slurm-no-account"] is True
    assert "slurm_account" not in profile["default-resources"]


def test_bad_settings_are_named():
    with pytest.raises(ProfileError, match="--account 'my proj'"):
        SiteSettings(account="my proj", partition="p")
    with pytest.raises(ProfileError, match="--no-accounting"):
        SiteSettings(account="a", partition="p", accounting=False)
    with pytest.raises(ProfileError, match="no Snakemake profile 'nope'"):
        find_profile("nope")


def test_install_without_slurm_commands_writes_and_says_what_it_did_not_check(tmp_path):
    """A laptop or a site without slurmdbd: no sinfo/sacctmgr on PATH is a note, not a failure."""
    env = {**os.environ, "PATH": str(tmp_path / "empty"), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    cmd = [sys.executable, "-m", "skysift.cli", "profile", "install", "slurm", *SITE[:4]]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "partitions not checked" in proc.stderr and "account and QOS not checked" in proc.stderr
    check = [sys.executable, "-m", "skysift.cli", "profile", "check", "slurm"]
    proc = subprocess.run(check, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.rstrip().endswith(": ok"), proc.stdout + proc.stderr
