"""The SNAD ZTF DR API (``db.ztf.snad.space``): object-id or cone queries, converted to the DR layout.

Endpoints (SNAD's ``snad-ztf-db`` server)::

    {base}/api/v3/data/{dr}/oid/full/json?oid=A&oid=B...            (oid may repeat)
    {base}/api/v3/data/{dr}/circle/full/json?ra=&dec=&radius_arcsec= (radius < 60")

Reply: ``{oid: {"meta": {"nobs", "ngoodobs", "duration", "filter": "zg|zr|zi", "fieldid",
"rcid", "coord": {"ra", "dec"}, ...}, "lc": [{"mjd", "mag", "magerr", "clrcoeff"}, ...]}}``.

What differs from the DR files, by the service's design: SNAD serves only epochs with
``catflags == 0`` and ``magerr > 0`` (so every converted epoch has catflags 0, and objects without
such epochs are absent), and its ``mjd`` is the DR's heliocentric ``hmjd`` (the database is loaded
from the DR files), so times are taken as they come.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

from skysift.layout import FILTER_IDS
from skysift.sources.convert import query_fetcher, query_source
from skysift.sources.http import FetchError, HttpClient, HttpConfig

__all__ = ["query_snad", "snad_to_epochs", "fetch_snad", "SOURCE"]

log = logging.getLogger(__name__)

_MAX_RADIUS_ARCSEC = 60.0


def _parse(body: bytes, url: str) -> dict:
    """Decode one JSON answer; anything but an object keyed by oid raises FetchError."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise FetchError(f"{url}: answer is not JSON ({exc}): {body[:200]!r}") from exc
    if not isinstance(data, dict):
        raise FetchError(f"{url}: expected a JSON object keyed by oid, got {type(data).__name__}")
    return data


def query_snad(
    base_url: str,
    dr: str,
    *,
    ids=None,
    cones: pd.DataFrame | None = None,
    filters: list[str] | None = None,
    batch_size: int = 50,
    http: HttpClient | HttpConfig | dict | None = None,
) -> dict[int, dict]:
    """Run oid and/or cone queries; return {objectid: {"meta": ..., "lc": [...]}} (merged).

    SNAD's API takes no band, so the objects of bands other than ``filters`` (when given) are dropped here.
    """
    client = http if isinstance(http, HttpClient) else HttpClient(http)
    api = f"{base_url.rstrip('/')}/api/v3/data/{dr}"
    out: dict[int, dict] = {}
    n = 0
    if ids is not None and len(ids):
        ids = np.asarray(ids, dtype=np.int64)
        url = f"{api}/oid/full/json"
        for start in range(0, len(ids), batch_size):
            params = [("oid", str(i)) for i in ids[start : start + batch_size]]
            out.update({int(k): v for k, v in _parse(client.get(url, params=params), url).items()})
            n += 1
    if cones is not None:
        url = f"{api}/circle/full/json"
        for row in cones.itertuples(index=False):
            if not 0 < row.radius_arcsec < _MAX_RADIUS_ARCSEC:
                raise ValueError(f"cone ({row.ra}, {row.dec}): SNAD needs 0 < radius_arcsec < 60")
            params = {"ra": f"{row.ra:.7f}", "dec": f"{row.dec:.7f}", "radius_arcsec": row.radius_arcsec}
            out.update({int(k): v for k, v in _parse(client.get(url, params=params), url).items()})
            n += 1
    if n == 0:
        raise ValueError("snad: nothing to query; set fetch.ids_file or fetch.cones_file")
    log.info("SNAD %s: %d queries, %d objects", dr, n, len(out))
    if filters:
        drop = set(FILTER_IDS.values()) - {FILTER_IDS[f] for f in filters}  # an unknown band is named later
        out = {oid: obj for oid, obj in out.items() if FILTER_IDS.get(obj["meta"].get("filter")) not in drop}
    return out


def snad_to_epochs(data: dict[int, dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-epoch DR rows and per-object positions (index objectid: objra, objdec) from SNAD objects."""
    cols: dict[str, list] = {k: [] for k in ("objectid", "filterid", "fieldid", "rcid")}
    times, mags, errs, clr = [], [], [], []
    pos = {"objectid": [], "objra": [], "objdec": []}
    for oid, obj in data.items():
        meta, lc = obj["meta"], obj["lc"]
        try:
            filterid = FILTER_IDS[meta["filter"]]
        except KeyError as exc:
            raise FetchError(f"SNAD object {oid}: unknown filter {meta.get('filter')!r}") from exc
        n = len(lc)
        cols["objectid"].append(np.full(n, oid, np.int64))
        cols["filterid"].append(np.full(n, filterid, np.int8))
        cols["fieldid"].append(np.full(n, meta["fieldid"], np.int16))
        cols["rcid"].append(np.full(n, meta["rcid"], np.int8))
        times.append(np.array([p["mjd"] for p in lc], np.float64))
        mags.append(np.array([p["mag"] for p in lc], np.float32))
        errs.append(np.array([p["magerr"] for p in lc], np.float32))
        clr.append(np.array([p.get("clrcoeff", np.nan) for p in lc], np.float32))
        pos["objectid"].append(oid)
        pos["objra"].append(meta["coord"]["ra"])
        pos["objdec"].append(meta["coord"]["dec"])

    def cat(parts: list, dtype) -> np.ndarray:
        return np.concatenate(parts) if parts else np.empty(0, dtype)

    epochs = pd.DataFrame(
        {
            "objectid": cat(cols["objectid"], np.int64),
            "filterid": cat(cols["filterid"], np.int8),
            "fieldid": cat(cols["fieldid"], np.int16),
            "rcid": cat(cols["rcid"], np.int8),
            "hmjd": cat(times, np.float64),
            "mag": cat(mags, np.float32),
            "magerr": cat(errs, np.float32),
            "clrcoeff": cat(clr, np.float32),
        }
    )
    epochs["catflags"] = np.zeros(len(epochs), np.int32)
    positions = pd.DataFrame(pos).set_index("objectid")
    return epochs, positions


#: Query the SNAD API and write the answer as a DR release (files + checksum.md5).
fetch_snad = query_fetcher(query_snad, snad_to_epochs, "the SNAD API")


# --------------------------------------------------------------------------------------------------
# the source protocol (skysift.sources.base)


SOURCE = query_source("snad", "snad_url", fetch_snad)
