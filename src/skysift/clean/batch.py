"""The clean stage of one batch: the objects that survive the cuts (always), a cleaned copy (only if asked).

:func:`clean_objects` writes the batch's objects table -- one row per light curve that survives the
cuts: objectid, filterid, fieldid, rcid, objra, objdec and its cleaned ``nepochs`` (DR names and
types), sorted by objectid -- for the cross-match and the candidate plots, and logs every dropped epoch
and light curve. It reads only the columns the cuts need and writes ~30 bytes per light curve.
:func:`clean_files` writes a cleaned copy of the batch (DR schema, sorted by objectid, row groups of
``row_group_size``), streamed file by file when the plan is in objectid order (memory: one piece), else
in memory; the workflow writes it only with ``clean.keep: true``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from skysift.clean.plan import plan_batch
from skysift.clean.read import iter_clean, iter_cut
from skysift.io import atomic_path
from skysift.layout import DR_SCHEMA
from skysift.lightcurves.cuts import CUT_COLUMNS, CleanConfig, CleanStats
from skysift.lightcurves.manifest import read_manifest

__all__ = ["OBJECT_COLUMNS", "PARQUET_OPTIONS", "clean_objects", "clean_files", "run_clean"]

log = logging.getLogger(__name__)

#: Columns of a batch's objects table (DR names and types; ``nepochs`` counts the cleaned epochs).
OBJECT_COLUMNS: tuple[str, ...] = ("objectid", "filterid", "fieldid", "rcid", "objra", "objdec", "nepochs")

#: Parquet options of the clean products: zstd without dictionaries on the float columns, which made the
#: cleaned copy larger than the release (benchmarks/README.md, "Clean at I/O speed").
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "use_dictionary": ["filterid", "fieldid", "rcid"]}

OBJECTS_SCHEMA = pa.schema([DR_SCHEMA.field(name) for name in OBJECT_COLUMNS])


def _cuts(config: CleanConfig | Mapping[str, Any] | None) -> CleanConfig:
    """Typed cuts from CleanConfig or a (partial) ``clean`` section."""
    return config if isinstance(config, CleanConfig) else CleanConfig.from_config(config)


def _finish(stats: CleanStats, cuts: CleanConfig) -> CleanStats:
    """Check that every epoch and light curve is accounted for and log the counts."""
    stats.check_balance()
    log.info("%s", stats.summary(cuts))
    return stats


def clean_objects(
    paths: Iterable[str | Path], output: str | Path, config: CleanConfig | Mapping[str, Any] | None
) -> CleanStats:
    """Write the objects table of a batch of DR files (the light curves that survive the cuts); return the counts.

    ``config`` is the ``clean`` section (CleanConfig, or a mapping whose missing keys take the schema's
    defaults). The output is written atomically.
    """
    cuts = _cuts(config)
    paths = [str(p) for p in paths]
    stats = CleanStats(per_file={Path(p).name: 0 for p in paths})
    plan = plan_batch(paths)
    pieces = [
        table.select(OBJECT_COLUMNS[:-1])
        .take(pa.array(cut.rows))
        .append_column("nepochs", pa.array(cut.counts))
        for table, cut in iter_cut(plan, cuts, stats, [*OBJECT_COLUMNS, *CUT_COLUMNS])
    ]
    objects = pa.concat_tables(pieces).cast(OBJECTS_SCHEMA) if pieces else OBJECTS_SCHEMA.empty_table()
    if not plan.in_order:
        objects = objects.take(pc.sort_indices(objects, sort_keys=[("objectid", "ascending")]))
    with atomic_path(output) as tmp:
        pq.write_table(objects.combine_chunks(), tmp, **PARQUET_OPTIONS)
    return _finish(stats, cuts)


def _write_streaming(pieces: Iterable[pa.Table], writer: pq.ParquetWriter, group: int) -> None:
    """Append cleaned pieces in order; row groups of ``group`` rows cut across pieces and files."""
    pending = DR_SCHEMA.empty_table()  # < group rows carried to the next piece
    written = False
    for piece in pieces:
        pending = pa.concat_tables([pending, piece]) if pending.num_rows else piece
        full = (pending.num_rows // group) * group
        if full:
            # One contiguous chunk per write: the same pages (and bytes) as writing the whole batch.
            writer.write_table(pending.slice(0, full).combine_chunks(), row_group_size=group)
            pending, written = pending.slice(full), True
    if pending.num_rows or not written:  # an empty batch still gets one (empty) row group
        writer.write_table(pending.combine_chunks(), row_group_size=group)


def clean_files(
    paths: Iterable[str | Path], output: str | Path, config: CleanConfig | Mapping[str, Any] | None = None
) -> CleanStats:
    """Write a cleaned copy of a batch of DR files: one parquet file, DR schema, sorted by objectid.

    Streams when the batch's files are in objectid order (the DR layout): each file read a piece at a
    time, cleaned and appended in row groups of ``row_group_size`` (memory: one piece); otherwise the batch
    is cleaned in memory and sorted (logged). ``config`` as for :func:`clean_objects`. Written atomically.
    """
    cuts = _cuts(config)
    paths = [str(p) for p in paths]
    stats = CleanStats(per_file={Path(p).name: 0 for p in paths})
    plan = plan_batch(paths)
    with atomic_path(output) as tmp, pq.ParquetWriter(tmp, DR_SCHEMA, **PARQUET_OPTIONS) as writer:
        pieces = iter_clean(plan, cuts, stats)
        if not plan.in_order:
            log.info("clean: cleaning the batch in memory (peak memory ~ the whole batch) to sort it")
            whole = pa.concat_tables(list(pieces)) if plan.files else DR_SCHEMA.empty_table()
            pieces = iter([whole.take(pc.sort_indices(whole, sort_keys=[("objectid", "ascending")]))])
        _write_streaming(pieces, writer, int(cuts.row_group_size))
    return _finish(stats, cuts)


def run_clean(
    manifest: str | Path,
    clean: Mapping[str, Any],
    *,
    objects: str | Path | None = None,
    lightcurves: str | Path | None = None,
) -> CleanStats:
    """The clean stage of the batch of a fetch manifest: its objects table and/or its cleaned copy."""
    paths = read_manifest(manifest)
    cuts = CleanConfig.from_config(clean)
    stats = CleanStats()
    if objects is not None:
        stats = clean_objects(paths, objects, cuts)
    if lightcurves is not None:
        stats = clean_files(paths, lightcurves, cuts)
    return stats
