"""Write candidate tables as ECSV (units, descriptions, meta), CSV and VOTable, atomically; in the CSV no
catalog string runs as a spreadsheet formula (:func:`skysift.io.spreadsheet_safe`)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from astropy.io.votable import from_table
from astropy.io.votable.tree import Info
from astropy.table import Table

from skysift.candidates.columns import apply_ucds
from skysift.io import atomic_path, spreadsheet_safe

__all__ = ["write_candidates"]

logger = logging.getLogger(__name__)


def write_candidates(
    table: Table, ecsv_path: str | Path, csv_path: str | Path, votable_path: str | Path | None = None
) -> list[Path]:
    """Write the candidate table atomically as ECSV (units, descriptions, UCDs, meta), CSV and optionally VOTable."""
    table = apply_ucds(table.copy(copy_data=False))
    outputs = [(ecsv_path, "ascii.ecsv"), (csv_path, "ascii.csv")]
    if votable_path is not None:
        outputs.append((votable_path, "votable"))
    written = []
    for path, fmt in outputs:
        with atomic_path(path) as tmp:
            if fmt == "votable":
                _write_votable(table, tmp)
            else:  # CSV is opened in spreadsheets: catalog strings cannot run as formulas there
                out = spreadsheet_safe(table) if fmt == "ascii.csv" else table
                out.write(tmp, format=fmt, overwrite=True)
        written.append(Path(path))
        logger.info("wrote %d candidates to %s", len(table), path)
    return written


def _write_votable(table: Table, path: Path) -> None:
    """Write a VOTable: int8 widened to int16 (VOTable has no signed byte), scalar meta as INFO."""
    out = table.copy(copy_data=False)
    for name in out.colnames:
        if out[name].dtype == np.int8:
            out[name] = out[name].astype(np.int16)
    votable = from_table(out)
    resource = votable.resources[0]
    for key, value in table.meta.items():
        if key != "description" and (value is None or isinstance(value, str | int | float)):
            resource.infos.append(Info(name=key, value="" if value is None else str(value)))
    votable.to_xml(str(path))
