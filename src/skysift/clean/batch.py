"""Quality cuts on DR light curves, done on the flat Arrow buffers (no per-light-curve Python loop).

The cuts, in order, each counted:

1. ``catflags``: epochs with any bit of ``bad_catflags_mask`` set are dropped (ZTF's
   recommended mask is 32768, "bad quality"; a mask of 65535 drops every flagged epoch);
2. ``magerr``: epochs with a non-finite mag/magerr, or magerr above ``max_magerr``;
3. ``mag`` range: epochs brighter than ``min_mag`` (saturation) or fainter than ``max_mag``;
4. duplicates: epochs sorted by time within each light curve; repeated ``hmjd`` (within
   ``duplicate_tolerance_days``) keep the first (lowest-magerr after sorting) epoch;
5. light curves with fewer than ``min_epochs`` remaining epochs are dropped (the rows are
   per objectid, i.e. per band, so this is the minimum number of epochs per band).

The output has the DR schema with ``nepochs`` recomputed, sorted by objectid, and is written
with row groups of ``row_group_size`` light curves so the feature stage can split work by
row group. :func:`clean_files` streams (files in objectid order, ``row_group_size`` rows at a
time, through one ParquetWriter): memory is one batch of rows, not the whole batch of files
(benchmarks/README.md, "Clean stage").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from skysift.io import InputError, atomic_path
from skysift.layout import DR_SCHEMA, read_dr_files
from skysift.lightcurves.cuts import CleanConfig, CleanStats, clean_table

__all__ = ["clean_files"]

log = logging.getLogger(__name__)


def _objectid_range(path: str | Path) -> tuple[int, int, bool] | None:
    """(min, max objectid, rows sorted by objectid?) of a DR file, None if it has no rows.

    Reads only the objectid column; raises InputError naming the file if a DR column is missing.
    """
    pf = pq.ParquetFile(path)
    missing = [name for name in DR_SCHEMA.names if name not in pf.schema_arrow.names]
    if missing:
        raise InputError(
            f"{path}: missing DR light-curve column(s) {missing}; "
            "expected the ZTF DR bulk parquet schema (see docs/architecture.md, 'Data contracts')"
        )
    if pf.metadata.num_rows == 0:
        return None
    ids = pf.read(columns=["objectid"]).column("objectid").to_numpy()
    return int(ids.min()), int(ids.max()), bool(np.all(ids[1:] > ids[:-1]))


def _stream_order(paths: list[str]) -> list[tuple[str, bool]] | None:
    """(file, sorted?) in increasing objectid order if the files' objectid ranges are disjoint, else None."""
    ranges = {path: _objectid_range(path) for path in paths}
    ordered = sorted((r, path) for path, r in ranges.items() if r is not None)
    for (prev_range, prev), (next_range, nxt) in zip(ordered, ordered[1:], strict=False):
        if next_range[0] <= prev_range[1]:
            log.info(
                "clean: objectid ranges of %s [%d, %d] and %s [%d, %d] overlap: cleaning the batch in memory "
                "(peak memory ~ the whole batch) instead of streaming",
                prev,
                *prev_range[:2],
                nxt,
                *next_range[:2],
            )
            return None
    return [(path, True) for path, r in ranges.items() if r is None] + [(path, r[2]) for r, path in ordered]


def _read_cleaned(path: str, rows_sorted: bool, config: CleanConfig, stats: CleanStats) -> Iterator[pa.Table]:
    """Cleaned pieces of one DR file in objectid order: batches of ``row_group_size`` rows if its rows are
    sorted by objectid (memory: one batch), else the whole file, sorted (memory: one file)."""
    if not rows_sorted:
        log.info("clean: %s is not sorted by objectid: cleaning it as a whole", path)
        cleaned = clean_table(read_dr_files([path]), config, stats)
        yield cleaned.take(pc.sort_indices(cleaned, sort_keys=[("objectid", "ascending")]))
        return
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=int(config.row_group_size), columns=DR_SCHEMA.names):
        yield clean_table(
            pa.Table.from_batches([batch]).select(DR_SCHEMA.names).cast(DR_SCHEMA), config, stats
        )


def _write_streaming(
    order: list[tuple[str, bool]], tmp: Path, config: CleanConfig, stats: CleanStats
) -> None:
    """Append every file's cleaned pieces in objectid order; row groups of row_group_size cut across files."""
    group = int(config.row_group_size)
    with pq.ParquetWriter(tmp, DR_SCHEMA, compression="zstd") as writer:
        pending = DR_SCHEMA.empty_table()  # < row_group_size rows carried to the next piece
        written = False
        for path, rows_sorted in order:
            before = stats.lightcurves_out
            for piece in _read_cleaned(path, rows_sorted, config, stats):
                pending = pa.concat_tables([pending, piece]) if pending.num_rows else piece
                full = (pending.num_rows // group) * group
                if full:
                    # One contiguous chunk per write: the same pages (and bytes) as writing the whole batch.
                    writer.write_table(pending.slice(0, full).combine_chunks(), row_group_size=group)
                    pending, written = pending.slice(full), True
            stats.per_file[Path(path).name] = stats.lightcurves_out - before
        if pending.num_rows or not written:  # an empty batch still gets one (empty) row group
            writer.write_table(pending.combine_chunks(), row_group_size=group)


def clean_files(
    paths: Iterable[str | Path], output: str | Path, config: CleanConfig | dict | None = None
) -> CleanStats:
    """Clean a batch of DR files into one parquet file sorted by objectid; return the counts.

    Streams: files in objectid order, each read ``row_group_size`` rows at a time (a whole file
    only if its rows are not sorted by objectid), cleaned and appended through a ParquetWriter in
    row groups of ``row_group_size`` -- the same bytes as cleaning the whole batch at once, with
    memory of one batch of rows. That needs the files' objectid ranges to be disjoint, as in the DR
    layout (objectid = field, filter, CCD, quadrant, number); if they overlap the batch is cleaned in
    memory as a whole (logged). The output is written atomically.
    """
    if not isinstance(config, CleanConfig):
        config = CleanConfig.from_config(config)
    paths = [str(p) for p in paths]
    stats = CleanStats()
    stats.per_file = {Path(path).name: 0 for path in paths}
    order = _stream_order(paths)
    with atomic_path(output) as tmp:
        if order is None:
            tables = []
            for path in paths:
                before = stats.lightcurves_out
                tables.append(clean_table(read_dr_files([path]), config, stats))
                stats.per_file[Path(path).name] = stats.lightcurves_out - before
            cleaned = pa.concat_tables(tables) if tables else DR_SCHEMA.empty_table()
            cleaned = cleaned.take(pc.sort_indices(cleaned, sort_keys=[("objectid", "ascending")]))
            pq.write_table(cleaned, tmp, row_group_size=config.row_group_size, compression="zstd")
        else:
            _write_streaming(order, tmp, config, stats)
    stats.check_balance()
    log.info(
        "cleaned %d -> %d light curves, %d -> %d epochs; dropped epochs: %d flagged (mask %d), "
        "%d bad magerr (> %g or non-finite), %d outside mag range, %d duplicates; "
        "dropped %d light curves with < %d epochs (%d epochs)",
        stats.lightcurves_in,
        stats.lightcurves_out,
        stats.epochs_in,
        stats.epochs_out,
        stats.epochs_flagged,
        config.bad_catflags_mask,
        stats.epochs_bad_magerr,
        config.max_magerr,
        stats.epochs_mag_range,
        stats.epochs_duplicate,
        stats.lightcurves_too_few_epochs,
        config.min_epochs,
        stats.epochs_in_dropped_lightcurves,
    )
    return stats
