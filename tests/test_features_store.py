"""Feature store: the h5netcdf file read back with xarray equals the per-batch parquet; provenance; progress lines."""

from __future__ import annotations

import json
import logging

import light_curve
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xarray as xr

from conftest import make_dr_table
from skysift.features import extract_features
from skysift.features.store import combine_features
from skysift.io import InputError, write_parquet
from skysift.provenance import config_sha256 as config_hash


def _batch(tmp_path, rng, name: str, n: int, first_oid: int, filterid: int) -> str:
    """Extract features of ``n`` random light curves (some too short) into a batch parquet; return its path."""
    lcs = []
    for k in range(n):
        npts = int(rng.integers(3, 60))
        t = np.sort(rng.uniform(58300, 58900, npts))
        m = 17 + rng.uniform(0.05, 1) * np.sin(2 * np.pi * t / rng.uniform(2, 50)) + rng.normal(0, 0.02, npts)
        lcs.append({"objectid": first_oid + k, "hmjd": t, "mag": m, "magerr": np.full(npts, 0.02)})
    table = make_dr_table(lcs)
    table = table.set_column(1, "filterid", pa.array(np.full(n, filterid, dtype=np.int8)))
    src = tmp_path / f"{name}.clean.parquet"
    write_parquet(table, src, row_group_size=7)
    out = tmp_path / f"{name}.parquet"
    extract_features([src], out, {"rows_per_task": 100})
    return str(out)


def test_store_reads_back_equal_to_the_parquet_with_provenance(tmp_path, rng):
    paths = [
        _batch(tmp_path, rng, "field000633", 23, 0, 1),
        _batch(tmp_path, rng, "field000634", 31, 1000, 2),
    ]
    cfg = {"dr": "dr24", "clean": {"min_epochs": 10}, "features": {"names": "default", "min_points": 10}}
    stats = combine_features(
        paths, tmp_path / "features.h5", dr="dr24", features=cfg["features"], clean=cfg["clean"]
    )
    assert stats["n_objects"] == 54

    parquet = pq.read_table(paths).to_pandas()  # both batches, in order
    with xr.open_dataset(tmp_path / "features.h5", engine="h5netcdf") as ds:
        features = [str(f) for f in ds.feature.values]
        assert features == list(parquet.columns[7:]) and len(features) == 36
        assert ds.features.dims == ("object", "feature") and ds.features.dtype == np.float32
        np.testing.assert_array_equal(ds.objectid.values, parquet["objectid"].to_numpy())
        for col in ("filterid", "fieldid", "ra", "dec", "n_points"):
            np.testing.assert_array_equal(ds[col].values, parquet[col].to_numpy(), err_msg=col)
        for name in features:  # NaN where the parquet has NaN (short light curves), equal elsewhere
            np.testing.assert_array_equal(
                ds.features.sel(feature=name).values, parquet[name].to_numpy(np.float32), err_msg=name
            )
        assert np.isnan(ds.features.values).any() and np.isfinite(ds.features.values).any()
        g = ds.isel(object=ds.filterid.values == 1)  # the per-band view is a selection
        assert g.sizes["object"] == 23 and set(g.objectid.values) == set(range(23))
        assert str(ds.description.sel(feature="amplitude").values).startswith("half the range")
        attrs = ds.attrs
        assert attrs["dr"] == "dr24" and attrs["light_curve_version"] == light_curve.__version__
        assert attrs["config_hash"] == config_hash(cfg) and len(attrs["config_hash"]) == 64
        assert json.loads(attrs["feature_names"]) == features
        assert json.loads(attrs["features_config"]) == cfg["features"]
        assert json.loads(attrs["clean_config"]) == cfg["clean"]
        assert attrs["skysift_version"] and "NaN" in attrs["nan_policy"]
    # Another config gives another hash.
    assert config_hash({**cfg, "features": {"names": "cheap"}}) != config_hash(cfg)


def test_batches_with_different_features_are_refused(tmp_path, rng):
    a = _batch(tmp_path, rng, "a", 5, 0, 1)
    src = tmp_path / "a.clean.parquet"
    extract_features([src], tmp_path / "b.parquet", {"names": "cheap"})
    with pytest.raises(InputError, match="b.parquet"):
        combine_features([a, tmp_path / "b.parquet"], tmp_path / "f.h5")
    assert not (tmp_path / "f.h5").exists()


def test_long_batches_log_progress_with_rate(tmp_path, rng, caplog):
    _batch(tmp_path, rng, "p", 40, 0, 2)
    with caplog.at_level(logging.INFO, logger="skysift.features.batch"):
        extract_features([tmp_path / "p.clean.parquet"], tmp_path / "q.parquet", {"rows_per_task": 100})
    lines = [
        r.getMessage()
        for r in caplog.records
        if "light curves/s" in r.getMessage() and "tasks" in r.getMessage()
    ]
    assert lines and "40/40 light curves (100%)" in lines[-1]


def test_colours_of_position_associated_g_and_r(tmp_path, rng):
    """g-r at median and at maximum against numpy, only for sources with both bands; stored as features."""
    tables, truth = [], {}
    for band in (1, 2):
        lcs = []
        for k in range(4):
            n = 30 if k != 3 else 5  # source 3: too few points
            m = 17 + 0.4 * band + rng.normal(0, 0.2, n)
            lcs.append({"objectid": 100 * band + k, "hmjd": np.sort(rng.uniform(58300, 58600, n)), "mag": m})
            lcs[-1]["magerr"] = np.full(n, 0.02)
            truth[(band, k)] = m.astype(np.float32).astype(float)
        table = make_dr_table(lcs if band == 1 else lcs[:2] + lcs[3:])  # source 2 has no r light curve
        table = table.set_column(1, "filterid", pa.array(np.full(table.num_rows, band, dtype=np.int8)))
        # Same source = same position (make_dr_table puts every row at 150, 30): spread the sources apart.
        dec = 30.0 + 0.01 * (table.column("objectid").to_numpy() % 100)
        tables.append(table.set_column(5, "objdec", pa.array(dec.astype(np.float32))))
    src = tmp_path / "c.clean.parquet"
    write_parquet(pa.concat_tables(tables), src)
    # the file as a raw DR file: the colours come from light curves cleaned as read
    extract_features(
        [src], tmp_path / "c.parquet", {"names": ["amplitude"], "colours": True}, cuts={"min_epochs": 3}
    )
    out = pq.read_table(tmp_path / "c.parquet").to_pandas().set_index("objectid")
    for k in (0, 1):
        g, r = truth[(1, k)], truth[(2, k)]
        for oid in (100 + k, 200 + k):
            assert out.loc[oid, "colour_gr_median"] == pytest.approx(np.median(g) - np.median(r), abs=1e-5)
            assert out.loc[oid, "colour_gr_max"] == pytest.approx(g.min() - r.min(), abs=1e-5)
            assert out.loc[oid, "source_id"] == 100 + k
    assert np.isnan(out.loc[[102, 103, 203], "colour_gr_median"]).all()  # no r / too few points
    assert out.loc[102, "source_id"] == 102
    store = combine_features([tmp_path / "c.parquet"], tmp_path / "c.h5")
    with xr.open_dataset(tmp_path / "c.h5", engine="h5netcdf") as ds:
        assert store["n_features"] == 3 and ds.source_id.dtype == np.int64
        np.testing.assert_array_equal(
            ds.features.sel(feature="colour_gr_max").values, out["colour_gr_max"].to_numpy(np.float32)
        )
