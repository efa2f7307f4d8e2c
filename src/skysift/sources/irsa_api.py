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
from skysift.sources.convert import query_source
from skysift.sources.http import FetchError, HttpClient
from skysift.sources.query import QueryService

__all__ = ["CSV_COLUMNS", "IRSA_API", "query_irsa_api", "irsa_csv_to_epochs", "fetch_irsa_api", "SOURCE"]

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


def _common(dr: str, filters: list[str] | None) -> dict[str, str]:
    """The parameters of every request: the release, CSV, and the bands asked for."""
    common = {"COLLECTION": f"ztf_{dr}", "FORMAT": "csv"}
    if filters:
        common["BANDNAME"] = ",".join(sorted({f[-1] for f in filters}))
    return common


def _ask_ids(
    client: HttpClient, url: str, dr: str, ids: np.ndarray, filters: list[str] | None
) -> pd.DataFrame:
    """The CSV rows of one ``ID=`` request."""
    return _parse_csv(client.get(url, params={"ID": ",".join(map(str, ids)), **_common(dr, filters)}), url)


def _ask_cone(client: HttpClient, url: str, dr: str, cone, filters: list[str] | None) -> pd.DataFrame:
    """The CSV rows of one ``POS=CIRCLE`` request."""
    pos = f"CIRCLE {cone.ra:.7f} {cone.dec:.7f} {cone.radius_arcsec / 3600.0:.7f}"
    return _parse_csv(client.get(url, params={"POS": pos, **_common(dr, filters)}), url)


def _check_cone(cone) -> None:
    """IRSA answers cones up to 600" only."""
    if cone.radius_arcsec / 3600.0 > _MAX_RADIUS_DEG:
        raise ValueError(f'cone ({cone.ra}, {cone.dec}): radius {cone.radius_arcsec}" exceeds IRSA\'s 600"')


def _combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The answers' rows, each epoch once."""
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


IRSA_API = QueryService(
    "irsa_api",
    "epochs",
    _ask_ids,
    _ask_cone,
    _check_cone,
    _combine,
    lambda rows: (irsa_csv_to_epochs(rows), None),
)
#: Run ID and/or cone queries and return the concatenated CSV rows (duplicates removed).
query_irsa_api = IRSA_API.query
#: Query nph_light_curves and write the answer as a DR release (files + checksum.md5).
fetch_irsa_api = IRSA_API.fetch


# --------------------------------------------------------------------------------------------------
# the source protocol (skysift.sources.base)


SOURCE = query_source("irsa_api", "api_url", fetch_irsa_api)
