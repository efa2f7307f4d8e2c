"""Source ``hats``: ZTF light curves from a HATS catalog (IRSA's ``ztf_dr24_lc-hats``) read with lsdb.

The catalog has one row per light curve with the DR keys (objectid, filterid, fieldid, rcid,
objra, objdec, nepochs) and a nested column ``lightcurve`` (per epoch hmjd, mag, magerr, clrcoeff,
catflags), as IRSA publishes at ``s3://ipac-irsa-ztf/ztf/enhanced/dr24/lc/hats``. A cone, box or
polygon (or none: the whole catalog) plus row filters on fieldid/filterid/nepochs select the
light curves; they are written as DR files + checksum.md5 by :func:`skysift.sources.convert.write_release`,
so downstream stages read them like a bulk mirror.

lsdb is an optional dependency (``pip install 'skysift[hats]'``); it is imported only here.
:func:`write_hats_catalog` turns DR files into such a catalog (tests, and users who want one).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from skysift.io import InputError
from skysift.layout import FILTER_IDS, LIST_COLUMNS, read_dr_files
from skysift.sources.base import LightCurveSource, Preparation, converted_parent, requested_fields
from skysift.sources.convert import write_release
from skysift.sources.local import verify_batch
from skysift.sources.settings import SourceSettings

__all__ = [
    "KEY_COLUMNS",
    "import_lsdb",
    "search_filter",
    "query_hats",
    "fetch_hats",
    "write_hats_catalog",
    "SOURCE",
]

log = logging.getLogger(__name__)

#: Per-light-curve columns read from the catalog besides the nested ``lightcurve``.
KEY_COLUMNS: tuple[str, ...] = ("objectid", "filterid", "fieldid", "rcid", "objra", "objdec", "nepochs")


def import_lsdb():
    """Import lsdb, or say how to install the optional extra."""
    try:
        import lsdb
    except ImportError as exc:
        raise InputError(
            "HATS catalogs need lsdb: pip install 'skysift[hats]' (or pip install lsdb)"
        ) from exc
    return lsdb


def storage_options_for(path: str) -> dict | None:
    """Anonymous access for object-store URLs (IRSA's bucket is public); nothing for local paths."""
    return {"anon": True} if str(path).startswith(("s3://", "gs://")) else None


def search_filter(region: Mapping | None):
    """An lsdb search filter from ``{cone: {ra, dec, radius_arcsec}}``, ``{box: {ra, dec}}`` or ``{polygon}``."""
    lsdb = import_lsdb()
    region = {k: v for k, v in (region or {}).items() if v}
    if len(region) > 1:
        raise InputError(f"fetch.hats: set one of cone, box, polygon, not {sorted(region)}")
    if "cone" in region:
        c = region["cone"]
        return lsdb.ConeSearch(float(c["ra"]), float(c["dec"]), float(c["radius_arcsec"]))
    if "box" in region:
        b = region["box"]
        return lsdb.BoxSearch(ra=tuple(map(float, b["ra"])), dec=tuple(map(float, b["dec"])))
    if "polygon" in region:
        return lsdb.PolygonSearch([(float(ra), float(dec)) for ra, dec in region["polygon"]])
    return None


def query_hats(
    path: str,
    *,
    region: Mapping | None = None,
    fields: Iterable[int] | None = None,
    filters: Iterable[str] | None = None,
    min_nepochs: int = 0,
    lightcurve_column: str = "lightcurve",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the selected light curves; return (epochs in EPOCH_COLUMNS, positions indexed by objectid)."""
    lsdb = import_lsdb()
    row_filters = []
    if fields:
        row_filters.append(["fieldid", "in", sorted(int(f) for f in fields)])
    if filters:
        row_filters.append(["filterid", "in", sorted({FILTER_IDS[f] for f in filters})])
    if min_nepochs:
        row_filters.append(["nepochs", ">=", int(min_nepochs)])
    try:
        catalog = lsdb.open_catalog(
            path,
            columns=[*KEY_COLUMNS, lightcurve_column],
            search_filter=search_filter(region),
            filters=row_filters or None,
            error_empty_filter=False,
            storage_options=storage_options_for(path),
        )
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: cannot read the HATS catalog (fetch.hats.path): {exc}") from exc
    try:
        df = catalog.compute()
    except ValueError as exc:
        # lsdb 0.11 cannot concatenate partitions that the row filters left empty
        if "empty" not in str(exc):
            raise
        log.info("%s: every partition is empty after the row filters (%s)", path, exc)
        df = pd.DataFrame(columns=[*KEY_COLUMNS, lightcurve_column])
    df = df.reset_index(drop=True)
    log.info("%s: %d light curves selected (filters %s, region %s)", path, len(df), row_filters, region)
    flat = pd.DataFrame(df[lightcurve_column].nest.to_flat()) if len(df) else pd.DataFrame()
    missing = [c for c in LIST_COLUMNS if c not in flat.columns and c != "clrcoeff"] if len(df) else []
    if missing:
        raise InputError(f"{path}: nested column {lightcurve_column!r} lacks {missing}")
    rows = flat.index.to_numpy() if len(df) else np.empty(0, np.int64)

    def per_epoch(column: str, dtype) -> np.ndarray:
        return df[column].to_numpy(dtype)[rows]

    epochs = pd.DataFrame(
        {
            "objectid": per_epoch("objectid", np.int64),
            "filterid": per_epoch("filterid", np.int8),
            "fieldid": per_epoch("fieldid", np.int16),
            "rcid": per_epoch("rcid", np.int8),
            "hmjd": flat["hmjd"].to_numpy(np.float64) if len(df) else np.empty(0),
        }
    )
    for column, dtype in (
        ("mag", np.float32),
        ("magerr", np.float32),
        ("clrcoeff", np.float32),
        ("catflags", np.int32),
    ):
        if len(df) and column in flat:
            epochs[column] = flat[column].to_numpy(dtype, na_value=np.nan if dtype is np.float32 else 0)
        else:
            epochs[column] = np.full(len(epochs), np.nan if dtype is np.float32 else 0, dtype)
    positions = pd.DataFrame(
        {
            "objra": df["objra"].to_numpy(np.float64) if len(df) else np.empty(0),
            "objdec": df["objdec"].to_numpy(np.float64) if len(df) else np.empty(0),
        },
        index=pd.Index(
            df["objectid"].to_numpy(np.int64) if len(df) else np.empty(0, np.int64), name="objectid"
        ),
    )
    return epochs, positions


def fetch_hats(
    path: str,
    dr: str,
    release_root: str | Path,
    *,
    region: Mapping | None = None,
    fields: Iterable[int] | None = None,
    filters: Iterable[str] | None = None,
    min_nepochs: int = 0,
) -> list[Path]:
    """Read light curves from a HATS catalog and write them as a DR release (files + checksum.md5)."""
    path = str(path).format(dr=dr)
    epochs, positions = query_hats(
        path, region=region, fields=fields, filters=filters, min_nepochs=min_nepochs
    )
    if len(epochs) == 0:
        raise InputError(
            f"{path}: no light curves in the selection (fetch.hats region, fetch.fields {list(fields or [])}, "
            f"fetch.filters, fetch.hats.min_nepochs={min_nepochs})"
        )
    return write_release(epochs, release_root, dr, positions=positions)


def write_hats_catalog(
    files: Iterable[str | Path],
    path: str | Path,
    *,
    lightcurve_column: str = "lightcurve",
    margin_arcsec: float | None = 5.0,
) -> Path:
    """Write DR files as a HATS catalog with a nested light-curve column (the layout IRSA publishes).

    ``margin_arcsec`` sizes the margin cache (for cross-matches at partition edges); None skips it,
    which saves lsdb's ~10 s JIT compilation where no margin is needed.
    """
    lsdb = import_lsdb()
    import nested_pandas as npd

    table = read_dr_files(files)
    df = table.to_pandas(types_mapper=pd.ArrowDtype)
    nested = npd.NestedFrame(df).nest_lists(columns=list(LIST_COLUMNS), name=lightcurve_column)
    catalog = lsdb.from_dataframe(
        nested, ra_column="objra", dec_column="objdec", margin_threshold=margin_arcsec
    )
    catalog.write_catalog(str(path))
    log.info("%s: HATS catalog of %d light curves written", path, len(df))
    return Path(path)


# --------------------------------------------------------------------------------------------------
# the source protocol (skysift.sources.base)


def hats_fields(settings: SourceSettings) -> list[int]:
    """fetch.fields: required, since the catalog is not opened while the workflow is planned."""
    if not settings.fetch.hats.path:
        raise InputError(
            "source is 'hats' but fetch.hats.path is not set: the HATS catalog's directory or URL"
        )
    return requested_fields(
        settings,
        "set the ZTF fields to keep (only those become batches, and the catalog is not opened while the "
        "workflow is planned)",
    )


def prepare_selection(settings: SourceSettings, release_root: Path) -> list[Path]:
    """Read fetch.hats' region of fetch.fields and fetch.filters from the catalog into a DR tree."""
    fetch = settings.fetch
    return fetch_hats(
        fetch.hats.path,
        settings.dr,
        release_root,
        region=fetch.hats.region(),
        fields=hats_fields(settings),
        filters=fetch.filters or None,
        min_nepochs=fetch.hats.min_nepochs,
    )


SOURCE = LightCurveSource(
    name="hats",
    preparation=Preparation.CONVERT,
    online=True,
    release_keys=("fetch.hats", "fetch.fields", "fetch.filters"),
    batch_keys=(),
    fields=hats_fields,
    release_parent=converted_parent,
    fetch_batch=verify_batch,
    prepare=prepare_selection,
    prepare_rule="query_hats",
)
