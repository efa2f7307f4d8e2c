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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from skysift.io import InputError, atomic_path, read_dr_files
from skysift.layout import DR_SCHEMA, LIST_COLUMNS

__all__ = ["CleanConfig", "CleanStats", "clean_table", "clean_files"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleanConfig:
    """Quality-cut parameters (the ``clean:`` config section)."""

    bad_catflags_mask: int = 32768
    max_magerr: float = 1.0
    min_mag: float = -np.inf
    max_mag: float = np.inf
    min_epochs: int = 10
    duplicate_tolerance_days: float = 1e-6
    row_group_size: int = 5000

    @classmethod
    def from_config(cls, section: dict | None) -> CleanConfig:
        """Build from a config dict; unknown keys raise a ValueError naming them."""
        section = dict(section or {})
        unknown = set(section) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"clean: unknown config key(s) {sorted(unknown)}")
        for key in ("min_mag", "max_mag"):
            if section.get(key) is None:
                section.pop(key, None)
        return cls(**section)


@dataclass
class CleanStats:
    """What the cuts removed: every dropped epoch and light curve is counted here."""

    lightcurves_in: int = 0
    epochs_in: int = 0
    epochs_flagged: int = 0
    epochs_bad_magerr: int = 0
    epochs_mag_range: int = 0
    epochs_duplicate: int = 0
    lightcurves_too_few_epochs: int = 0
    epochs_in_dropped_lightcurves: int = 0
    lightcurves_out: int = 0
    epochs_out: int = 0
    per_file: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain dict for logging / JSON."""
        return asdict(self)

    def check_balance(self) -> None:
        """Assert that epochs in = epochs out + every counted drop (nothing lost silently)."""
        dropped = (
            self.epochs_flagged
            + self.epochs_bad_magerr
            + self.epochs_mag_range
            + self.epochs_duplicate
            + self.epochs_in_dropped_lightcurves
        )
        if self.epochs_in != self.epochs_out + dropped:
            raise AssertionError(f"epoch accounting does not balance: {self.as_dict()}")
        if self.lightcurves_in != self.lightcurves_out + self.lightcurves_too_few_epochs:
            raise AssertionError(f"light-curve accounting does not balance: {self.as_dict()}")


def clean_table(table: pa.Table, config: CleanConfig, stats: CleanStats | None = None) -> pa.Table:
    """Apply the quality cuts to one DR table; return the cleaned table (DR schema)."""
    stats = stats if stats is not None else CleanStats()
    n_rows = table.num_rows
    stats.lightcurves_in += n_rows
    if n_rows == 0:
        return DR_SCHEMA.empty_table()

    lengths = None
    values: dict[str, np.ndarray] = {}
    for name in LIST_COLUMNS:
        column = table.column(name)
        column_lengths = pc.list_value_length(column).fill_null(0).to_numpy()
        if lengths is None:
            lengths = column_lengths
        elif not np.array_equal(column_lengths, lengths):
            raise ValueError(f"list column {name!r} does not have the same lengths as 'hmjd'")
        values[name] = pc.list_flatten(column).to_numpy()
    n_epochs = len(values["hmjd"])
    stats.epochs_in += n_epochs
    parent = np.repeat(np.arange(n_rows), lengths)

    keep = np.ones(n_epochs, dtype=bool)
    flagged = (values["catflags"].astype(np.int64) & int(config.bad_catflags_mask)) != 0
    stats.epochs_flagged += int(np.count_nonzero(flagged))
    keep &= ~flagged

    mag, magerr = values["mag"], values["magerr"]
    bad_err = keep & ~(np.isfinite(mag) & np.isfinite(magerr) & (magerr > 0) & (magerr <= config.max_magerr))
    stats.epochs_bad_magerr += int(np.count_nonzero(bad_err))
    keep &= ~bad_err

    out_of_range = keep & ((mag < config.min_mag) | (mag > config.max_mag))
    stats.epochs_mag_range += int(np.count_nonzero(out_of_range))
    keep &= ~out_of_range

    # Sort surviving epochs by (light curve, time, magerr): duplicates keep the best epoch.
    idx = np.flatnonzero(keep)
    order = idx[np.lexsort((magerr[idx], values["hmjd"][idx], parent[idx]))]
    hmjd_sorted = values["hmjd"][order]
    parent_sorted = parent[order]
    dup = np.zeros(len(order), dtype=bool)
    if len(order) > 1:
        dup[1:] = (parent_sorted[1:] == parent_sorted[:-1]) & (
            np.abs(np.diff(hmjd_sorted)) <= config.duplicate_tolerance_days
        )
    stats.epochs_duplicate += int(np.count_nonzero(dup))
    order = order[~dup]
    parent_kept = parent[order]

    counts = np.bincount(parent_kept, minlength=n_rows)
    long_enough = counts >= config.min_epochs
    stats.lightcurves_too_few_epochs += int(np.count_nonzero(~long_enough))
    stats.epochs_in_dropped_lightcurves += int(counts[~long_enough].sum())
    order = order[long_enough[parent_kept]]
    counts = counts[long_enough]
    new_offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=new_offsets[1:])

    rows = np.flatnonzero(long_enough)
    columns = {}
    for f in DR_SCHEMA:
        if f.name in LIST_COLUMNS:
            flat_values = pa.array(values[f.name][order], type=f.type.value_type)
            columns[f.name] = pa.ListArray.from_arrays(pa.array(new_offsets), flat_values, type=f.type)
        elif f.name == "nepochs":
            columns[f.name] = pa.array(counts.astype(np.int64))
        else:
            columns[f.name] = table.column(f.name).take(pa.array(rows)).combine_chunks().cast(f.type)
    out = pa.table(columns, schema=DR_SCHEMA)
    stats.lightcurves_out += out.num_rows
    stats.epochs_out += int(counts.sum())
    return out


def _objectid_range(path: str | Path) -> tuple[int, int, bool] | None:
    """(min, max objectid, rows sorted by objectid?) of a DR file, None if it has no rows.

    Reads only the objectid column; raises InputError naming the file if a DR column is missing.
    """
    pf = pq.ParquetFile(path)
    missing = [name for name in DR_SCHEMA.names if name not in pf.schema_arrow.names]
    if missing:
        raise InputError(
            f"{path}: missing DR light-curve column(s) {missing}; "
            "expected the ZTF DR bulk parquet schema (see DESIGN/README, 'Data contracts')"
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
