"""Batch manifests: the TSV that a fetch job writes and every later reader of a batch's DR files reads."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from skysift.io import InputError, atomic_path
from skysift.layout import check_dr_file

__all__ = ["MANIFEST_COLUMNS", "write_manifest", "read_manifest", "manifest_files"]

#: Columns of a batch manifest (one row per DR file of the batch).
MANIFEST_COLUMNS = ("path", "md5", "bytes", "fieldid", "filterid", "ccdid", "qid", "url")


def write_manifest(rows: list[dict], manifest: str | Path) -> Path:
    """Check the listed DR files that exist (:func:`skysift.layout.check_dr_file`: readable parquet with the
    DR columns), then write the batch manifest (TSV with MANIFEST_COLUMNS) atomically.

    The check reads footers only; a bad file stops the fetch naming the file, before any stage reads it.
    """
    for row in rows:
        if Path(row["path"]).exists():
            check_dr_file(row["path"])
    with atomic_path(manifest) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, delimiter="\t")
        writer.writeheader()
        for row in rows:
            writer.writerow({"url": "", **row})
    return Path(manifest)


def read_manifest(manifest: str | Path) -> list[Path]:
    """The file paths listed in a batch manifest, in order."""
    with open(manifest, newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if reader.fieldnames is None or "path" not in reader.fieldnames:
            raise InputError(f"{manifest}: not a skysift batch manifest (no 'path' column)")
        return [Path(row["path"]) for row in reader]


def manifest_files(manifests: Iterable[str | Path]) -> list[Path]:
    """Every DR file listed in the fetch manifests."""
    return [path for manifest in manifests for path in read_manifest(manifest)]
