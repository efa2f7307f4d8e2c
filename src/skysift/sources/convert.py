"""Turn per-epoch light-curve rows (as the query APIs return them) into the ZTF DR parquet layout.

The API sources (IRSA ``nph_light_curves``, the SNAD ZTF DR API) answer with one row per epoch.
:func:`write_release` groups them into DR rows (one per objectid, list columns sorted by time),
splits them into the DR files of their field, filter, CCD and quadrant, and writes
``checksum.md5``, so everything downstream reads API data exactly like a bulk mirror.

Long-format epochs (:data:`EPOCH_COLUMNS`): ``objectid`` int64, ``filterid`` (1 g, 2 r, 3 i),
``fieldid``, ``rcid`` (0..63), ``hmjd`` float64, ``mag``/``magerr``/``clrcoeff`` float32,
``catflags`` int32, and either per-epoch ``ra``/``dec`` (the object position becomes their
median) or per-object positions passed separately.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from skysift.io import InputError, write_parquet
from skysift.layout import DR_SCHEMA, dr_file_path, write_checksums
from skysift.sources.base import LightCurveSource, Preparation, converted_parent
from skysift.sources.local import verify_batch
from skysift.sources.settings import SourceSettings

__all__ = [
    "EPOCH_COLUMNS",
    "epochs_to_table",
    "write_release",
    "read_ids",
    "read_cones",
    "fields_of_objectids",
    "query_fields",
    "query_files",
    "read_queries",
    "query_source",
]

log = logging.getLogger(__name__)

EPOCH_COLUMNS = ("objectid", "filterid", "fieldid", "rcid", "hmjd", "mag", "magerr", "clrcoeff", "catflags")


def fields_of_objectids(objectids) -> list[int]:
    """ZTF field ids encoded in DR object ids (``field * 10**12 + filter * 10**11 + ...``)."""
    oids = np.asarray(objectids, dtype=np.int64)
    return sorted({int(f) for f in np.unique(oids // 10**12)})


def read_ids(path: str | Path) -> np.ndarray:
    """Object ids from a file: one per line, or a CSV with an ``objectid`` or ``oid`` column."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: object-id file not found (fetch.ids_file)")
    first = path.read_text().lstrip().split("\n", 1)[0]
    if first and not first.strip().lstrip("-").isdigit():
        df = pd.read_csv(path)
        column = next((c for c in ("objectid", "oid") if c in df.columns), None)
        if column is None:
            raise InputError(f"{path}: needs an 'objectid' (or 'oid') column, found {list(df.columns)}")
        values = df[column]
    else:
        values = pd.read_csv(path, header=None, comment="#")[0]
    try:
        ids = np.unique(values.to_numpy(dtype=np.int64))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: object ids must be integers (ZTF DR objectids): {exc}") from exc
    if len(ids) == 0:
        raise InputError(f"{path}: no object ids")
    return ids


def read_cones(path: str | Path, radius_arcsec: float) -> pd.DataFrame:
    """Cones from a CSV with ``ra``, ``dec`` (deg) and optionally ``radius_arcsec`` columns."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: cone file not found (fetch.cones_file)")
    df = pd.read_csv(path, comment="#")
    missing = [c for c in ("ra", "dec") if c not in df.columns]
    if missing:
        raise InputError(
            f"{path}: cone file needs columns ra, dec (deg) [, radius_arcsec]; missing {missing}"
        )
    if "radius_arcsec" not in df.columns:
        df["radius_arcsec"] = radius_arcsec
    return df[["ra", "dec", "radius_arcsec"]].astype(float).reset_index(drop=True)


def query_files(settings: SourceSettings) -> list[str]:
    """The query files of the API sources (fetch.ids_file, fetch.cones_file) that are set."""
    return [path for path in (settings.fetch.ids_file, settings.fetch.cones_file) if path]


def read_queries(settings: SourceSettings) -> tuple[np.ndarray | None, pd.DataFrame | None]:
    """The object ids (fetch.ids_file) and cones (fetch.cones_file, fetch.cone_radius_arcsec) to query."""
    fetch = settings.fetch
    ids = read_ids(fetch.ids_file) if fetch.ids_file else None
    cones = read_cones(fetch.cones_file, fetch.cone_radius_arcsec) if fetch.cones_file else None
    return ids, cones


def query_fields(settings: SourceSettings) -> list[int]:
    """Batches of an ID/cone query (irsa_api, snad): fetch.fields, else the fields encoded in the ids."""
    fetch = settings.fetch
    if not fetch.ids_file and not fetch.cones_file:
        raise InputError(f"source is {settings.source!r}: set fetch.ids_file and/or fetch.cones_file")
    if fetch.fields:
        return sorted({int(f) for f in fetch.fields})
    if fetch.cones_file:
        raise InputError(
            "fetch.cones_file needs fetch.fields: the ZTF fields covering the cones (only those become batches)"
        )
    return fields_of_objectids(read_ids(fetch.ids_file))


def query_source(name: str, url_key: str, fetch: Callable[..., list[Path]]) -> LightCurveSource:
    """An ID/cone query source: ``fetch(url, dr, release_root, ids=, cones=, ...)`` against fetch.<url_key>.

    The queries of fetch.ids_file / fetch.cones_file are answered in one job into a DR tree under
    ``<fetch.cache_dir>/<name>``; each batch then verifies its field's files.
    """

    def prepare_answers(settings: SourceSettings, release_root: Path) -> list[Path]:
        """Run the queries of fetch.ids_file / fetch.cones_file against the service into a DR tree."""
        options = settings.fetch
        ids, cones = read_queries(settings)
        return fetch(
            getattr(options, url_key),
            settings.dr,
            release_root,
            ids=ids,
            cones=cones,
            filters=options.filters or None,
            batch_size=options.batch_size,
            http=options.http,
        )

    return LightCurveSource(
        name=name,
        preparation=Preparation.CONVERT,
        online=True,
        release_keys=(
            f"fetch.{url_key}",
            "fetch.ids_file",
            "fetch.cones_file",
            "fetch.cone_radius_arcsec",
            "fetch.filters",
        ),
        batch_keys=(),
        fields=query_fields,
        release_parent=converted_parent,
        fetch_batch=verify_batch,
        prepare=prepare_answers,
        prepare_rule="query_lightcurves",
        release_inputs=query_files,
    )


def epochs_to_table(epochs: pd.DataFrame, positions: pd.DataFrame | None = None) -> pa.Table:
    """One DR-schema row per objectid from per-epoch rows, epochs sorted by hmjd (stable).

    ``positions`` (index objectid, columns objra/objdec) overrides the median epoch position.
    """
    missing = [c for c in EPOCH_COLUMNS if c not in epochs.columns]
    if missing:
        raise ValueError(f"epoch table lacks column(s) {missing}")
    if len(epochs) == 0:
        return DR_SCHEMA.empty_table()
    oid = epochs["objectid"].to_numpy(np.int64)
    hmjd = epochs["hmjd"].to_numpy(np.float64)
    order = np.lexsort((hmjd, oid))
    e = epochs.iloc[order].reset_index(drop=True)
    oid = oid[order]
    objects, first, counts = np.unique(oid, return_index=True, return_counts=True)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    if positions is not None:
        pos = positions.reindex(objects)
        objra, objdec = pos["objra"].to_numpy(), pos["objdec"].to_numpy()
    else:
        med = e.groupby("objectid", sort=True)[["ra", "dec"]].median()
        objra, objdec = med["ra"].to_numpy(), med["dec"].to_numpy()

    def lists(name: str, typ: pa.DataType) -> pa.ListArray:
        values = pa.array(e[name].to_numpy(), type=typ, from_pandas=True)
        return pa.ListArray.from_arrays(pa.array(offsets), values)

    columns = {
        "objectid": pa.array(objects, pa.int64()),
        "filterid": pa.array(e["filterid"].to_numpy()[first], pa.int8()),
        "fieldid": pa.array(e["fieldid"].to_numpy()[first], pa.int16()),
        "rcid": pa.array(e["rcid"].to_numpy()[first], pa.int8()),
        "objra": pa.array(objra.astype(np.float32), pa.float32()),
        "objdec": pa.array(objdec.astype(np.float32), pa.float32()),
        "nepochs": pa.array(counts, pa.int64()),
        "hmjd": lists("hmjd", pa.float64()),
        "mag": lists("mag", pa.float32()),
        "magerr": lists("magerr", pa.float32()),
        "clrcoeff": lists("clrcoeff", pa.float32()),
        "catflags": lists("catflags", pa.int32()),
    }
    return pa.table(columns, schema=DR_SCHEMA)


def write_release(
    epochs: pd.DataFrame, release_root: str | Path, dr: str, positions: pd.DataFrame | None = None
) -> list[Path]:
    """Write per-epoch rows as DR files under ``release_root`` plus checksum.md5; return the files.

    DR files of an earlier query that this one does not produce are removed, so the mirror holds
    exactly this query's answer (the directory is skysift's own cache, never a user's mirror).
    """
    root = Path(release_root)
    table = epochs_to_table(epochs, positions)
    rcid = table.column("rcid").to_numpy().astype(int)
    keys = pd.DataFrame(
        {
            "fieldid": table.column("fieldid").to_numpy(),
            "filterid": table.column("filterid").to_numpy(),
            "ccdid": rcid // 4 + 1,
            "qid": rcid % 4 + 1,
        }
    )
    written: list[Path] = []
    for (fieldid, filterid, ccdid, qid), idx in keys.groupby(list(keys.columns)).indices.items():
        path = root / dr_file_path(dr, int(fieldid), int(filterid), int(ccdid), int(qid))
        write_parquet(table.take(pa.array(idx)), path)
        written.append(path)
    stale = set(root.glob("*/field*/ztf_*.parquet")) - set(written)
    for path in stale:
        path.unlink()
    if stale:
        log.info("%s: removed %d DR files of an earlier query", root, len(stale))
    root.mkdir(parents=True, exist_ok=True)
    write_checksums(root)
    log.info("%s: %d light curves, %d epochs in %d DR files", root, table.num_rows, len(epochs), len(written))
    return sorted(written)
