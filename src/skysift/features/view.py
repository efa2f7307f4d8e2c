"""The release-level feature view: one HDF5 file of virtual datasets over the per-batch feature stores.

Every batch's features are one h5netcdf file (:func:`write_batch_store`, the layout and provenance of
:mod:`skysift.features.store`). The view (:func:`build_feature_view`) has the same variables, dimensions
and global attributes as one store of the whole release, but its object-dimension variables
(``features``, ``objectid``, ``filterid``, ...) are HDF5 virtual datasets (VDS) that map row ranges onto
the batch files: no feature value is copied. Building it reads only each batch file's shapes and
attributes, so it costs O(number of batches) (benchmarks/bench_feature_store.py); reading rows of one
batch through it opens only that batch's file.

Open it with :func:`open_feature_store` (checks that every batch file is there first: HDF5 reads a missing
source file as fill values, silently) or directly with ``xarray.open_dataset(path, engine="h5netcdf")``.
The batch files are referenced by paths relative to the view, so ``results/features`` can be moved or
copied as a whole.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from skysift.features.store import combine_features, write_feature_coordinate
from skysift.io import InputError, atomic_path

__all__ = ["build_feature_view", "open_feature_store", "view_sources", "write_batch_store"]

logger = logging.getLogger(__name__)

#: The global attributes every batch store must agree on to be viewed as one release.
_SAME_ATTRS = ("dr", "config_hash", "feature_names")
#: HDF5/netCDF bookkeeping attributes that are not copied from a batch variable to the view's.
_RESERVED = {"DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid", "_Netcdf4Coordinates"}


def write_batch_store(
    parquet: str | Path,
    output: str | Path,
    *,
    dr: str = "",
    features: Mapping[str, Any] | None = None,
    clean: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write one batch's feature parquet as its h5netcdf feature store (layout of :mod:`skysift.features.store`)."""
    return combine_features([parquet], output, dr=dr, features=features, clean=clean)


def _describe(path: str, like: dict[str, Any] | None = None) -> dict[str, Any]:
    """Shapes, dtypes and attributes of one batch store (no data read); errors name the file.

    With ``like`` (the first batch's description) only what must match it is read: the row count, the
    variables' dtypes and the attributes in :data:`_SAME_ATTRS` (reading every attribute and dimension
    scale of every file costs ~0.1 s a file).
    """
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "features" not in f or "objectid" not in f:
                raise InputError(f"{path}: not a skysift feature store (no features/objectid variables)")
            n = int(f["features"].shape[0])
            if like is not None:
                attrs = {k: f.attrs.get(k) for k in _SAME_ATTRS}
                vars_ = {}
                for name, (dtype, shape, _) in like["vars"].items():
                    ds = f.get(name)
                    if not isinstance(ds, h5py.Dataset) or ds.dtype != dtype or ds.shape[1:] != shape[1:]:
                        raise InputError(
                            f"{path}: variable {name!r} missing or of another type than in the first batch"
                        )
                    vars_[name] = (dtype, (n, *shape[1:]), {})
                return {"n": n, "attrs": attrs, "vars": vars_}
            vars_ = {
                name: (ds.dtype, ds.shape, {k: v for k, v in ds.attrs.items() if k not in _RESERVED})
                for name, ds in f.items()
                if isinstance(ds, h5py.Dataset)
                and ds.ndim >= 1
                and ds.shape[0] == n
                and name != "object"
                and "object" in _dims(ds)
            }
            return {"n": n, "attrs": dict(f.attrs), "vars": vars_}
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the batch feature store ({exc}); rerun its write_feature_batch job"
        ) from exc


def _dims(ds: Any) -> list[str]:
    """The names of the dimension scales attached to an h5py dataset."""
    return [Path(dim[0].name).name if len(dim) else "" for dim in ds.dims]


def build_feature_view(stores: Iterable[str | Path], output: str | Path) -> dict[str, Any]:
    """Write the release view over per-batch stores (in the given order) as HDF5 virtual datasets.

    Every batch must have the same ``dr``, ``config_hash`` and ``feature_names`` (else :class:`InputError`
    naming the file). The view's global attributes are the first batch's, with ``inputs`` (the batch files),
    ``n_objects`` and ``created`` of the release. Returns the number of objects, features and batches.
    """
    import h5netcdf
    import h5py

    stores = [str(p) for p in stores]
    if not stores:
        raise InputError(f"{output}: no batch feature stores to view; the release has no batches")
    first = _describe(stores[0])
    infos = [first, *(_describe(p, like=first) for p in stores[1:])]
    for path, info in zip(stores, infos, strict=True):
        for key in _SAME_ATTRS:
            if info["attrs"].get(key) != first["attrs"].get(key):
                raise InputError(
                    f"{path}: attribute {key!r} differs from {stores[0]}; rerun extract_features for every "
                    "batch with the same dr, clean and features config"
                )
        if info["vars"].keys() != first["vars"].keys():
            raise InputError(f"{path}: variables differ from {stores[0]}: {sorted(info['vars'])}")
    n_total = sum(i["n"] for i in infos)
    names = json.loads(first["attrs"]["feature_names"])
    out_dir = Path(output).resolve().parent
    attrs = {
        **{k: v for k, v in first["attrs"].items() if not k.startswith("_")},
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "inputs": json.dumps([Path(p).name for p in stores]),
        "n_objects": n_total,
        "view": "HDF5 virtual datasets over the per-batch files in 'inputs' (paths relative to this file)",
    }
    with atomic_path(output) as tmp:
        with h5py.File(stores[0], "r") as src:
            feature = [v.decode() if isinstance(v, bytes) else str(v) for v in src["feature"][()]]
            description = [v.decode() if isinstance(v, bytes) else str(v) for v in src["description"][()]]
            desc_attrs = {k: v for k, v in src["description"].attrs.items() if k not in _RESERVED}
        if feature != names:
            raise InputError(
                f"{stores[0]}: its feature coordinate does not match its feature_names attribute"
            )
        with h5netcdf.File(tmp, "w") as f:
            f.dimensions = {"object": n_total, "feature": len(names)}
            desc = write_feature_coordinate(f, names, description)
            desc.attrs.update(desc_attrs)
            f.attrs.update(attrs)
        rels = [os.path.relpath(Path(p).resolve(), out_dir) for p in stores]
        with h5py.File(tmp, "r+") as f:
            for name, (dtype, shape, var_attrs) in first["vars"].items():
                layout = h5py.VirtualLayout(shape=(n_total, *shape[1:]), dtype=dtype)
                start = 0
                for rel, info in zip(rels, infos, strict=True):
                    n = info["n"]
                    if n:
                        layout[start : start + n] = h5py.VirtualSource(rel, name, shape=(n, *shape[1:]))
                    start += n
                fill = np.nan if np.issubdtype(dtype, np.floating) else 0
                ds = f.create_virtual_dataset(name, layout, fillvalue=fill)
                ds.dims[0].attach_scale(f["object"])
                if len(shape) == 2:
                    ds.dims[1].attach_scale(f["feature"])
                for key, value in var_attrs.items():
                    ds.attrs[key] = value
    logger.info(
        "wrote feature view %s: %d objects x %d features over %d batch file(s) (virtual datasets, no copy)",
        output,
        n_total,
        len(names),
        len(stores),
    )
    return {"n_objects": n_total, "n_features": len(names), "n_batches": len(stores), "output": str(output)}


def view_sources(path: str | Path) -> list[Path]:
    """The batch files a view references (absolute paths, resolved against the view's directory)."""
    import h5py

    base = Path(path).resolve().parent
    sources: set[str] = set()
    with h5py.File(path, "r") as f:
        for ds in f.values():
            if isinstance(ds, h5py.Dataset) and ds.is_virtual:
                sources.update(vs.file_name for vs in ds.virtual_sources())
    return sorted(base / s for s in sources)


def open_feature_store(path: str | Path, **kwargs: Any) -> Any:
    """Open a feature store or view lazily as an xarray Dataset (object x feature), checking its batch files.

    A view whose batch file is missing would read that batch as NaN without an error, so this raises
    :class:`InputError` naming the missing file instead. ``kwargs`` go to :func:`xarray.open_dataset`.
    """
    import xarray as xr

    missing = [p for p in view_sources(path) if not p.exists()]
    if missing:
        raise InputError(
            f"{path}: batch feature file(s) missing: {', '.join(map(str, missing[:5]))}"
            f"{' ...' if len(missing) > 5 else ''}; rerun the workflow to rewrite them"
        )
    return xr.open_dataset(path, engine="h5netcdf", **kwargs)
