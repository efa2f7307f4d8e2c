"""docs/tutorial.md runs as written: its bash and Python blocks in order, in a fresh directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workflow_runner import ROOT

pytestmark = [pytest.mark.workflow, pytest.mark.e2e]

TUTORIAL = ROOT / "docs" / "tutorial.md"
#: The reader's set-up block (where the checkout is, a directory of their own): the test sets both itself.
SETUP = re.compile(r"export SKYSIFT=|mkdir -p ~/skysift-tutorial")


def blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of the fenced bash and python blocks, in order."""
    return re.findall(r"^```(bash|python)\n(.*?)^```$", text, flags=re.S | re.M)


def test_the_tutorial_runs_end_to_end(tmp_path):
    env = {
        **os.environ,
        "SKYSIFT": str(ROOT),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MPLBACKEND": "Agg",
    }
    namespace: dict = {}
    found = blocks(TUTORIAL.read_text())
    assert [lang for lang, _ in found].count("python") >= 3 and len(found) >= 8
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for lang, code in found:
            if SETUP.search(code):
                continue
            if lang == "bash":
                proc = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=tmp_path, env=env,
                                      capture_output=True, text=True, timeout=600)  # fmt: skip
                assert proc.returncode == 0, f"{code}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
            else:
                exec(compile(code, str(TUTORIAL), "exec"), namespace)  # noqa: S102 - the tutorial's own code
    finally:
        os.chdir(cwd)
    # what the reader was promised
    assert (tmp_path / "top_candidate.png").stat().st_size > 0
    assert sorted(namespace["labels"]["label"]) == ["anomaly", "regular", "regular"]
    assert (tmp_path / "results/publish/tutorial-1/SHA256SUMS").exists()
    assert namespace["votable"]["ra"].meta["ucd"] == "pos.eq.ra;meta.main"
