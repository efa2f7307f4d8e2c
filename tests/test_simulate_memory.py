"""The simulator's memory-bounded pieces give exactly what their whole-release versions gave: the transient
peak grid evaluated a chunk of sources at a time, and truth.parquet built from compact rows one row group at
a time (byte for byte the file one pandas write of the whole table made)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skysift.io import write_parquet
from skysift.simulate import models
from skysift.simulate.models import _TAU_GRID, SampleContext
from skysift.simulate.truth import TruthRows
from skysift.simulate.variants import ALL_CLASSES


def _ctx() -> SampleContext:
    """A one-field survey of 400 nights with 150 r-band epochs."""
    rng = np.random.default_rng(1)
    return SampleContext(58000.0, 58400.0, {1: np.sort(rng.uniform(58000.0, 58400.0, 150))})


@pytest.mark.parametrize(
    ("sampler", "dm"),
    [(models.sample_snia, models._dm_snia), (models.sample_snii, models._dm_snii)],
)
def test_grid_peaks_in_chunks_equal_the_whole_grid(sampler, dm) -> None:
    n = 2 * models._GRID_CHUNK + 5
    e = sampler(np.random.default_rng(2), np.ones(n, np.int64), _ctx()).extra
    peaks = models.grid_peaks(dm, e, n)
    grid = np.broadcast_to(_TAU_GRID, (n, _TAU_GRID.size))
    for b in range(3):
        d = dm(grid, np.full(_TAU_GRID.size, b), e)
        np.testing.assert_array_equal(peaks[b][0], np.min(d, axis=1))
        np.testing.assert_array_equal(peaks[b][1], _TAU_GRID[np.argmin(d, axis=1)])


def _sky(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
    """ra, dec, class index, position in class and parameters of n sources: constant stars (no period,
    t0 or redshift: NaN) and SNe Ia (no period or amplitude)."""
    rng = np.random.default_rng(3)
    kinds = {
        ALL_CLASSES.index("constant"): models.sample_constant,
        ALL_CLASSES.index("snia"): models.sample_snia,
    }
    cls_of = rng.choice(list(kinds), n)
    pos = np.zeros(n, np.int64)
    params = {}
    for k, sampler in kinds.items():
        members = np.flatnonzero(cls_of == k)
        pos[members] = np.arange(members.size)
        params[k] = sampler(np.random.default_rng(k), np.ones(members.size, np.int64), _ctx())
    return rng.uniform(0, 360, n), rng.uniform(-30, 60, n), cls_of, pos, params


def _pandas_truth(files: list[tuple], ra, dec, cls_of, pos, params) -> pd.DataFrame:
    """The truth table as the simulator used to build it: a DataFrame per DR file, concatenated and
    sorted by objectid."""
    frames = []
    for oid, src, fieldid, rcid, filterid, band in files:
        n = src.size
        cols = {k: np.full(n, np.nan) for k in ("period", "t0", "amplitude", "mean_mag", "redshift")}
        sub = np.empty(n, dtype=object)
        for k in np.unique(cls_of[src]):
            sel = cls_of[src] == k
            p, i = params[int(k)], pos[src[sel]]
            cols["period"][sel], cols["t0"][sel], cols["redshift"][sel] = p.period[i], p.t0[i], p.redshift[i]
            cols["amplitude"][sel], cols["mean_mag"][sel] = p.amp[i, band], p.mean[i, band]
            sub[sel] = p.subclass[i]
        frames.append(
            pd.DataFrame(
                {
                    "objectid": oid,
                    "source_id": src,
                    "fieldid": np.full(n, fieldid, np.int16),
                    "rcid": np.full(n, rcid, np.int8),
                    "filterid": np.full(n, filterid, np.int8),
                    "ra": ra[src],
                    "dec": dec[src],
                    "class": np.array(ALL_CLASSES, dtype=object)[cls_of[src]],
                    "subclass": sub,
                    **cols,
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values("objectid", kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("row_group_rows", [1000, 1024 * 1024])
def test_truth_rows_write_the_file_of_one_pandas_write(tmp_path: Path, row_group_rows: int) -> None:
    ra, dec, cls_of, pos, params = _sky(1500)
    rng = np.random.default_rng(4)
    files, truth = [], TruthRows()
    # DR files added out of objectid order (field 1721 first, bands mixed), as the simulator's loop does
    for fieldid, rcid, filterid, band in [(1721, 5, 2, 1), (633, 0, 1, 0), (633, 0, 2, 1), (633, 3, 3, 2)]:
        src = np.sort(rng.choice(1500, 700, replace=False))
        oid = fieldid * 10**12 + filterid * 10**11 + rcid * 10**8 + np.cumsum(rng.integers(1, 25, src.size))
        files.append((oid, src, fieldid, rcid, filterid, band))
        truth.add(oid, src, fieldid, rcid, filterid, band)
    truth.write(tmp_path / "streamed.parquet", ra, dec, cls_of, pos, params, row_group_rows=row_group_rows)
    frame = _pandas_truth(files, ra, dec, cls_of, pos, params)
    write_parquet(
        pa.Table.from_pandas(frame, preserve_index=False),
        tmp_path / "pandas.parquet",
        row_group_size=row_group_rows,
    )
    assert pq.ParquetFile(tmp_path / "streamed.parquet").metadata.num_row_groups == -(-2800 // row_group_rows)
    assert (tmp_path / "streamed.parquet").read_bytes() == (tmp_path / "pandas.parquet").read_bytes()


def test_truth_rows_without_rows_write_the_empty_pandas_table(tmp_path: Path) -> None:
    ra, dec, cls_of, pos, params = _sky(10)
    TruthRows().write(tmp_path / "streamed.parquet", ra, dec, cls_of, pos, params)
    empty = [(np.zeros(0, np.int64), np.zeros(0, np.int64), 1, 0, 1, 0)]
    frame = _pandas_truth(empty, ra, dec, cls_of, pos, params)
    write_parquet(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "pandas.parquet")
    assert len(pq.read_table(tmp_path / "streamed.parquet")) == 0
    assert (tmp_path / "streamed.parquet").read_bytes() == (tmp_path / "pandas.parquet").read_bytes()
