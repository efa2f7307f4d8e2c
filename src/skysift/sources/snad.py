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
from skysift.sources.convert import query_source
from skysift.sources.http import FetchError, HttpClient
from skysift.sources.query import QueryService

__all__ = ["SNAD", "query_snad", "snad_to_epochs", "fetch_snad", "SOURCE"]

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


def _ask(client: HttpClient, url: str, params, filters: list[str] | None) -> dict[int, dict]:
    """The objects of one request; SNAD's API takes no band, so objects of other bands are dropped here."""
    answer = {int(k): v for k, v in _parse(client.get(url, params=params), url).items()}
    if not filters:
        return answer
    drop = set(FILTER_IDS.values()) - {FILTER_IDS[f] for f in filters}  # an unknown band is named later
    return {oid: obj for oid, obj in answer.items() if FILTER_IDS.get(obj["meta"].get("filter")) not in drop}


def _ask_ids(client: HttpClient, base_url: str, dr: str, ids: np.ndarray, filters: list[str] | None) -> dict:
    """The objects of one ``oid`` request."""
    url = f"{base_url.rstrip('/')}/api/v3/data/{dr}/oid/full/json"
    return _ask(client, url, [("oid", str(i)) for i in ids], filters)


def _ask_cone(client: HttpClient, base_url: str, dr: str, cone, filters: list[str] | None) -> dict:
    """The objects of one ``circle`` request."""
    url = f"{base_url.rstrip('/')}/api/v3/data/{dr}/circle/full/json"
    params = {"ra": f"{cone.ra:.7f}", "dec": f"{cone.dec:.7f}", "radius_arcsec": cone.radius_arcsec}
    return _ask(client, url, params, filters)


def _check_cone(cone) -> None:
    """SNAD answers cones of less than 60" only."""
    if not 0 < cone.radius_arcsec < _MAX_RADIUS_ARCSEC:
        raise ValueError(f"cone ({cone.ra}, {cone.dec}): SNAD needs 0 < radius_arcsec < 60")


def _combine(answers: list[dict[int, dict]]) -> dict[int, dict]:
    """The answers merged: {objectid: {"meta": ..., "lc": [...]}}."""
    out: dict[int, dict] = {}
    for answer in answers:
        out.update(answer)
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


SNAD = QueryService("snad", "objects", _ask_ids, _ask_cone, _check_cone, _combine, snad_to_epochs)
#: Run oid and/or cone queries; return {objectid: {"meta": ..., "lc": [...]}} (merged).
query_snad = SNAD.query
#: Query the SNAD API and write the answer as a DR release (files + checksum.md5).
fetch_snad = SNAD.fetch


# --------------------------------------------------------------------------------------------------
# the source protocol (skysift.sources.base)


SOURCE = query_source("snad", "snad_url", fetch_snad)
