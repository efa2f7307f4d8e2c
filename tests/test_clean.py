"""Quality cuts: each cut removes what it should, every drop is counted, duplicates are kept once, outputs are DR."""

from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import make_dr_table
from skysift.clean import (
    OBJECT_COLUMNS,
    CleanConfig,
    CleanStats,
    clean_files,
    clean_objects,
    clean_table,
    plan_batch,
    read_clean_lightcurves,
)
from skysift.config import ConfigError, default_config
from skysift.io import InputError, write_parquet
from skysift.layout import DR_SCHEMA, LIST_COLUMNS


def cuts(**over) -> CleanConfig:
    """The schema's default cuts with some keys changed."""
    return CleanConfig.from_config(over)


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


def test_settings_come_from_the_schema_and_name_bad_keys():
    assert CleanConfig.from_config(default_config()["clean"]) == cuts()
    assert cuts(min_epochs=3).min_epochs == 3 and cuts().min_mag is None and cuts().keep is False
    with pytest.raises(ConfigError, match="max_magerror"):
        CleanConfig.from_config({"max_magerror": 0.5})
    with pytest.raises(ConfigError, match="clean.min_epochs"):
        CleanConfig.from_config({"min_epochs": 0})


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
    out = clean_table(table, cuts(min_mag=13.0, min_epochs=10), stats)
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
    out = clean_table(make_dr_table([_lc(7, n=11, hmjd=hmjd, magerr=magerr, mag=mag)]), cuts(min_epochs=5))
    times = out.column("hmjd").to_pylist()[0]
    assert times == sorted(times)
    assert len(times) == 10
    kept = dict(zip(times, out.column("magerr").to_pylist()[0], strict=True))
    assert kept[58303.0] == pytest.approx(0.05)
    # mags travel with their epochs
    assert dict(zip(times, out.column("mag").to_pylist()[0], strict=True))[58301.0] == 16.0


def test_light_curves_are_cleaned_independently_of_their_neighbours(rng):
    """Only unsorted light curves are sorted: a table of sorted, unsorted, repeated-time and NaN-time light
    curves gives row by row what cleaning each light curve alone gives."""
    lcs = []
    for k in range(40):
        n = int(rng.integers(8, 30))
        t = np.sort(rng.uniform(58300, 58600, n))
        kind = k % 4
        if kind == 1:
            t = rng.permutation(t)  # unsorted
        elif kind == 2:
            t[3] = t[2] + 1e-7  # repeated within the tolerance
        elif kind == 3 and k % 8 == 3:
            t[5] = np.nan
        flags = np.where(rng.random(n) < 0.1, 32768, 0)
        lcs.append(
            _lc(k, n=n, hmjd=t, mag=rng.normal(18, 0.1, n), magerr=rng.uniform(0.01, 0.2, n), catflags=flags)
        )
    whole_stats = CleanStats()
    whole = clean_table(make_dr_table(lcs), cuts(min_epochs=5), whole_stats)
    alone = pa.concat_tables([clean_table(make_dr_table([lc]), cuts(min_epochs=5)) for lc in lcs])
    assert whole.schema == alone.schema and whole.num_rows == alone.num_rows > 30
    for name in whole.column_names:  # equal, NaN times included
        a, b = whole.column(name).combine_chunks(), alone.column(name).combine_chunks()
        if name in LIST_COLUMNS:
            assert np.array_equal(a.offsets, b.offsets), name
            a, b = a.values, b.values
        assert np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=a.type == pa.float64()), name
    whole_stats.check_balance()
    assert whole_stats.epochs_duplicate >= 5  # kind-2 light curves lost their repeated epoch (unless flagged)


def test_sliced_and_chunked_inputs_give_the_same_result():
    table = make_dr_table([_lc(i, n=12 + i) for i in range(1, 30)])
    whole = clean_table(table, cuts(min_epochs=10))
    pieces = clean_table(table.slice(5, 10), cuts(min_epochs=10))
    assert pieces.column("objectid").to_pylist() == whole.column("objectid").to_pylist()[5:15]
    assert pieces.column("hmjd").to_pylist() == whole.column("hmjd").to_pylist()[5:15]


def _write_files(tmp_path, ranges, n=20, descending=()):
    """One DR file per (start, stop) objectid range; files whose index is in ``descending`` are unsorted."""
    paths = []
    for k, (start, stop) in enumerate(ranges):
        path = tmp_path / f"f{k}.parquet"
        ids = range(stop - 1, start - 1, -1) if k in descending else range(start, stop)
        write_parquet(make_dr_table([_lc(i, n=n) for i in ids]), path, row_group_size=40)
        paths.append(path)
    return paths


def test_clean_copy_is_sorted_in_row_groups_whatever_the_file_order(tmp_path):
    """Files in any order (sorted or not): one sorted output in row groups that run across file boundaries."""
    paths = _write_files(tmp_path, [(5000, 5130), (100, 250), (3000, 3075)], descending=(0, 2))
    stats = clean_files(paths, tmp_path / "a.parquet", {"row_group_size": 100})
    clean_files(paths[::-1], tmp_path / "b.parquet", {"row_group_size": 100})
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    meta = pq.ParquetFile(tmp_path / "a.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [100, 100, 100, 55]
    ids = pq.read_table(tmp_path / "a.parquet").column("objectid").to_pylist()
    assert ids == sorted(ids) and ids[0] == 100 and ids[-1] == 5129 and len(ids) == 355
    assert stats.per_file == {"f0.parquet": 130, "f1.parquet": 150, "f2.parquet": 75}  # input order
    assert pq.read_schema(tmp_path / "a.parquet") == DR_SCHEMA


def test_sorted_disjoint_files_stream_and_overlapping_ones_are_sorted_in_memory(tmp_path, caplog):
    """The plan streams files in objectid order; overlapping ranges are cleaned in memory (logged), still sorted."""
    assert plan_batch(_write_files(tmp_path, [(300, 400), (1, 100)])).in_order
    paths = [tmp_path / "even.parquet", tmp_path / "odd.parquet"]  # interleaved objectids, no duplicates
    write_parquet(make_dr_table([_lc(i) for i in range(100, 200, 2)]), paths[0])
    write_parquet(make_dr_table([_lc(i) for i in range(159, 100, -2)]), paths[1])
    with caplog.at_level("INFO", logger="skysift.clean"):
        stats = clean_files(paths, tmp_path / "out.parquet", {"row_group_size": 100})
    assert any("in memory" in r.getMessage() for r in caplog.records)
    ids = pq.read_table(tmp_path / "out.parquet").column("objectid").to_pylist()
    assert len(ids) == 80 and ids == sorted(ids) and stats.lightcurves_out == 80


def test_objects_table_holds_the_surviving_light_curves(tmp_path):
    """One row per light curve that survives the cuts, its cleaned nepochs, sorted; the same as the copy's."""
    paths = _write_files(tmp_path, [(500, 530), (1, 20)], descending=(0,))
    short = tmp_path / "short.parquet"
    write_parquet(make_dr_table([_lc(900 + i, n=4) for i in range(5)]), short)
    stats = clean_objects([*paths, short], tmp_path / "objects.parquet", {"min_epochs": 10})
    objects = pq.read_table(tmp_path / "objects.parquet")
    clean_files([*paths, short], tmp_path / "copy.parquet", {"min_epochs": 10})
    copy = pq.read_table(tmp_path / "copy.parquet")
    assert objects.column_names == list(OBJECT_COLUMNS) == copy.select(OBJECT_COLUMNS).column_names
    assert objects.equals(copy.select(OBJECT_COLUMNS))
    assert objects.num_rows == 49 and stats.lightcurves_too_few_epochs == 5
    assert objects.column("objectid").to_pylist() == sorted(objects.column("objectid").to_pylist())


def test_a_light_curve_present_twice_is_kept_once_and_counted(tmp_path, caplog):
    """Overlapping or re-downloaded files: the copy with more epochs wins, then the earlier file; logged, balanced."""
    first = tmp_path / "first.parquet"
    second = tmp_path / "second.parquet"
    write_parquet(make_dr_table([_lc(1, n=20), _lc(2, n=15), _lc(3, n=12)]), first)
    # objectid 2 again with more epochs (wins), 3 again with as many (the first file's wins), 4 new
    write_parquet(
        make_dr_table([_lc(2, n=25, t0=59000.0), _lc(3, n=12, mag=np.full(12, 16.0)), _lc(4)]), second
    )
    with caplog.at_level(logging.WARNING, logger="skysift.clean"):
        stats = clean_objects([first, second], tmp_path / "objects.parquet", {"min_epochs": 10})
    assert any("2 duplicate light curve(s)" in r.getMessage() for r in caplog.records)
    assert stats.lightcurves_duplicate == 2 and stats.epochs_in_duplicate_lightcurves == 15 + 12
    stats.check_balance()
    objects = pq.read_table(tmp_path / "objects.parquet").to_pydict()
    assert objects["objectid"] == [1, 2, 3, 4] and objects["nepochs"] == [20, 25, 12, 20]
    lcs = read_clean_lightcurves([first, second], {"min_epochs": 10}).to_pydict()
    assert lcs["objectid"] == [1, 2, 3, 4]
    assert lcs["hmjd"][1][0] == 59000.0 and set(lcs["mag"][2]) == {18.0}
    # a whole file fetched twice: every row of the second copy dropped, nothing else changes
    twice = read_clean_lightcurves([first, first], {"min_epochs": 10}, stats=(counts := CleanStats()))
    assert twice.column("objectid").to_pylist() == [1, 2, 3] and counts.lightcurves_duplicate == 3


def test_read_clean_lightcurves_of_some_objects_reads_only_them(tmp_path):
    paths = _write_files(tmp_path, [(1, 100), (200, 300)])
    some = read_clean_lightcurves(paths, cuts(), objectids=[5, 250, 99999], columns=["objectid", "hmjd"])
    assert some.column("objectid").to_pylist() == [5, 250]
    assert {"hmjd", "mag", "catflags"} <= set(some.column_names) and "clrcoeff" not in some.column_names


def test_bad_files_are_named_and_outputs_are_atomic(tmp_path):
    """A bad file (missing column) fails before writing; a failure mid-batch leaves no output or temp file."""
    paths = _write_files(tmp_path, [(1, 50), (100, 150)])
    bad = tmp_path / "bad.parquet"
    write_parquet(make_dr_table([_lc(7)]).drop_columns(["catflags"]), bad)
    with pytest.raises(InputError, match=r"bad\.parquet.*catflags"):
        clean_files([*paths, bad], tmp_path / "out.parquet")
    with pytest.raises(InputError, match=r"missing\.parquet"):
        clean_objects([*paths, tmp_path / "missing.parquet"], tmp_path / "out.parquet", None)
    broken = tmp_path / "broken.parquet"  # mag list one shorter than hmjd: the cuts raise mid-stream
    write_parquet(make_dr_table([_lc(500, mag=np.full(19, 18.0))]), broken)
    with pytest.raises(ValueError, match="mag"):
        clean_files([*paths, broken], tmp_path / "out.parquet", {"row_group_size": 100})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.parquet",
        "broken.parquet",
        "f0.parquet",
        "f1.parquet",
    ]


def test_an_empty_batch_gives_empty_tables(tmp_path):
    """Every light curve dropped: valid empty files with the DR and objects schemas."""
    paths = _write_files(tmp_path, [(1, 5)], n=3)
    stats = clean_files(paths, tmp_path / "out.parquet")
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.num_rows == 0 and out.schema == DR_SCHEMA and stats.lightcurves_too_few_epochs == 4
    clean_objects(paths, tmp_path / "objects.parquet", None)
    assert pq.read_table(tmp_path / "objects.parquet").column_names == list(OBJECT_COLUMNS)
