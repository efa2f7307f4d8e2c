"""Quality cuts: each cut removes what it should, every drop is counted, the output is a DR table."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import make_dr_table
from skysift.clean import CleanConfig, CleanStats, clean_files, clean_table
from skysift.io import write_parquet
from skysift.layout import DR_SCHEMA


def _lc(objectid, n=20, t0=58300.0, **over):
    """A plain light curve of n epochs, one per night."""
    lc = {
        "objectid": objectid,
        "hmjd": t0 + np.arange(n, dtype=float),
        "mag": np.full(n, 18.0),
        "magerr": np.full(n, 0.05),
        "catflags": np.zeros(n, dtype=int),
    }
    lc.update(over)
    return lc


def test_each_cut_is_applied_and_counted():
    flags = np.zeros(20, dtype=int)
    flags[[2, 5]] = 32768
    flags[7] = 2  # a bit outside the default mask: kept
    magerr = np.full(20, 0.05)
    magerr[[3]] = 2.0
    magerr[[4]] = np.nan
    hmjd = 58300.0 + np.arange(20, dtype=float)
    hmjd[9] = hmjd[8]  # duplicate epoch
    mag = np.full(20, 18.0)
    mag[11] = 12.0  # saturated
    table = make_dr_table(
        [
            _lc(1, catflags=flags, magerr=magerr, hmjd=hmjd, mag=mag),
            _lc(2, n=8),  # too short
            _lc(3),
        ]
    )
    stats = CleanStats()
    out = clean_table(table, CleanConfig(min_mag=13.0, min_epochs=10), stats)
    assert out.schema == DR_SCHEMA
    assert out.column("objectid").to_pylist() == [1, 3]
    assert stats.epochs_flagged == 2
    assert stats.epochs_bad_magerr == 2
    assert stats.epochs_mag_range == 1
    assert stats.epochs_duplicate == 1
    assert stats.lightcurves_too_few_epochs == 1
    assert stats.epochs_in_dropped_lightcurves == 8
    assert out.column("nepochs").to_pylist() == [20 - 6, 20]
    assert [len(x) for x in out.column("hmjd").to_pylist()] == [14, 20]
    stats.check_balance()


def test_epochs_are_sorted_and_duplicates_keep_the_best_epoch():
    hmjd = np.array([5.0, 1.0, 3.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0]) + 58300
    magerr = np.full(11, 0.05)
    magerr[2] = 0.2  # the worse of the two epochs at t=3
    mag = np.arange(11, dtype=float) + 15
    out = clean_table(
        make_dr_table([_lc(7, n=11, hmjd=hmjd, magerr=magerr, mag=mag)]), CleanConfig(min_epochs=5)
    )
    times = out.column("hmjd").to_pylist()[0]
    assert times == sorted(times)
    assert len(times) == 10
    kept = dict(zip(times, out.column("magerr").to_pylist()[0], strict=True))
    assert kept[58303.0] == pytest.approx(0.05)
    # mags travel with their epochs
    assert dict(zip(times, out.column("mag").to_pylist()[0], strict=True))[58301.0] == 16.0


def test_sliced_and_chunked_inputs_give_the_same_result():
    table = make_dr_table([_lc(i, n=12 + i) for i in range(1, 30)])
    whole = clean_table(table, CleanConfig(min_epochs=10))
    pieces = clean_table(table.slice(5, 10), CleanConfig(min_epochs=10))
    assert pieces.column("objectid").to_pylist() == whole.column("objectid").to_pylist()[5:15]
    assert pieces.column("hmjd").to_pylist() == whole.column("hmjd").to_pylist()[5:15]


def test_clean_files_sorts_by_objectid_and_writes_row_groups(tmp_path):
    a = tmp_path / "a.parquet"
    b = tmp_path / "b.parquet"
    write_parquet(make_dr_table([_lc(i) for i in range(300, 200, -1)]), a)
    write_parquet(make_dr_table([_lc(i) for i in range(1, 101)]), b)
    out = tmp_path / "clean.parquet"
    stats = clean_files([a, b], out, {"row_group_size": 100, "min_epochs": 10})
    cleaned = pq.read_table(out)
    ids = cleaned.column("objectid").to_pylist()
    assert ids == sorted(ids) and len(ids) == 200
    assert pq.ParquetFile(out).num_row_groups == 2
    assert stats.per_file == {"a.parquet": 100, "b.parquet": 100}


def test_unknown_clean_key_is_named():
    with pytest.raises(ValueError, match="max_magerror"):
        CleanConfig.from_config({"max_magerror": 0.5})
