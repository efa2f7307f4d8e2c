"""The real `snakemake` on the repository's Snakefile inside a test's work directory (shared by the workflow tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
#: Snakemake loads profiles/default implicitly as the workflow profile, and its default-resources
#: replace those of --profile (the Slurm account and partition included): off for the Slurm profile
#: tests until profiles/default is renamed.
NO_IMPLICIT_PROFILE = ["--workflow-profile", "none"] if (ROOT / "profiles" / "default").exists() else []


def run_snakemake(
    workdir: Path,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 900,
    snakefile: Path = ROOT / "Snakefile",
) -> subprocess.CompletedProcess:
    """Run snakemake with ``workdir/config.yaml``; on failure (``check``) raise with the tail of its output.

    ``args`` go last, so they may add ``--cores``, ``--profile`` or more ``--configfile`` files; ``snakefile``
    may be another checkout's (its jobs then use that checkout's library).
    """
    cmd = [
        str(SNAKEMAKE),
        "--snakefile",
        str(snakefile),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        *args,
    ]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
        )
    return proc
