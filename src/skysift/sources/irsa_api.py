"""IRSA's ZTF light-curve API (``nph_light_curves``): ID or cone queries, converted to the DR layout.

Queries: ``ID=oid1,oid2,...`` (``batch_size`` ids per request) or ``POS=CIRCLE ra dec r`` (one
cone per request, r <= 0.1667 deg), always with ``COLLECTION=ztf_<dr>`` and ``FORMAT=csv``.
The CSV columns are documented by IRSA: oid, expid, hjd, mjd, mag, magerr, catflags,
filtercode, ra, dec, chi, sharp, filefracday, field, ccdid, qid, limitmag, magzp, magzprms,
clrcoeff, clrcounc, exptime, airmass, programid. ``oid``, ``expid`` and ``filefracday`` are read
as int64 (they overflow float64 precision and confuse generic table readers).

Conversion to DR rows: ``hmjd = hjd - 2400000.5`` (``hjd`` is the heliocentric *Julian* date;
the DR files store heliocentric MJD). Where ``hjd`` is missing the epoch falls back to ``mjd``
(geocentric, off by up to ~8 min) and the number of such epochs is logged as a warning.
``rcid = 4 (ccdid - 1) + (qid - 1)``; the object position is the median of its epoch positions
(the DR's ``objra/objdec`` come from the reference image, so they differ by ~0.1").
IRSA asks bulk users to download the bulk files (source ``irsa_bulk``) instead.
"""

from __future__ import annotations

import io
import logging

import numpy as np
import pandas as pd

from skysift.layout import FILTER_IDS
from skysift.sources.convert import query_fetcher, query_source
from skysift.sources.http import FetchError, HttpClient, HttpConfig

__all__ = ["CSV_COLUMNS", "query_irsa_api", "irsa_csv_to_epochs", "fetch_irsa_api", "SOURCE"]

log = logging.getLogger(__name__)

#: Columns of the nph_light_curves CSV, as IRSA documents them.
CSV_COLUMNS = [
    "oid",
    "expid",
    "hjd",
    "mjd",
    "mag",
    "magerr",
    "catflags",
    "filtercode",
    "ra",
    "dec",
    "chi",
    "sharp",
    "filefracday",
    "field",
    "ccdid",
    "qid",
    "limitmag",
    "magzp",
    "magzprms",
    "clrcoeff",
    "clrcounc",
    "exptime",
    "airmass",
    "programid",
]
_INT64 = {"oid": "int64", "expid": "int64", "filefracday": "int64"}
_MAX_RADIUS_DEG = 0.1667
JD_MJD_OFFSET = 2400000.5


def _parse_csv(body: bytes, url: str) -> pd.DataFrame:
    """Parse one CSV answer; a non-CSV answer (an error page) raises FetchError quoting its start."""
    try:
        df = pd.read_csv(io.BytesIO(body), dtype=_INT64)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FetchError(f"{url}: answer is not the light-curve CSV ({exc}): {body[:200]!r}") from exc
    missing = [
        c
        for c in ("oid", "hjd", "mjd", "mag", "magerr", "filtercode", "field", "ccdid", "qid")
        if c not in df
    ]
    if missing:
        raise FetchError(f"{url}: answer lacks column(s) {missing}; it starts with {body[:200]!r}")
    return df


def query_irsa_api(
    url: str,
    dr: str,
    *,
    ids=None,
    cones: pd.DataFrame | None = None,
    filters: list[str] | None = None,
    batch_size: int = 50,
    http: HttpClient | HttpConfig | dict | None = None,
) -> pd.DataFrame:
    """Run ID and/or cone queries and return the concatenated CSV rows (duplicates removed)."""
    client = http if isinstance(http, HttpClient) else HttpClient(http)
    common = {"COLLECTION": f"ztf_{dr}", "FORMAT": "csv"}
    if filters:
        common["BANDNAME"] = ",".join(sorted({f[-1] for f in filters}))
    queries: list[dict] = []
    if ids is not None and len(ids):
        ids = np.asarray(ids, dtype=np.int64)
        for start in range(0, len(ids), batch_size):
            queries.append({"ID": ",".join(map(str, ids[start : start + batch_size]))})
    if cones is not None:
        for row in cones.itertuples(index=False):
            radius = row.radius_arcsec / 3600.0
            if radius > _MAX_RADIUS_DEG:
                raise ValueError(
                    f'cone ({row.ra}, {row.dec}): radius {row.radius_arcsec}" exceeds IRSA\'s 600"'
                )
            queries.append({"POS": f"CIRCLE {row.ra:.7f} {row.dec:.7f} {radius:.7f}"})
    frames = []
    for i, query in enumerate(queries, 1):
        frames.append(_parse_csv(client.get(url, params={**query, **common}), url))
        log.info("nph_light_curves query %d/%d: %d epochs", i, len(queries), len(frames[-1]))
    if not frames:
        raise ValueError("irsa_api: nothing to query; set fetch.ids_file or fetch.cones_file")
    df = pd.concat(frames, ignore_index=True)
    return df.drop_duplicates(subset=["oid", "expid", "filtercode"], ignore_index=True)


def irsa_csv_to_epochs(df: pd.DataFrame) -> pd.DataFrame:
    """Per-epoch DR rows (see skysift.sources.convert.EPOCH_COLUMNS) from nph_light_curves CSV rows."""
    hjd = df["hjd"].to_numpy(np.float64)
    missing = ~np.isfinite(hjd)
    if missing.any():
        log.warning(
            "%d of %d epochs have no hjd; their time is the geocentric mjd (DR times are heliocentric)",
            int(missing.sum()),
            len(df),
        )
    hmjd = np.where(missing, df["mjd"].to_numpy(np.float64), hjd - JD_MJD_OFFSET)
    filterid = df["filtercode"].map(FILTER_IDS)
    if filterid.isna().any():
        raise FetchError(f"unknown filtercode(s) {sorted(set(df['filtercode'][filterid.isna()]))}")
    ccdid = df["ccdid"].to_numpy(np.int64)
    qid = df["qid"].to_numpy(np.int64)
    clrcoeff = df.get("clrcoeff", np.nan)
    catflags = df.get("catflags", 0)
    return pd.DataFrame(
        {
            "objectid": df["oid"].to_numpy(np.int64),
            "filterid": filterid.to_numpy(np.int8),
            "fieldid": df["field"].to_numpy(np.int16),
            "rcid": (4 * (ccdid - 1) + (qid - 1)).astype(np.int8),
            "hmjd": hmjd,
            "mag": df["mag"].to_numpy(np.float32),
            "magerr": df["magerr"].to_numpy(np.float32),
            "clrcoeff": np.asarray(clrcoeff, dtype=np.float32) * np.ones(len(df), np.float32),
            "catflags": np.asarray(catflags, dtype=np.int32) * np.ones(len(df), np.int32),
            "ra": df["ra"].to_numpy(np.float64),
            "dec": df["dec"].to_numpy(np.float64),
        }
    )


#: Query nph_light_curves and write the answer as a DR release (files + checksum.md5).
fetch_irsa_api = query_fetcher(
    query_irsa_api, lambda rows: (irsa_csv_to_epochs(rows), None), "nph_light_curves"
)


# --------------------------------------------------------------------------------------------------
# the source protocol (skysift.sources.base)


SOURCE = query_source("irsa_api", "api_url", fetch_irsa_api)
