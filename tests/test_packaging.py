"""Project files that must agree with each other: pyproject vs envs/, README commands vs Makefile/CI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    """Distribution name of a requirement string, normalised."""
    return re.split(r"[<>=!\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_conda_env_lists_every_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    wanted = {"distributed" if n == "dask" else n for n in wanted} | {"dask"}
    env = yaml.safe_load((ROOT / "envs" / "skysift.yaml").read_text())
    listed = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            listed |= {_name(d) for d in dep.get("pip", [])}
        else:
            listed.add(_name(dep))
    assert wanted <= listed, wanted - listed


def test_readme_commands_exist():
    readme = (ROOT / "README.md").read_text().splitlines()
    head = "\n".join(readme[:15])
    assert "make demo" in head and "make test" in head
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
