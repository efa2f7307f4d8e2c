"""ZTF alert object names (ZTF18abcdefg) of candidates, by cone search in the ALeRCE broker's public API.

Data-release objectids carry no alert name, so the ALeRCE and Fink links of a candidate need one
looked up by position. ALeRCE's ZTF API answers ``GET <url>/objects?ra=&dec=&radius=`` (degrees,
radius in arcsec) with JSON ``{"items": [{"oid": "ZTF18...", "meanra": .., "meandec": .., ...}], ...}``;
the nearest item within the radius names the candidate. Every request goes through
:class:`skysift.net.HttpClient` (rate limit, retries); answers are cached in a JSON file keyed by
position and radius, so a rerun asks the broker only about new candidates.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skysift.io import InputError, atomic_path
from skysift.net import FetchError, HttpClient, HttpSettings, settings_with_http

__all__ = ["ALERCE_API", "AlertNameSettings", "alert_name_links", "lookup_alert_names"]

logger = logging.getLogger(__name__)

#: ALeRCE's public ZTF API (config ``candidates.alert_lookup.url``).
ALERCE_API = "https://api.alerce.online/ztf/v1"


@dataclass(frozen=True)
class AlertNameSettings:
    """How to look up alert names: the API base URL, the cone radius and the HTTP behaviour."""

    url: str
    radius_arcsec: float  # ZTF alert positions scatter by well under an arcsec
    http: HttpSettings

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> AlertNameSettings:
        """From the validated ``candidates.alert_lookup`` section (``enabled`` is the workflow's)."""
        return settings_with_http(cls, section, "candidates.alert_lookup")


def _key(ra: float, dec: float, radius: float) -> str:
    """The cache key of one cone (positions to 1e-6 deg, far below the cone)."""
    return f"{ra:.6f},{dec:+.6f},{radius:g}"


def _sep_arcsec(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Angular separation (haversine) in arcsec."""
    r1, d1, r2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    h = math.sin((d2 - d1) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin((r2 - r1) / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(h)))) * 3600


def _cone(client: HttpClient, settings: AlertNameSettings, ra: float, dec: float) -> list[dict]:
    """ALeRCE's objects within ``settings.radius_arcsec`` of (ra, dec): [{oid, meanra, meandec}]."""
    url = settings.url.rstrip("/") + "/objects"
    params = {
        "ra": f"{ra:.7f}",
        "dec": f"{dec:.7f}",
        "radius": f"{settings.radius_arcsec:g}",
        "page_size": 20,
    }
    response = client.request("GET", url, params=params)
    if response.status_code != 200:
        raise FetchError(
            f"ALeRCE cone search {response.url} answered HTTP {response.status_code}: {response.text[:200]}"
        )
    try:
        items = response.json()["items"]
        return [
            {"oid": str(i["oid"]), "meanra": float(i["meanra"]), "meandec": float(i["meandec"])}
            for i in items
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise FetchError(
            f"ALeRCE cone search {response.url} did not answer the documented JSON (items with oid, meanra, "
            f"meandec): {exc!r}; check candidates.alert_lookup.url"
        ) from exc


def lookup_alert_names(
    candidates: pd.DataFrame,
    out_path: str | Path,
    settings: AlertNameSettings,
    *,
    cache_path: str | Path,
    client: HttpClient | None = None,
) -> pd.DataFrame:
    """Alert names of ``candidates`` (objectid, ra, dec) by cone search; writes ``out_path`` (CSV) atomically.

    The table has columns objectid, ztf_name (empty where no alert object lies in the cone) and
    ztf_sep (arcsec). Cones already in the JSON cache ``cache_path`` are not asked again.
    """
    missing = [c for c in ("objectid", "ra", "dec") if c not in candidates.columns]
    if missing:
        raise InputError(f"candidate table lacks column(s) {missing} needed for the alert-name cone search")
    client = client or HttpClient(settings.http, config_key="candidates.alert_lookup")
    cache_path = Path(cache_path)
    cache: dict[str, list[dict]] = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    rows = candidates.loc[:, ["objectid", "ra", "dec"]].drop_duplicates("objectid")
    names, seps, asked = [], [], 0
    try:
        for ra, dec in zip(rows["ra"].to_numpy(float), rows["dec"].to_numpy(float), strict=True):
            if not (np.isfinite(ra) and np.isfinite(dec)):
                names.append(None)
                seps.append(np.nan)
                continue
            key = _key(ra, dec, settings.radius_arcsec)
            if key not in cache:
                cache[key] = _cone(client, settings, ra, dec)
                asked += 1
            best = min(
                ((_sep_arcsec(ra, dec, i["meanra"], i["meandec"]), i["oid"]) for i in cache[key]),
                default=(np.nan, None),
            )
            if best[1] is not None and best[0] > settings.radius_arcsec:
                best = (np.nan, None)
            seps.append(best[0])
            names.append(best[1])
    finally:  # keep what was learned even when the broker fails half-way
        with atomic_path(cache_path) as tmp:
            tmp.write_text(json.dumps(cache, sort_keys=True, indent=0))
    out = pd.DataFrame({"objectid": rows["objectid"].to_numpy(), "ztf_name": names, "ztf_sep": seps})
    with atomic_path(out_path) as tmp:
        out.to_csv(tmp, index=False)
    logger.info(
        "alert names: %d of %d candidates named (%d cones asked, %d cached)",
        out["ztf_name"].notna().sum(),
        len(out),
        asked,
        len(rows) - asked,
    )
    return out


def alert_name_links(ztf_name: str | None, template: str) -> str | None:
    """A broker link from a template with ``{ztf_name}`` (config ``candidates.links.*``); None without a name."""
    if ztf_name is None or (isinstance(ztf_name, float) and math.isnan(ztf_name)) or not str(ztf_name):
        return None
    return template.format(ztf_name=ztf_name)
