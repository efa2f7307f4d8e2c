"""Cleaned light curves read straight from a batch's DR files: the quality cuts applied as the rows are read.

No stage needs a cleaned copy of the release: the feature stage, the cross-match's objects, the early SN Ia
classifier and the candidate plots read the DR files of the fetch manifests through these readers, which
drop duplicate light curves (:mod:`skysift.clean.plan`) and apply :mod:`skysift.lightcurves.cuts` piece by
piece (memory: one piece of ``READ_ROWS`` light curves, or one row group of the DR file if larger).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from skysift.clean.plan import BatchPlan, FilePlan, plan_batch
from skysift.layout import DR_SCHEMA
from skysift.lightcurves.cuts import (
    CUT_COLUMNS,
    CleanConfig,
    CleanStats,
    Cut,
    apply_cut,
    clean_table,
    cut_epochs,
)

__all__ = [
    "READ_ROWS",
    "LightCurveReader",
    "batch_reader",
    "dr_schema",
    "iter_cut",
    "iter_clean",
    "read_clean_lightcurves",
]

#: Light curves per piece a reader cleans at a time (a DR row group is decoded whole by pyarrow anyway).
READ_ROWS = 5000

#: Reads a batch's light curves with the given DR columns, piece by piece, in the batch's order.
LightCurveReader = Callable[[Sequence[str]], Iterator[pa.Table]]


def dr_schema(columns: Iterable[str]) -> pa.Schema:
    """The DR schema of ``columns`` (in DR order), always with the columns the cuts need."""
    wanted = set(columns) | set(CUT_COLUMNS) | {"objectid", "nepochs"}
    return pa.schema([f for f in DR_SCHEMA if f.name in wanted])


def _pieces(
    file: FilePlan, schema: pa.Schema, rows: int = READ_ROWS
) -> Iterator[tuple[pa.Table, np.ndarray | None]]:
    """(rows of the file with the DR types, duplicate-row mask) ``rows`` at a time, in file order."""
    start = 0
    for batch in pq.ParquetFile(file.path).iter_batches(batch_size=rows, columns=schema.names):
        table = pa.Table.from_batches([batch]).select(schema.names).cast(schema)
        yield table, file.drop_mask(start, start + table.num_rows)
        start += table.num_rows


def iter_cut(
    plan: BatchPlan, cuts: CleanConfig, stats: CleanStats, columns: Iterable[str] = DR_SCHEMA.names
) -> Iterator[tuple[pa.Table, Cut]]:
    """(raw piece, what survives its cuts) for every piece of the batch in plan order; counts go to ``stats``."""
    schema = dr_schema(columns)
    for file in plan.files:
        before = stats.lightcurves_out
        for table, drop in _pieces(file, schema):
            yield table, cut_epochs(table, cuts, stats, drop=drop)
        name = Path(file.path).name
        stats.per_file[name] = stats.per_file.get(name, 0) + stats.lightcurves_out - before


def iter_clean(
    plan: BatchPlan, cuts: CleanConfig, stats: CleanStats, columns: Iterable[str] = DR_SCHEMA.names
) -> Iterator[pa.Table]:
    """Cleaned pieces (DR columns ``columns`` plus those the cuts need) of the batch in plan order."""
    return (apply_cut(table, cut) for table, cut in iter_cut(plan, cuts, stats, columns))


def batch_reader(
    paths: Sequence[str | Path], cuts: CleanConfig | None = None, plan: BatchPlan | None = None
) -> LightCurveReader:
    """A reader of a batch's light curves: cleaned as read (``cuts``; ``plan`` saves planning again), or, without
    ``cuts``, the files' rows as stored (files that hold cleaned light curves), row group by row group."""
    paths = [str(p) for p in paths]

    def read(columns: Sequence[str]) -> Iterator[pa.Table]:
        if cuts is not None:
            yield from iter_clean(
                plan or plan_batch(paths, dr_schema(columns).names), cuts, CleanStats(), columns
            )
            return
        for path in paths:
            pf = pq.ParquetFile(path)
            for rg in range(pf.metadata.num_row_groups):
                yield pf.read_row_group(rg, columns=list(columns))

    return read


def _wanted_rows(file: FilePlan, wanted: pa.Array, columns: list[str]) -> pa.Table | None:
    """The file's rows of wanted objectids (not dropped as duplicates), reading only the row groups holding them."""
    pf = pq.ParquetFile(file.path)
    hit = pc.is_in(pf.read(columns=["objectid"]).column("objectid"), value_set=wanted)
    hit = hit.to_numpy(zero_copy_only=False).copy()
    hit[list(file.drop)] = False
    if not hit.any():
        return None
    groups, rows, offset, start = [], [], 0, 0
    for g in range(pf.metadata.num_row_groups):
        size = pf.metadata.row_group(g).num_rows
        found = np.flatnonzero(hit[start : start + size])
        if len(found):
            groups.append(g)
            rows.append(found + offset)
            offset += size
        start += size
    return pf.read_row_groups(groups, columns=columns).take(pa.array(np.concatenate(rows)))


def read_clean_lightcurves(
    paths: Sequence[str | Path],
    cuts: CleanConfig | Mapping[str, Any],
    *,
    objectids: Iterable[int] | None = None,
    columns: Iterable[str] = DR_SCHEMA.names,
    stats: CleanStats | None = None,
) -> pa.Table:
    """The cleaned light curves of DR files (one batch or several) as one table sorted by objectid.

    ``cuts`` is the ``clean`` section (CleanConfig, or a mapping whose missing keys take the schema's
    defaults). ``objectids`` restricts the result to those objects (only the row groups holding them are
    read); ``columns`` selects DR columns (those the cuts need are always read).
    """
    cuts = cuts if isinstance(cuts, CleanConfig) else CleanConfig.from_config(cuts)
    stats = stats if stats is not None else CleanStats()
    schema = dr_schema(columns)
    plan = plan_batch(paths, needed=schema.names)
    if objectids is None:
        pieces = list(iter_clean(plan, cuts, stats, schema.names))
    else:
        wanted = pa.array(sorted({int(i) for i in objectids}), type=pa.int64())
        pieces = []
        for file in plan.files:
            table = _wanted_rows(file, wanted, schema.names)
            if table is not None:
                pieces.append(clean_table(table.select(schema.names).cast(schema), cuts, stats))
    table = pa.concat_tables(pieces) if pieces else schema.empty_table()
    if not plan.in_order or objectids is not None:
        table = table.take(pc.sort_indices(table, sort_keys=[("objectid", "ascending")]))
    return table
