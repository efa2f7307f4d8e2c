"""The release feature view: virtual datasets over per-batch stores equal their concatenation, copy nothing,
read one batch's rows from that batch's file only, survive a move, and refuse mismatched or missing batches."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest
import xarray as xr

from skysift.features.view import build_feature_view, open_feature_store, view_sources, write_batch_store
from skysift.io import InputError
from test_features_store import _batch

CFG = {"dr": "dr24", "clean": {"min_epochs": 10}, "features": {"names": "default", "min_points": 10}}


def _stores(tmp_path, rng, sizes=(23, 0, 31, 17)) -> list[str]:
    """Batch stores of ``sizes`` objects (an empty batch included), bands alternating; return their paths."""
    stores = []
    for k, n in enumerate(sizes):
        parquet = _batch(tmp_path, rng, f"field{k:06d}", n, 1000 * k, 1 + k % 2)
        out = tmp_path / "features" / f"field{k:06d}.h5"
        write_batch_store(parquet, out, dr=CFG["dr"], features=CFG["features"], clean=CFG["clean"])
        stores.append(str(out))
    return stores


def test_view_equals_the_concatenation_of_the_batch_stores_without_copying(tmp_path, rng):
    stores = _stores(tmp_path, rng)
    view = tmp_path / "features" / "features.h5"
    stats = build_feature_view(stores, view)
    assert stats == {"n_objects": 71, "n_features": 36, "n_batches": 4, "output": str(view)}
    parts = [xr.open_dataset(p, engine="h5netcdf") for p in stores]
    expected = xr.concat(parts, dim="object", data_vars="all", coords="different", compat="equals")
    with open_feature_store(view) as ds:
        assert ds.sizes == {"object": 71, "feature": 36}
        assert list(ds.feature.values) == list(parts[0].feature.values)
        for name in ("features", "objectid", "filterid", "fieldid", "rcid", "ra", "dec", "n_points"):
            assert ds[name].dtype == expected[name].dtype, name
            np.testing.assert_array_equal(ds[name].values, expected[name].values, err_msg=name)
        assert np.isnan(ds.features.values).any() and np.isfinite(ds.features.values).any()
        np.testing.assert_array_equal(ds.description.values, parts[0].description.values)
        for key in ("dr", "config_hash", "feature_names", "features_config", "clean_config", "nan_policy"):
            assert ds.attrs[key] == parts[0].attrs[key], key
        assert ds.attrs["n_objects"] == 71
        assert json.loads(ds.attrs["inputs"]) == [f"field{k:06d}.h5" for k in range(4)]
    for p in parts:
        p.close()
    with h5py.File(view, "r") as f:  # the matrix is virtual: no copy, and the file is small
        assert f["features"].is_virtual and f["objectid"].is_virtual
    assert view.stat().st_size < sum(type(view)(p).stat().st_size for p in stores) / 2
    assert view_sources(view) == sorted(type(view)(p).resolve() for p in stores if "000001" not in p)


def test_one_object_is_read_from_its_own_batch_file_only(tmp_path, rng):
    stores = _stores(tmp_path, rng)
    view = tmp_path / "features" / "features.h5"
    build_feature_view(stores, view)
    with xr.open_dataset(stores[2], engine="h5netcdf") as batch:
        want = batch.features.isel(object=5).values.copy()
        oid = int(batch.objectid[5])
    for other in (stores[0], stores[3]):  # every other batch's file is gone
        (tmp_path / "features" / other.rsplit("/", 1)[1]).unlink()
    with xr.open_dataset(view, engine="h5netcdf") as ds:
        row = 23 + 5
        assert int(ds.objectid[row]) == oid
        np.testing.assert_array_equal(ds.features.isel(object=row).values, want)
    with pytest.raises(InputError, match="field000000.h5"):  # the helper refuses a view with a hole
        open_feature_store(view)


def test_the_view_moves_with_its_directory(tmp_path, rng, monkeypatch):
    stores = _stores(tmp_path, rng, sizes=(4, 6))
    build_feature_view(stores, tmp_path / "features" / "features.h5")
    moved = tmp_path / "elsewhere" / "results_copy"
    shutil.move(tmp_path / "features", moved)
    monkeypatch.chdir(tmp_path)
    with open_feature_store(moved / "features.h5") as ds:
        assert ds.sizes["object"] == 10 and np.isfinite(ds.ra.values).all()


def test_batches_of_another_config_are_refused(tmp_path, rng):
    stores = _stores(tmp_path, rng, sizes=(4, 6))
    write_batch_store(tmp_path / "field000001.parquet", stores[1], dr="dr23", features=CFG["features"])
    with pytest.raises(InputError, match="field000001.h5.*'dr'"):
        build_feature_view(stores, tmp_path / "features" / "features.h5")
    assert not (tmp_path / "features" / "features.h5").exists()
