"""How to read a batch's DR files in objectid order, and which rows repeat a light curve (from two columns only).

A batch is the DR files of one fetch manifest. :func:`plan_batch` reads only their ``objectid`` and
``nepochs`` columns (~16 bytes per light curve) and decides:

- the reading order: files by their smallest objectid (empty files first);
- duplicate light curves: a row whose objectid another row of the batch also has, e.g. overlapping or
  re-downloaded files, is dropped, keeping the copy with most epochs (``nepochs``), then the one of the
  earlier file in the batch, then the earlier row (:func:`skysift.lightcurves.cuts.duplicate_rows`);
- whether the files read in that order, rows as stored and duplicates dropped, give strictly increasing
  objectids (``in_order``): true for the DR layout (objectid = field, filter, CCD, quadrant, number).
  Readers that need objectid order sort their (small) outputs otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from skysift.io import InputError
from skysift.layout import DR_SCHEMA
from skysift.lightcurves.cuts import duplicate_rows

__all__ = ["FilePlan", "BatchPlan", "plan_batch", "check_dr_columns"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FilePlan:
    """One DR file of a batch: its rows, the rows to drop as duplicates, and whether its rows are sorted."""

    path: str
    n_rows: int
    drop: tuple[int, ...]
    rows_sorted: bool

    def drop_mask(self, start: int, stop: int) -> np.ndarray | None:
        """Duplicate rows among the file's rows [start, stop), as a mask; None if there are none."""
        if not self.drop:
            return None
        drop = np.asarray(self.drop, dtype=np.int64)
        drop = drop[(drop >= start) & (drop < stop)]
        if not len(drop):
            return None
        mask = np.zeros(stop - start, dtype=bool)
        mask[drop - start] = True
        return mask


@dataclass(frozen=True)
class BatchPlan:
    """The files of a batch in reading order, and whether that order gives strictly increasing objectids."""

    files: tuple[FilePlan, ...]
    in_order: bool

    @property
    def n_duplicates(self) -> int:
        """Rows dropped as duplicate light curves."""
        return sum(len(f.drop) for f in self.files)


def check_dr_columns(path: str | Path, names: Iterable[str], needed: Iterable[str] = DR_SCHEMA.names) -> None:
    """Raise InputError naming the file if a needed DR column is missing."""
    missing = [name for name in needed if name not in set(names)]
    if missing:
        raise InputError(
            f"{path}: missing DR light-curve column(s) {missing}; "
            "expected the ZTF DR bulk parquet schema (README, 'Data contracts')"
        )


def plan_batch(paths: Iterable[str | Path], needed: Iterable[str] = DR_SCHEMA.names) -> BatchPlan:
    """Plan reading a batch of DR files (reads only objectid and nepochs); InputError names a file lacking ``needed``."""
    paths = [str(p) for p in paths]
    ids, nepochs = [], []
    for path in paths:
        if not Path(path).is_file():
            raise InputError(f"{path}: DR light-curve file of the batch does not exist; rerun its fetch")
        pf = pq.ParquetFile(path)
        check_dr_columns(path, pf.schema_arrow.names, needed)
        table = pf.read(columns=["objectid", "nepochs"])
        ids.append(table.column("objectid").to_numpy().astype(np.int64, copy=False))
        nepochs.append(table.column("nepochs").to_numpy().astype(np.int64, copy=False))
    all_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    drop = duplicate_rows(all_ids, np.concatenate(nepochs) if nepochs else all_ids)
    starts = np.concatenate([[0], np.cumsum([len(i) for i in ids])]).astype(np.int64)
    entries = []
    for k, path in enumerate(paths):
        file_drop = np.flatnonzero(drop[starts[k] : starts[k + 1]])
        kept = np.delete(ids[k], file_drop)
        rows_sorted = bool(np.all(kept[1:] > kept[:-1]))
        first = int(kept[0]) if len(kept) else None
        entries.append((first, k, FilePlan(path, len(ids[k]), tuple(file_drop.tolist()), rows_sorted), kept))
    # Empty files (nothing kept) first, then by smallest objectid; ties keep the batch's order.
    entries.sort(key=lambda e: (e[0] is not None, e[0] if e[0] is not None else 0, e[1]))
    kept_ids = [e[3] for e in entries if len(e[3])]
    in_order = all(f.rows_sorted for _, _, f, _ in entries) and all(
        int(b[0]) > int(a[-1]) for a, b in zip(kept_ids, kept_ids[1:], strict=False)
    )
    plan = BatchPlan(tuple(e[2] for e in entries), in_order)
    if plan.n_duplicates:
        counts = {Path(f.path).name: len(f.drop) for f in plan.files if f.drop}
        log.warning(
            "%d duplicate light curve(s) (an objectid twice in the batch: overlapping or re-downloaded files) "
            "dropped, keeping the copy with most epochs, then the earlier file: %s",
            plan.n_duplicates,
            counts,
        )
    if not plan.in_order:
        log.info(
            "the batch's files are not in objectid order as stored (overlapping ranges or unsorted rows)"
        )
    return plan
