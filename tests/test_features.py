"""Light-curve features: known signals are recovered, short/bad light curves give NaN and counts, Dask == serial."""

from __future__ import annotations

import logging
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import make_dr_table
from skysift.clean import CleanConfig, clean_files
from skysift.cluster import cluster_for_job
from skysift.features import (
    FEATURE_DOCS,
    FEATURES,
    ID_COLUMN_DOCS,
    build_extractor,
    extract_features,
    extract_table,
    plan_tasks,
    required_min_points,
)
from skysift.io import InputError, write_parquet


def ztf_cadence(rng: np.random.Generator, n: int, t0: float = 58300.0) -> np.ndarray:
    """ZTF-like epochs: a visit every 1-3 nights in ~240-day seasons, some nights with a second visit."""
    t: list[float] = []
    night = t0
    while len(t) < n:
        if (night - t0) % 365 < 240 and rng.random() > 0.15:
            t.append(night + rng.uniform(0.0, 0.2))
            if rng.random() < 0.2:
                t.append(t[-1] + 0.021)
        night += float(rng.choice([1, 2, 3]))
    return np.array(t[:n])


def lc_dict(objectid: int, t: np.ndarray, mag: np.ndarray, err: float | np.ndarray) -> dict:
    """A light-curve dict for make_dr_table."""
    return {"objectid": objectid, "hmjd": t, "mag": mag, "magerr": np.broadcast_to(err, t.shape).copy()}


def sine(rng, objectid, period, amp, n=150, noise=0.01, mean=16.0):
    """A sinusoid of semi-amplitude ``amp`` with Gaussian noise on ZTF-like cadence."""
    t = ztf_cadence(rng, n)
    m = mean + amp * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi)) + rng.normal(0, noise, n)
    return lc_dict(objectid, t, m, noise)


def column(table: pa.Table, name: str) -> np.ndarray:
    """A column as numpy (NaN for nulls)."""
    return table.column(name).to_numpy()


def test_columns_are_stable_snake_case_and_documented():
    _, columns = build_extractor("default")
    assert len(columns) == len(set(columns)) == 36
    for name in columns:
        assert re.fullmatch(r"[a-z0-9_]+", name), name
        assert name in FEATURE_DOCS and FEATURE_DOCS[name].strip(), name
    for name in ("amplitude", "beyond_1_std", "periodogram_period_0", "stetson_k", "linear_trend", "chi2"):
        assert name in columns
    _, cheap = build_extractor("cheap")
    assert not any(c.startswith("periodogram") for c in cheap)
    _, three = build_extractor(["amplitude", "periodogram"], periodogram={"peaks": 3})
    assert three == ["amplitude"] + [f"periodogram_period{s}_{i}" for i in range(3) for s in ("", "_s_to_n")]


def test_minimum_points_match_light_curve_documentation():
    """Our per-feature minimums must not be below what light-curve documents (short input panics in Rust)."""
    for key, spec in FEATURES.items():
        doc = spec.factory().__class__.__doc__ or ""
        m = re.search(r"Minimum number of observations: \**(\d+)", doc)
        if m:
            assert spec.min_points >= int(m.group(1)), key
    assert required_min_points("default") == 4  # kurtosis and Anderson-Darling need 4


def test_bad_feature_names_are_rejected_with_the_config_key():
    with pytest.raises(ValueError, match="features.names"):
        build_extractor(["amplitude", "no_such_feature"])
    with pytest.raises(ValueError, match="features.names"):
        build_extractor("nonexistent_set")
    with pytest.raises(ValueError, match="features.periodogram"):
        build_extractor("default", periodogram={"peak": 2})


def test_sine_period_and_amplitude_are_recovered(rng):
    periods = [17.3, 5.71, 41.0]
    amps = [0.5, 0.2, 1.0]
    table = make_dr_table([sine(rng, i, p, a) for i, (p, a) in enumerate(zip(periods, amps, strict=True))])
    out = extract_table(table)
    np.testing.assert_allclose(column(out, "periodogram_period_0"), periods, rtol=0.01)
    assert np.all(column(out, "periodogram_period_s_to_n_0") > 5)
    np.testing.assert_allclose(column(out, "amplitude"), amps, rtol=0.1, atol=0.02)
    np.testing.assert_allclose(column(out, "mean"), 16.0, atol=0.1 * max(amps))
    np.testing.assert_allclose(column(out, "standard_deviation"), np.array(amps) / np.sqrt(2), rtol=0.1)
    assert np.all(column(out, "chi2") > 100)  # strongly variable against 0.01 mag errors


def test_short_period_needs_a_finer_periodogram(rng):
    """An RR Lyrae-like 0.613-day sine: found with a gap-quantile Nyquist frequency (documented option)."""
    table = make_dr_table([sine(rng, 1, 0.613, 0.3, n=120)])
    out = extract_table(table, ["periodogram"], periodogram={"nyquist": 0.1, "max_freq_factor": 1.0})
    np.testing.assert_allclose(column(out, "periodogram_period_0"), [0.613], rtol=0.01)


def test_linear_trend_and_constant_star(rng):
    t = ztf_cadence(rng, 200)
    slope = 0.0025
    trend = 17.0 + slope * (t - t[0]) + rng.normal(0, 0.02, t.size)
    const = 15.0 + rng.normal(0, 0.03, t.size)
    out = extract_table(make_dr_table([lc_dict(1, t, trend, 0.02), lc_dict(2, t, const, 0.03)]))
    assert column(out, "linear_trend")[0] == pytest.approx(slope, rel=0.02)
    assert column(out, "linear_fit_slope")[0] == pytest.approx(slope, rel=0.02)
    assert abs(column(out, "linear_trend")[1]) < 5 * column(out, "linear_trend_sigma")[1]
    assert column(out, "standard_deviation")[1] == pytest.approx(0.03, rel=0.15)
    assert column(out, "chi2")[1] == pytest.approx(1.0, abs=0.3)
    assert column(out, "duration")[0] == pytest.approx(t[-1] - t[0], rel=1e-6)
    np.testing.assert_array_equal(column(out, "observation_count"), [200, 200])
    np.testing.assert_array_equal(column(out, "n_points"), [200, 200])


def test_short_and_invalid_light_curves_get_nan_and_are_counted(tmp_path, rng):
    good = [sine(rng, 10 + i, 9.0, 0.3, n=40) for i in range(3)]
    t5 = ztf_cadence(rng, 5)
    bad_mag = good[2]["mag"].copy()
    bad_mag[7] = np.nan
    lcs = [
        good[0],
        lc_dict(1, t5[:1], np.array([15.0]), 0.02),  # a single point: would panic light-curve's periodogram
        lc_dict(2, t5[:3], np.full(3, 15.0), 0.02),
        lc_dict(3, t5, 15 + rng.normal(0, 0.02, 5), 0.02),  # 5 points: enough for min_points=0, not for 10
        good[1],
        lc_dict(4, good[2]["hmjd"], bad_mag, 0.02),  # a NaN magnitude slipped through cleaning
        lc_dict(5, np.array([]), np.array([]), 0.02),
    ]
    path = tmp_path / "in.parquet"
    write_parquet(make_dr_table(lcs), path, row_group_size=3)

    stats = extract_features([path], tmp_path / "f.parquet", {"min_points": 10, "rows_per_task": 2})
    out = pq.read_table(tmp_path / "f.parquet")
    assert out.column("objectid").to_pylist() == [10, 1, 2, 3, 11, 4, 5]
    np.testing.assert_array_equal(column(out, "n_points"), [40, 1, 3, 5, 40, 40, 0])
    assert (stats["rows"], stats["extracted"], stats["too_few_points"], stats["invalid"]) == (7, 2, 4, 1)
    amp = column(out, "amplitude")
    assert np.isfinite(amp[[0, 4]]).all() and np.isnan(amp[[1, 2, 3, 5, 6]]).all()

    # min_points below the features' own minimum: raised to 4, so the 5-point curve now has features.
    stats0 = extract_features([path], tmp_path / "g.parquet", {"min_points": 3})
    assert stats0["min_points"] == 4 and stats0["too_few_points"] == 3
    out0 = pq.read_table(tmp_path / "g.parquet")
    assert np.isfinite(column(out0, "kurtosis")[3]) and np.isnan(column(out0, "amplitude")[[1, 2]]).all()


def _write_inputs(tmp_path, rng, sizes=(23, 0, 41)) -> list:
    """Several DR files with small row groups; objectids increase across files."""
    paths, oid = [], 0
    for k, n in enumerate(sizes):
        lcs = []
        for _ in range(n):
            npts = int(rng.integers(2, 80))
            lcs.append(sine(rng, oid, float(rng.uniform(2, 60)), float(rng.uniform(0.05, 1)), n=npts))
            oid += 1
        path = tmp_path / f"ztf_000633_zr_c01_q{k + 1}_dr24.parquet"
        write_parquet(make_dr_table(lcs), path, row_group_size=10)
        paths.append(path)
    return paths


def test_tasks_cover_every_row_once_in_order(tmp_path, rng):
    """Tasks are whole row groups (never split: a slice would decode its row group again), merged up to rows_per_task."""
    paths = _write_inputs(tmp_path, rng)  # row groups of 10 rows: 10 + 10 + 3, (empty), 10 x 4 + 1
    tasks = plan_tasks(paths, rows_per_task=7)
    covered = []
    for task in tasks:
        table = pq.ParquetFile(task.path).read_row_groups(list(task.row_groups), columns=["objectid"])
        covered += table.column("objectid").to_pylist()
        assert task.length == table.num_rows and len(task.row_groups) == 1
    assert covered == list(range(64)) and len(tasks) == 8
    merged = plan_tasks(paths, rows_per_task=25)  # whole row groups merged up to 25 rows
    assert [t.row_groups for t in merged] == [(0, 1, 2), (0, 1), (2, 3, 4)]
    assert [t.length for t in merged] == [23, 20, 21]


def test_serial_and_dask_outputs_are_identical(tmp_path, rng):
    paths = _write_inputs(tmp_path, rng)
    cfg = {"names": "default", "min_points": 10, "rows_per_task": 6}
    serial = extract_features(paths, tmp_path / "serial.parquet", cfg)
    with cluster_for_job(2, 2000, str(tmp_path / "dask-tmp"), {"mode": "local"}) as client:
        distributed = extract_features(paths, tmp_path / "dask.parquet", cfg, client=client)
    a = pq.read_table(tmp_path / "serial.parquet")
    b = pq.read_table(tmp_path / "dask.parquet")
    assert a.schema == b.schema and a.num_rows == b.num_rows == 64
    assert b.column("objectid").to_pylist() == list(range(64))
    for name in a.column_names:
        np.testing.assert_array_equal(column(a, name), column(b, name), err_msg=name)
    assert {k: serial[k] for k in ("rows", "extracted", "too_few_points")} == {
        k: distributed[k] for k in ("rows", "extracted", "too_few_points")
    }
    assert serial["extracted"] > 0 and serial["too_few_points"] > 0
    # The zero-copy Arrow hand-over gives exactly what per-light-curve owned arrays give.
    table = pa.concat_tables(pq.read_table(p) for p in paths)
    owned = extract_table(table, method="owned")
    for name in a.column_names:
        np.testing.assert_array_equal(column(a, name), column(owned, name), err_msg=name)


def test_output_schema_and_ids(tmp_path, rng):
    table = make_dr_table([sine(rng, 7, 3.3, 0.4, n=30)], fieldid=1789, rcid=42)
    out = extract_table(table)
    types = {f.name: f.type for f in out.schema}
    assert types["objectid"] == pa.int64() and types["filterid"] == pa.int8()
    assert types["fieldid"] == pa.int16() and types["rcid"] == pa.int8()
    assert types["ra"] == pa.float64() and types["n_points"] == pa.int64()
    assert all(types[c] == pa.float32() for c in out.column_names[7:])
    assert out.column_names[:7] == list(ID_COLUMN_DOCS) and set(out.column_names[7:]) <= set(FEATURE_DOCS)
    row = out.to_pylist()[0]
    assert (row["objectid"], row["fieldid"], row["rcid"], row["filterid"]) == (7, 1789, 42, 2)
    assert row["ra"] == pytest.approx(150.0) and row["dec"] == pytest.approx(30.0)
    # Raw light-curve on the same arrays gives the same numbers (no reordering of columns or rows).
    ext, _ = build_extractor("default")
    t, m, e = (table.column(c).to_pylist()[0] for c in ("hmjd", "mag", "magerr"))
    raw = ext(np.array(t), np.array(m, dtype=np.float64), np.array(e, dtype=np.float64), sorted=True)
    np.testing.assert_allclose(np.array(list(row.values())[7:], dtype=np.float32), raw.astype(np.float32))


def test_missing_column_names_the_file(tmp_path):
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"objectid": [1], "mag": [[1.0]]}), path)
    with pytest.raises(InputError, match="bad.parquet"):
        extract_features([path], tmp_path / "out.parquet", {})
    assert not (tmp_path / "out.parquet").exists()


def test_empty_input_writes_an_empty_table(tmp_path):
    path = tmp_path / "empty.parquet"
    write_parquet(make_dr_table([]), path)
    stats = extract_features([path], tmp_path / "out.parquet", {"names": "cheap"})
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.num_rows == 0 and stats["rows"] == 0
    assert "amplitude" in out.column_names and "periodogram_period_0" not in out.column_names


def _demo_batch(tmp_path) -> list:
    """A small simulated DR batch (flagged, saturated and duplicate epochs), one file fetched twice, in manifest order
    that is not objectid order."""
    import shutil

    from skysift.simulate import simulate_release

    simulate_release(tmp_path / "demo", n_objects=400, fields=[633], ccds=[1], quadrants=[1, 2], seed=9)
    files = sorted((tmp_path / "demo").glob("dr24/*/field000633/*.parquet"))
    again = tmp_path / "refetched" / files[1].name  # the same light curves again, e.g. a re-downloaded file
    again.parent.mkdir()
    shutil.copy(files[1], again)
    return [*files[::-1], again]


def test_features_of_raw_dr_files_equal_the_clean_then_extract_path(tmp_path, caplog):
    """Cuts applied as the DR files are read, on Dask workers = a cleaned copy's features, row for row; the
    feature log counts every drop as the clean stage does."""
    paths = _demo_batch(tmp_path)
    clean = {"min_epochs": 10}
    copy_stats = clean_files(paths, tmp_path / "clean.parquet", clean)
    old = extract_features([tmp_path / "clean.parquet"], tmp_path / "old.parquet", {"rows_per_task": 300})
    with (
        caplog.at_level(logging.INFO, logger="skysift.features.batch"),
        cluster_for_job(2, 2000, str(tmp_path / "dask-tmp"), {"mode": "local"}) as client,
    ):
        new = extract_features(
            paths, tmp_path / "new.parquet", {"rows_per_task": 300}, client=client, cuts=clean
        )
    a, b = pq.read_table(tmp_path / "old.parquet"), pq.read_table(tmp_path / "new.parquet")
    assert a.schema == b.schema and a.num_rows == b.num_rows == copy_stats.lightcurves_out > 500
    for name in a.column_names:
        np.testing.assert_array_equal(column(a, name), column(b, name), err_msg=name)
    assert new["clean"] == copy_stats.as_dict() and copy_stats.lightcurves_duplicate > 100
    assert copy_stats.epochs_flagged and copy_stats.epochs_duplicate and copy_stats.lightcurves_too_few_epochs
    summary = [r.getMessage() for r in caplog.records if r.getMessage().startswith("cleaned ")]
    assert summary == [copy_stats.summary(CleanConfig.from_config(clean))]
    assert (new["rows"], new["extracted"]) == (old["rows"], old["extracted"])


def test_raw_dr_files_without_a_cut_column_are_named(tmp_path, rng):
    path = tmp_path / "nocatflags.parquet"
    write_parquet(make_dr_table([sine(rng, 1, 5.0, 0.3)]).drop_columns(["catflags"]), path)
    with pytest.raises(InputError, match=r"nocatflags\.parquet.*catflags"):
        extract_features([path], tmp_path / "out.parquet", {}, cuts={})
    assert not (tmp_path / "out.parquet").exists()
