"""Units of work of the feature stage: whole row groups of one file, read and processed where the task runs.

A task carries only (file, row groups, rows to drop as duplicate light curves); it reads its rows on the
worker, applies the quality cuts if the files are raw DR files (``cuts``), and computes the features
``rows_per_task`` light curves at a time. Row groups are never split between tasks: pyarrow decodes a
nested row group whole, so a slice of one would be decoded once per slice (benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from skysift.clean import FilePlan
from skysift.clean.plan import check_dr_columns
from skysift.clean.read import dr_schema
from skysift.features.catalogue import INPUT_COLUMNS
from skysift.features.magnitude import extract_table_counted
from skysift.features.settings import FeatureSettings
from skysift.io import InputError
from skysift.lightcurves.cuts import CleanConfig, CleanStats, clean_table

__all__ = ["FeatureTask", "plan_tasks", "run_task"]


@dataclass(frozen=True)
class FeatureTask:
    """One unit of work: the given row groups of one file; ``drop`` = rows among them to drop as duplicates."""

    index: int
    path: str
    row_groups: tuple[int, ...]
    length: int
    drop: tuple[int, ...] = ()


def _runs(meta: pq.FileMetaData, rows_per_task: int) -> Iterator[tuple[list[int], int, int]]:
    """(row groups, first row, rows) of consecutive non-empty row groups merged up to ``rows_per_task`` rows."""
    groups: list[int] = []
    first = start = 0
    for rg in range(meta.num_row_groups):
        n = meta.row_group(rg).num_rows
        if groups and start - first + n > rows_per_task:
            yield groups, first, start - first
            groups = []
        if n:
            first = start if not groups else first
            groups.append(rg)
        start += n
    if groups:
        yield groups, first, start - first


def plan_tasks(files: Iterable[str | Path | FilePlan], rows_per_task: int) -> list[FeatureTask]:
    """Cut input files into tasks of whole row groups, merged up to ``rows_per_task`` light curves (footers only).

    ``files`` are paths, or the :class:`~skysift.clean.FilePlan` entries of a batch plan (which carry the
    rows to drop as duplicate light curves). A row group larger than ``rows_per_task`` is one task.
    """
    if int(rows_per_task) < 1:
        raise ValueError(f"features.rows_per_task must be >= 1 (got {rows_per_task!r})")
    tasks: list[FeatureTask] = []
    for entry in files:
        file = entry if isinstance(entry, FilePlan) else FilePlan(str(entry), 0, (), True)
        if not Path(file.path).is_file():
            raise InputError(f"{file.path}: input light-curve file does not exist")
        meta = pq.ParquetFile(file.path).metadata
        check_dr_columns(file.path, meta.schema.to_arrow_schema().names, INPUT_COLUMNS)
        drop = np.asarray(file.drop, dtype=np.int64)
        for groups, first, n in _runs(meta, int(rows_per_task)):
            local = drop[(drop >= first) & (drop < first + n)] - first
            tasks.append(FeatureTask(len(tasks), file.path, tuple(groups), n, tuple(local.tolist())))
    return tasks


def run_task(
    task: FeatureTask, settings: FeatureSettings, cuts: CleanConfig | None = None
) -> tuple[int, pa.Table, dict[str, int], CleanStats]:
    """Read one task's rows, clean them if ``cuts`` are given, and compute their features (runs on a worker)."""
    schema = dr_schema(INPUT_COLUMNS)
    columns = list(INPUT_COLUMNS) if cuts is None else schema.names
    table = pq.ParquetFile(task.path).read_row_groups(list(task.row_groups), columns=columns)
    stats = CleanStats()
    if cuts is not None:
        drop = np.zeros(table.num_rows, dtype=bool)
        drop[list(task.drop)] = True
    step = int(settings.rows_per_task)
    results, totals = [], {}
    try:
        for start in range(0, max(table.num_rows, 1), step):
            piece = table.slice(start, step)
            if cuts is not None:
                piece = clean_table(
                    piece.select(columns).cast(schema), cuts, stats, drop=drop[start : start + step]
                )
            result, counts = extract_table_counted(
                piece,
                settings.names,
                settings.min_points,
                n_jobs=settings.n_jobs,
                periodogram=settings.periodogram,
                method=settings.method,
                transient_fits=settings.transient_fits,
                transient_fit_algorithm=settings.transient_fit_algorithm,
            )
            results.append(result)
            totals = {k: totals.get(k, 0) + v for k, v in counts.items()}
    except ValueError as exc:
        raise InputError(f"{task.path} (row groups {list(task.row_groups)}): {exc}") from exc
    return task.index, pa.concat_tables(results).combine_chunks(), totals, stats
