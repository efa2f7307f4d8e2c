"""Logging set-up for workflow scripts: everything a stage logs goes to the rule's log file."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["log_to_file", "run_script"]


def log_to_file(path: str | Path, level: int = logging.INFO) -> None:
    """Send stderr and the ``logging`` root logger to ``path`` (line-buffered, so a killed job keeps its log)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "w", buffering=1)  # noqa: SIM115 - lives as long as the script
    sys.stderr = stream
    logging.basicConfig(
        level=level,
        stream=stream,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    # Dask's per-worker start/stop chatter would drown the stage's own counts.
    for noisy in ("distributed", "dask"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run_script(main: Callable[[Any], None], smk: Any) -> None:
    """Run a workflow script's ``main(snakemake)`` with its log set up: the one bootstrap every script uses.

    The library is this checkout's: the Snakefile puts its ``src`` first on ``PYTHONPATH`` for every job.
    """
    import skysift

    log_to_file(smk.log[0])
    logging.getLogger("skysift").info(
        "skysift %s from %s", skysift.__version__, Path(skysift.__file__).parent
    )
    main(smk)
