"""Provenance of every product: the config hash, package versions and the git revision, one implementation.

The feature store's attributes, the model cards and the published bundle all identify a run by the
same :func:`config_sha256` (canonical JSON: sorted keys, no spaces, UTF-8).
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "config_sha256", "git_revision", "package_versions", "sha256_file"]

#: Distributions whose versions go into provenance.json.
PACKAGES: tuple[str, ...] = (
    "skysift",
    "light-curve",
    "coniferest",
    "astropy",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "imbalanced-learn",
    "matplotlib",
    "dask",
    "snakemake",
)


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file (streamed by hashlib.file_digest)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def config_sha256(config: Mapping[str, Any]) -> str:
    """SHA-256 of the config as canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (None if not installed), plus Python's."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_revision(directory: str | Path) -> dict[str, Any] | None:
    """{"revision", "dirty"} of the git work tree holding ``directory``; None if it is none (or no git)."""
    try:
        rev = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=20
        )
        if rev.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {
        "revision": rev.stdout.strip(),
        "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None,
    }
