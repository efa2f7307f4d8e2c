"""The ``skysift`` command as a user meets it: version, clear one-line errors, works outside a checkout."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

SKYSIFT = Path(sys.executable).with_name("skysift")


def skysift(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SKYSIFT), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_version_is_the_package_metadata():
    proc = skysift("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"skysift {metadata.version('skysift')}"


def test_a_user_error_is_one_line_and_exit_status_2(tmp_path):
    proc = skysift(
        "label", "--labels", str(tmp_path / "l.csv"), "--expert", "me", "--config", str(tmp_path / "no.yaml"),
        "--session", str(tmp_path / "session.json"),
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "no.yaml" in lines[0] and "Traceback" not in proc.stderr


def test_a_bad_config_names_the_key_on_one_line(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("clean: {min_epochs: ten}\n")
    proc = skysift(
        "label", "--labels", str(tmp_path / "l.csv"), "--expert", "me", "--config", str(config),
        "--session", str(tmp_path / "session.json"),
    )  # fmt: skip
    assert proc.returncode == 2
    assert "clean.min_epochs" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path):
    proc = skysift(
        "--debug",
        "label",
        "--labels",
        str(tmp_path / "l.csv"),
        "--expert",
        "me",
        "--config",
        str(tmp_path / "no.yaml"),
        "--session",
        str(tmp_path / "session.json"),
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_config_doc_works_outside_a_checkout(tmp_path):
    proc = skysift("config-doc", "--output", "-", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "| `clean.min_epochs` | integer | `10` |" in proc.stdout


def test_release_files_agree_with_the_package():
    import tomllib

    import yaml

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["license"] == "BSD-3-Clause" and "BSD 3-Clause License" in (root / "LICENSE").read_text()
    citation = yaml.safe_load((root / "CITATION.cff").read_text())
    assert citation["version"] == project["version"] == metadata.version("skysift")
    assert citation["license"] == project["license"]
    assert "## [Unreleased]" in (root / "CHANGELOG.md").read_text()
    catalog = yaml.safe_load((root / ".snakemake-workflow-catalog.yml").read_text())
    assert "profiles/local" in catalog["usage"]["mandatory-flags"]["flags"]
