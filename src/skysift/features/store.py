"""The feature store: every batch's feature parquet combined into one netCDF4/HDF5 file (h5netcdf).

Layout (read it with ``xarray.open_dataset(path, engine="h5netcdf")``)::

    dimensions  object (one per ZTF objectid, i.e. per field, CCD quadrant and *filter*), feature
    features    float32 (object, feature)   the feature matrix, NaN where undefined (NaN policy below)
    objectid    int64   (object)            coordinate; also filterid int8 (1 g, 2 r, 3 i), fieldid int16,
                                            rcid int8, ra/dec float64 (deg), n_points int64
    feature     str     (feature)           coordinate: the column names of the per-batch parquet
    description str     (feature)           one-line meaning of each feature (FEATURE_DOCS)

Why no band dimension: in a ZTF DR every objectid belongs to one filter, and g/r/i objectids of
one sky source are only associated by position (not 1:1, and many sources lack a band), so a
band dimension would be a mostly-NaN padding around an association choice. The per-band view
is a selection: ``ds.isel(object=ds.filterid.values == 1)``.

Provenance (global attributes): ``dr``, ``config_hash`` (SHA-256, as sorted JSON, of what the
features depend on: ``{"dr", "clean", "features"}``, the release name and the config's quality cuts and
feature sections), ``features_config`` and ``clean_config`` (JSON), ``feature_names`` (JSON list), ``light_curve_version``,
``skysift_version``, ``created`` (UTC ISO time), ``n_objects``, ``inputs`` (JSON list of the
per-batch files), ``nan_policy``.

The file is written batch by batch into an unlimited ``object`` dimension, so memory stays at
one batch whatever the size of the release; it appears under its final name only when complete.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from skysift.features.catalogue import FEATURE_DOCS, ID_COLUMN_DOCS, ID_COLUMNS
from skysift.features.colour import COLOUR_DOCS
from skysift.features.fit_catalogue import TRANSIENT_FIT_DOCS
from skysift.io import InputError, atomic_path
from skysift.provenance import config_sha256

__all__ = ["combine_features", "write_feature_coordinate", "NAN_POLICY"]

logger = logging.getLogger(__name__)

#: The documented NaN policy of feature values (also written into the store's attributes).
NAN_POLICY = (
    "A feature is NaN when its light curve has fewer points than features.min_points (or the "
    "feature's own minimum), or non-finite values / non-increasing times, or when light-curve "
    "cannot evaluate it (e.g. a failed transient fit); such light curves are counted in the "
    "extract_features log and never stop the run."
)

#: Rows per HDF5 chunk of the feature matrix.
CHUNK_ROWS = 16384


def write_feature_coordinate(f: Any, names: list[str], descriptions: list[str]) -> Any:
    """Write the ``feature`` coordinate and its ``description`` variable into an open h5netcdf file.

    Returns the description variable so that the caller can set its attributes; the per-batch stores
    and the release view share this layout, which ``open_feature_store`` reads.
    """
    import h5py

    f.create_variable("feature", ("feature",), data=np.array(names, dtype=object), dtype=h5py.string_dtype())
    return f.create_variable(
        "description", ("feature",), data=np.array(descriptions, dtype=object), dtype=h5py.string_dtype()
    )


def _feature_columns(paths: list[str]) -> list[str]:
    """Feature column names shared by every batch file (error naming the file if they differ)."""
    id_names = [n for n, _ in ID_COLUMNS]
    columns: list[str] | None = None
    for path in paths:
        names = pq.ParquetFile(path).schema_arrow.names
        if names[: len(id_names)] != id_names:
            raise InputError(f"{path}: not a skysift feature table (expected leading columns {id_names})")
        feats = [n for n in names[len(id_names) :] if n != "source_id"]
        if columns is None:
            columns = feats
        elif feats != columns:
            raise InputError(
                f"{path}: feature columns differ from {paths[0]}; rerun extract_features for every batch "
                "with the same features config"
            )
    return columns or []


def combine_features(
    paths: Iterable[str | Path],
    output: str | Path,
    *,
    dr: str = "",
    features: Mapping[str, Any] | None = None,
    clean: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Combine per-batch feature parquet files into one h5netcdf store (objects x features) with provenance.

    ``features`` and ``clean`` are the config sections the features were computed with (stored as JSON and,
    with ``dr``, hashed into ``config_hash``). Returns the number of objects and features.
    """
    import h5netcdf
    import light_curve

    import skysift

    paths = [str(p) for p in paths]
    columns = _feature_columns(paths)
    depends_on = {"dr": dr, "clean": dict(clean or {}), "features": dict(features or {})}
    attrs = {
        "title": "skysift light-curve features",
        "dr": dr,
        "config_hash": config_sha256(depends_on),
        "features_config": json.dumps(depends_on["features"], sort_keys=True, default=str),
        "clean_config": json.dumps(depends_on["clean"], sort_keys=True, default=str),
        "feature_names": json.dumps(columns),
        "light_curve_version": light_curve.__version__,
        "skysift_version": getattr(skysift, "__version__", "unknown"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "inputs": json.dumps([Path(p).name for p in paths]),
        "nan_policy": NAN_POLICY,
    }
    n_total = 0
    with atomic_path(output) as tmp, h5netcdf.File(tmp, "w") as f:
        f.dimensions = {"object": None, "feature": len(columns)}
        docs = {**FEATURE_DOCS, **TRANSIENT_FIT_DOCS, **COLOUR_DOCS}
        desc = write_feature_coordinate(f, columns, [docs.get(c, "") for c in columns])
        desc.attrs["long_name"] = "meaning of the feature"
        chunk = (CHUNK_ROWS, max(1, len(columns)))
        matrix = f.create_variable(
            "features",
            ("object", "feature"),
            np.float32,
            chunks=chunk,
            compression="gzip",
            compression_opts=4,
            shuffle=True,  # byte-shuffled float32 compress 8 % smaller at the same CPU (benchmarks/README.md)
            fillvalue=np.float32(np.nan),
        )
        matrix.attrs["long_name"] = "light-curve features (magnitudes, days; see description)"
        matrix.attrs["coordinates"] = " ".join([*(n for n, _ in ID_COLUMNS), "description"])
        ids: dict[str, Any] = {}
        for name, typ in ID_COLUMNS:
            ids[name] = f.create_variable(
                name, ("object",), np.dtype(typ.to_pandas_dtype()), chunks=(CHUNK_ROWS,)
            )
            ids[name].attrs["long_name"] = ID_COLUMN_DOCS[name]
        if paths and "source_id" in pq.ParquetFile(paths[0]).schema_arrow.names:
            ids["source_id"] = f.create_variable("source_id", ("object",), np.int64, chunks=(CHUNK_ROWS,))
            ids["source_id"].attrs["long_name"] = COLOUR_DOCS["source_id"]
        for path in paths:
            pf = pq.ParquetFile(path)
            for rg in range(pf.metadata.num_row_groups):
                table = pf.read_row_group(rg)
                n = table.num_rows
                if n == 0:
                    continue
                f.resize_dimension("object", n_total + n)
                values = (
                    np.column_stack(
                        [table.column(c).to_numpy(zero_copy_only=False).astype(np.float32) for c in columns]
                    )
                    if columns
                    else np.empty((n, 0), np.float32)
                )
                matrix[n_total : n_total + n, :] = values
                for name, var in ids.items():
                    var[n_total : n_total + n] = table.column(name).to_numpy(zero_copy_only=False)
                n_total += n
        f.attrs.update({**attrs, "n_objects": n_total})
    logger.info(
        "wrote feature store %s: %d objects x %d features from %d batch file(s), config_hash %s",
        output,
        n_total,
        len(columns),
        len(paths),
        attrs["config_hash"][:12],
    )
    return {"n_objects": n_total, "n_features": len(columns), "output": str(output)}
