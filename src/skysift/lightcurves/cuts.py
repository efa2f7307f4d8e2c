"""Quality cuts on DR light curves, done on the flat Arrow buffers (no per-light-curve Python loop).

The cuts, in order, each counted (:class:`CleanStats`):

0. duplicate light curves: a row whose objectid another row of the batch also has (overlapping or
   re-downloaded files) is dropped whole; the kept copy is the one with most epochs (the DR's
   ``nepochs``), then the one in the earlier file of the batch, then the earlier row
   (:func:`duplicate_rows`; the batch readers of :mod:`skysift.clean` find them);
1. ``catflags``: epochs with any bit of ``bad_catflags_mask`` set are dropped (ZTF's
   recommended mask is 32768, "bad quality"; a mask of 65535 drops every flagged epoch);
2. ``magerr``: epochs with a non-finite time, mag or magerr, or a magerr that is not positive or above
   ``max_magerr`` (counted as ``epochs_bad_magerr``);
3. ``mag`` range: epochs brighter than ``min_mag`` (saturation) or fainter than ``max_mag``;
4. duplicate epochs: epochs sorted by time within each light curve; repeated ``hmjd`` (within
   ``duplicate_tolerance_days``) keep the first (lowest-magerr after sorting) epoch;
5. light curves with fewer than ``min_epochs`` remaining epochs are dropped (the rows are
   per objectid, i.e. per band, so this is the minimum number of epochs per band).

The output has the input's DR columns with ``nepochs`` recomputed. Speed: DR light curves are
time-ordered, so only light curves whose surviving epochs are not strictly increasing in time (by
more than the tolerance) are sorted; sorting every epoch of the batch was ~90 % of the cost
(benchmarks/README.md, "Clean at I/O speed"). The batch readers (:mod:`skysift.clean`) apply these cuts
as they read a batch's DR files; every other reader of DR files (candidates, kilonova, sky maps, TNS
reports) applies the same cuts through this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from skysift.config import settings_from, validate_section
from skysift.layout import DR_SCHEMA, LIST_COLUMNS

__all__ = [
    "CUT_COLUMNS",
    "CleanConfig",
    "CleanStats",
    "Cut",
    "apply_cut",
    "clean_table",
    "cut_epochs",
    "duplicate_rows",
]

#: List columns the cuts look at (the others, clrcoeff, only travel with their epochs).
CUT_COLUMNS: tuple[str, ...] = ("hmjd", "mag", "magerr", "catflags")


@dataclass(frozen=True)
class CleanConfig:
    """The ``clean:`` config section: the quality cuts, and whether a cleaned copy is written.

    ``keep`` and ``row_group_size`` shape only the optional cleaned copy (``clean.keep``); every
    other field changes which epochs and light curves survive.
    """

    bad_catflags_mask: int
    max_magerr: float
    min_mag: float | None
    max_mag: float | None
    min_epochs: int
    duplicate_tolerance_days: float
    row_group_size: int
    keep: bool

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> CleanConfig:
        """From a ``clean`` config section, validated against the schema; keys it leaves out take the schema's
        defaults, and a wrong or unknown key raises a ConfigError naming ``clean.<key>``."""
        return settings_from(cls, validate_section("clean", section), "clean")


@dataclass
class CleanStats:
    """What the cuts removed: every dropped epoch and light curve is counted here."""

    lightcurves_in: int = 0
    epochs_in: int = 0
    lightcurves_duplicate: int = 0
    epochs_in_duplicate_lightcurves: int = 0
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

    def add(self, other: CleanStats) -> None:
        """Add another piece's counts (a feature task's, a file's) to these."""
        for f in fields(self):
            if f.name == "per_file":
                for name, n in other.per_file.items():
                    self.per_file[name] = self.per_file.get(name, 0) + n
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def check_balance(self) -> None:
        """Assert that epochs in = epochs out + every counted drop (nothing lost silently)."""
        dropped = (
            self.epochs_in_duplicate_lightcurves
            + self.epochs_flagged
            + self.epochs_bad_magerr
            + self.epochs_mag_range
            + self.epochs_duplicate
            + self.epochs_in_dropped_lightcurves
        )
        if self.epochs_in != self.epochs_out + dropped:
            raise AssertionError(f"epoch accounting does not balance: {self.as_dict()}")
        kept_or_dropped = self.lightcurves_out + self.lightcurves_too_few_epochs + self.lightcurves_duplicate
        if self.lightcurves_in != kept_or_dropped:
            raise AssertionError(f"light-curve accounting does not balance: {self.as_dict()}")

    def summary(self, cuts: CleanConfig) -> str:
        """One log line with every count (the clean and feature logs print the same line)."""
        return (
            f"cleaned {self.lightcurves_in} -> {self.lightcurves_out} light curves, {self.epochs_in} -> "
            f"{self.epochs_out} epochs; dropped {self.lightcurves_duplicate} duplicate light curves "
            f"(objectid twice in the batch; {self.epochs_in_duplicate_lightcurves} epochs); dropped epochs: "
            f"{self.epochs_flagged} flagged (mask {cuts.bad_catflags_mask}), {self.epochs_bad_magerr} bad "
            f"magerr (> {cuts.max_magerr:g} or non-finite), {self.epochs_mag_range} outside mag range, "
            f"{self.epochs_duplicate} duplicates; dropped {self.lightcurves_too_few_epochs} light curves with "
            f"< {cuts.min_epochs} epochs ({self.epochs_in_dropped_lightcurves} epochs)"
        )


@dataclass(frozen=True)
class Cut:
    """What survives the cuts of one table: row indices, epochs per row, and the epochs in output order.

    ``epochs`` is a boolean mask over the flat epochs when they keep their file order (the usual case:
    a mask selects ~2x faster than indices), else their flat indices in output order.
    """

    rows: np.ndarray
    epochs: np.ndarray
    counts: np.ndarray
    values: dict[str, np.ndarray]


def duplicate_rows(objectids: np.ndarray, nepochs: np.ndarray) -> np.ndarray:
    """Rows (boolean mask) that repeat an objectid of another row; the kept copy has most ``nepochs``, then
    comes first (rows are in file order, files in the batch's order)."""
    objectids = np.asarray(objectids, dtype=np.int64)
    drop = np.zeros(len(objectids), dtype=bool)
    ids = np.sort(objectids)
    if len(ids) < 2 or not np.any(ids[1:] == ids[:-1]):
        return drop
    order = np.lexsort((np.arange(len(objectids)), -np.asarray(nepochs, dtype=np.int64), objectids))
    repeated = np.zeros(len(order), dtype=bool)
    repeated[1:] = objectids[order[1:]] == objectids[order[:-1]]
    drop[order[repeated]] = True
    return drop


def _flat_lists(table: pa.Table) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Epochs per row and the flat values of every DR list column of ``table`` (same lengths, or ValueError)."""
    lengths = None
    values: dict[str, np.ndarray] = {}
    for name in LIST_COLUMNS:
        if name not in table.column_names:
            continue
        column = table.column(name)
        column_lengths = pc.list_value_length(column).fill_null(0).to_numpy()
        if lengths is None:
            lengths = column_lengths
        elif not np.array_equal(column_lengths, lengths):
            raise ValueError(f"list column {name!r} does not have the same lengths as 'hmjd'")
        values[name] = pc.list_flatten(column).to_numpy()
    return lengths if lengths is not None else np.zeros(table.num_rows, dtype=np.int64), values


def _sort_and_dedup(
    keep: np.ndarray, parent: np.ndarray, values: dict[str, np.ndarray], n_rows: int, tol: float
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Order kept epochs by (light curve, time, magerr) and drop repeated times.

    Returns the kept-epoch mask, the kept epochs' flat indices in output order if any light curve had to
    be reordered (else None: file order is output order), and the number of repeated epochs dropped.
    Only light curves whose kept epochs are not strictly increasing in time by more than ``tol`` (or have a
    non-finite time) are sorted; for every other one the file order already is that order, without repeats.
    """
    hmjd, magerr = values["hmjd"], values["magerr"]
    p, t = parent[keep], hmjd[keep]
    if len(p) < 2:
        return keep, None, 0
    unsorted_pair = (p[1:] == p[:-1]) & ~(np.diff(t) > tol)
    if not unsorted_pair.any():
        return keep, None, 0
    idx = np.flatnonzero(keep)
    unsorted_row = np.zeros(n_rows, dtype=bool)
    unsorted_row[p[1:][unsorted_pair]] = True
    positions = np.flatnonzero(unsorted_row[p])
    sub = idx[positions]
    sub = sub[np.lexsort((magerr[sub], hmjd[sub], parent[sub]))]
    dup = np.zeros(len(sub), dtype=bool)
    dup[1:] = (parent[sub][1:] == parent[sub][:-1]) & (np.abs(np.diff(hmjd[sub])) <= tol)
    keep = keep.copy()
    keep[sub[dup]] = False
    idx[positions] = sub
    in_order = np.ones(len(idx), dtype=bool)
    in_order[positions[dup]] = False
    return keep, idx[in_order], int(np.count_nonzero(dup))


def cut_epochs(
    table: pa.Table, cuts: CleanConfig, stats: CleanStats | None = None, *, drop: np.ndarray | None = None
) -> Cut:
    """Apply the cuts to one DR table (at least the columns :data:`CUT_COLUMNS`); count every drop in ``stats``.

    ``drop`` marks rows to drop whole as duplicate light curves (:func:`duplicate_rows`).
    """
    stats = stats if stats is not None else CleanStats()
    missing = [name for name in CUT_COLUMNS if name not in table.column_names]
    if missing:
        raise ValueError(f"missing DR list column(s) {missing} needed by the quality cuts")
    n_rows = table.num_rows
    stats.lightcurves_in += n_rows
    lengths, values = _flat_lists(table)
    stats.epochs_in += len(values["hmjd"])
    parent = np.repeat(np.arange(n_rows), lengths)

    drop = np.zeros(n_rows, dtype=bool) if drop is None else np.asarray(drop, dtype=bool)
    stats.lightcurves_duplicate += int(np.count_nonzero(drop))
    stats.epochs_in_duplicate_lightcurves += int(lengths[drop].sum())
    keep = ~np.repeat(drop, lengths)

    catflags, mask = values["catflags"], int(cuts.bad_catflags_mask)
    if (
        catflags.dtype != np.int32 or mask >= 2**31
    ):  # int32 flags (the DR's) with an int32 mask: no conversion
        catflags = catflags.astype(np.int64)
    flagged = keep & ((catflags & mask) != 0)
    stats.epochs_flagged += int(np.count_nonzero(flagged))
    keep &= ~flagged

    mag, magerr = values["mag"], values["magerr"]
    finite = np.isfinite(values["hmjd"]) & np.isfinite(mag) & np.isfinite(magerr)  # a NaN time sorts nowhere
    bad_err = keep & ~(finite & (magerr > 0) & (magerr <= cuts.max_magerr))
    stats.epochs_bad_magerr += int(np.count_nonzero(bad_err))
    keep &= ~bad_err

    if cuts.min_mag is not None or cuts.max_mag is not None:
        low = -np.inf if cuts.min_mag is None else cuts.min_mag
        high = np.inf if cuts.max_mag is None else cuts.max_mag
        out_of_range = keep & ((mag < low) | (mag > high))
        stats.epochs_mag_range += int(np.count_nonzero(out_of_range))
        keep &= ~out_of_range

    keep, order, n_dup = _sort_and_dedup(keep, parent, values, n_rows, cuts.duplicate_tolerance_days)
    stats.epochs_duplicate += n_dup

    counts = np.bincount(parent[keep], minlength=n_rows)
    long_enough = (counts >= cuts.min_epochs) & ~drop
    too_few = ~long_enough & ~drop
    stats.lightcurves_too_few_epochs += int(np.count_nonzero(too_few))
    stats.epochs_in_dropped_lightcurves += int(counts[too_few].sum())
    epochs = keep & np.repeat(long_enough, lengths) if order is None else order[long_enough[parent[order]]]
    counts = counts[long_enough]
    stats.lightcurves_out += len(counts)
    stats.epochs_out += int(counts.sum())
    return Cut(np.flatnonzero(long_enough), epochs, counts, values)


def apply_cut(table: pa.Table, cut: Cut) -> pa.Table:
    """The cleaned table of a cut: the surviving rows and epochs of ``table`` (its DR columns, DR types)."""
    schema = pa.schema([f for f in DR_SCHEMA if f.name in table.column_names])
    offsets = pa.array(np.concatenate([[0], np.cumsum(cut.counts)]).astype(np.int32))
    rows = pa.array(cut.rows)
    columns = []
    for f in schema:
        if f.name in LIST_COLUMNS:
            flat = pa.array(cut.values[f.name][cut.epochs], type=f.type.value_type)
            columns.append(pa.ListArray.from_arrays(offsets, flat, type=f.type))
        elif f.name == "nepochs":
            columns.append(pa.array(cut.counts.astype(np.int64)))
        else:
            columns.append(table.column(f.name).take(rows).combine_chunks().cast(f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def clean_table(
    table: pa.Table, config: CleanConfig, stats: CleanStats | None = None, *, drop: np.ndarray | None = None
) -> pa.Table:
    """Apply the quality cuts to one DR table; return the cleaned table (the input's DR columns, DR types).

    ``table`` needs at least :data:`CUT_COLUMNS`; other DR columns travel along (``nepochs`` is recomputed).
    """
    return apply_cut(table, cut_epochs(table, config, stats, drop=drop))
