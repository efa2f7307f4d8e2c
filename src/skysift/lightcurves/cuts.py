"""Quality cuts on DR light curves, done on the flat Arrow buffers (no per-light-curve Python loop).

The cuts, in order, each counted:

1. ``catflags``: epochs with any bit of ``bad_catflags_mask`` set are dropped (ZTF's
   recommended mask is 32768, "bad quality"; a mask of 65535 drops every flagged epoch);
2. ``magerr``: epochs with a non-finite time, mag or magerr, or a magerr that is not positive or above
   ``max_magerr`` (counted as ``epochs_bad_magerr``);
3. ``mag`` range: epochs brighter than ``min_mag`` (saturation) or fainter than ``max_mag``;
4. duplicates: epochs sorted by time within each light curve; repeated ``hmjd`` (within
   ``duplicate_tolerance_days``) keep the first (lowest-magerr after sorting) epoch;
5. light curves with fewer than ``min_epochs`` remaining epochs are dropped (the rows are
   per objectid, i.e. per band, so this is the minimum number of epochs per band).

The output has the DR schema with ``nepochs`` recomputed, sorted by objectid, and is written
with row groups of ``row_group_size`` light curves so the feature stage can split work by
row group. The clean stage (:mod:`skysift.clean`) applies them batch by batch; every reader of DR files
(candidates, kilonova, sky maps, TNS reports) applies the same cuts through this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from skysift.layout import DR_SCHEMA, LIST_COLUMNS

__all__ = ["CleanConfig", "CleanStats", "clean_table"]


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
    finite = np.isfinite(values["hmjd"]) & np.isfinite(mag) & np.isfinite(magerr)  # a NaN time sorts nowhere
    bad_err = keep & ~(finite & (magerr > 0) & (magerr <= config.max_magerr))
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
