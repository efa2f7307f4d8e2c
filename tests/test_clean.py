"""Quality cuts: each cut removes what it should, every drop is counted, the output is a DR table."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import make_dr_table
from skysift.clean import CleanConfig, CleanStats, clean_files, clean_table
from skysift.io import InputError, write_parquet
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


def _write_files(tmp_path, ranges, n=20, descending=()):
    """One DR file per (start, stop) objectid range; files whose index is in ``descending`` are unsorted."""
    paths = []
    for k, (start, stop) in enumerate(ranges):
        path = tmp_path / f"f{k}.parquet"
        ids = range(stop - 1, start - 1, -1) if k in descending else range(start, stop)
        write_parquet(make_dr_table([_lc(i, n=n) for i in ids]), path, row_group_size=40)
        paths.append(path)
    return paths


def test_streaming_clean_matches_the_in_memory_batch_byte_for_byte(tmp_path, monkeypatch, caplog):
    """Files in any order with disjoint objectid ranges: one file at a time, same bytes as the whole batch."""
    import skysift.clean.batch as clean

    # f1 is sorted (read 100 rows at a time), the others are not (read whole, sorted).
    paths = _write_files(tmp_path, [(5000, 5130), (100, 250), (3000, 3075)], descending=(0, 2))
    with caplog.at_level("INFO", logger="skysift.clean"):
        streamed = clean_files(paths, tmp_path / "stream.parquet", {"row_group_size": 100})
    assert not any("overlap" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(clean, "_stream_order", lambda paths: None)
    whole = clean_files(paths, tmp_path / "memory.parquet", {"row_group_size": 100})
    assert (tmp_path / "stream.parquet").read_bytes() == (tmp_path / "memory.parquet").read_bytes()
    meta = pq.ParquetFile(tmp_path / "stream.parquet").metadata
    # Row groups run across file boundaries: 355 rows -> 100, 100, 100, 55.
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [100, 100, 100, 55]
    ids = pq.read_table(tmp_path / "stream.parquet").column("objectid").to_pylist()
    assert ids == sorted(ids) and ids[0] == 100 and ids[-1] == 5129
    assert streamed.as_dict() == whole.as_dict()
    assert list(streamed.per_file) == ["f0.parquet", "f1.parquet", "f2.parquet"]  # input order


def test_overlapping_files_fall_back_to_the_in_memory_path(tmp_path, caplog):
    """Objectid ranges that overlap cannot be streamed: logged, and the output is still sorted and complete."""
    paths = _write_files(tmp_path, [(100, 200), (150, 160)], descending=(1,))
    with caplog.at_level("INFO", logger="skysift.clean"):
        stats = clean_files(paths, tmp_path / "out.parquet", {"row_group_size": 100})
    assert any("overlap" in r.getMessage() and "f1.parquet" in r.getMessage() for r in caplog.records)
    ids = pq.read_table(tmp_path / "out.parquet").column("objectid").to_pylist()
    assert len(ids) == 110 and ids == sorted(ids) and stats.lightcurves_out == 110


def test_clean_files_is_atomic_and_names_a_bad_file(tmp_path):
    """A bad file (missing column) fails before writing; a failure mid-batch leaves no output or temp file."""
    paths = _write_files(tmp_path, [(1, 50), (100, 150)])
    bad = tmp_path / "bad.parquet"
    write_parquet(make_dr_table([_lc(7)]).drop_columns(["catflags"]), bad)
    with pytest.raises(InputError, match=r"bad\.parquet.*catflags"):
        clean_files([*paths, bad], tmp_path / "out.parquet")
    broken = tmp_path / "broken.parquet"  # mag list one shorter than hmjd: clean_table raises mid-stream
    write_parquet(make_dr_table([_lc(500, mag=np.full(19, 18.0))]), broken)
    with pytest.raises(ValueError, match="mag"):
        clean_files([*paths, broken], tmp_path / "out.parquet", {"row_group_size": 100})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.parquet",
        "broken.parquet",
        "f0.parquet",
        "f1.parquet",
    ]


def test_an_empty_batch_gives_an_empty_dr_table(tmp_path):
    """Every light curve dropped: a valid empty file with the DR schema."""
    paths = _write_files(tmp_path, [(1, 5)], n=3)
    stats = clean_files(paths, tmp_path / "out.parquet")
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.num_rows == 0 and out.schema == DR_SCHEMA and stats.lightcurves_too_few_epochs == 4
