"""Backend ``tns``: TNS's bulk public-objects CSV, downloaded with a bot API key, matched like a local file.

TNS asks users to cross-match against ``tns_public_objects.csv.zip`` rather than query per
object. The file is fetched with a POST carrying ``api_key`` (read from the environment variable
named by ``crossmatch.tns.api_key_env``, never from the config, never logged or written) and a
``User-Agent: tns_marker{"tns_id": ..., "type": "bot", "name": ...}`` header, through
:class:`skysift.net.HttpClient` (the POST only reads, so it is retried like a GET). The zip is
cached and downloaded again only when older than ``max_age_hours``. Its first line is a time
stamp; the CSV header follows (objid, name_prefix, name, ra, declination, redshift, typeid, type,
..., discoverydate, ...). :func:`download_tns_catalog` writes it as parquet for the matcher.
"""

from __future__ import annotations

import logging
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from skysift import net
from skysift.crossmatch.base import Backend
from skysift.crossmatch.local import match_file
from skysift.io import InputError, atomic_path, write_parquet
from skysift.net import TNSError

__all__ = [
    "BACKEND",
    "TNSSettings",
    "TNSError",
    "download_tns_catalog",
    "read_tns_csv_zip",
    "run_download_tns",
]

log = logging.getLogger(__name__)

ZIP_NAME = "tns_public_objects.csv.zip"
_KEY = "crossmatch.tns"


@dataclass(frozen=True)
class TNSSettings(net.TNSBotSettings):
    """Where and how to fetch the TNS bulk CSV (the ``crossmatch.tns`` section; the key lives in the environment)."""

    max_age_hours: float

    config_key = _KEY


def _fetch_zip(settings: TNSSettings, dest: Path) -> None:
    """POST for the zip (retried on 5xx/429/timeouts/cut bodies); write it atomically to ``dest``."""
    key, client = settings.connect()

    def attempt() -> None:
        response = client.send("POST", settings.url, data={"api_key": key}, stream=True)
        with response:
            if response.status_code in (401, 403):
                raise TNSError(
                    f"TNS at {settings.url} refused the download (HTTP {response.status_code}): check "
                    f"the key in ${settings.api_key_env} and {_KEY}.bot_id/bot_name"
                )
            if response.status_code >= 400:
                raise TNSError(f"TNS at {settings.url} answered HTTP {response.status_code}")
            with atomic_path(dest) as tmp, open(tmp, "wb") as fh:
                net.copy_body(response, fh)

    try:
        client.run("POST", settings.url, attempt, idempotent=True)
    except TNSError:
        raise
    except net.FetchError as exc:
        raise TNSError(str(exc)) from None


def read_tns_csv_zip(path: str | Path) -> pd.DataFrame:
    """Read the TNS public-objects zip: skip the time-stamp line, keep every column."""
    with zipfile.ZipFile(path) as zf:
        members = [m for m in zf.namelist() if m.endswith(".csv")]
        if not members:
            raise InputError(f"{path}: no .csv inside the TNS zip")
        with zf.open(members[0]) as fh:
            stamp = fh.readline().decode("utf-8", "replace").strip()
            df = pd.read_csv(fh, low_memory=False)
    missing = [c for c in ("name", "ra", "declination", "type") if c not in df.columns]
    if missing:
        raise InputError(f"{path}: TNS CSV lacks column(s) {missing}; columns are {list(df.columns)}")
    log.info("%s: %d TNS objects (file time stamp %s)", path, len(df), stamp)
    return df


def download_tns_catalog(settings: TNSSettings, cache_dir: str | Path, output: str | Path) -> pd.DataFrame:
    """Fetch (or reuse a fresh cached) TNS zip into ``cache_dir`` and write it as parquet to ``output``."""
    zip_path = Path(cache_dir) / ZIP_NAME
    age_h = (time.time() - zip_path.stat().st_mtime) / 3600 if zip_path.exists() else None
    if age_h is not None and age_h < settings.max_age_hours:
        log.info("TNS: using cached %s (%.1f h old < %.1f h)", zip_path, age_h, settings.max_age_hours)
    else:
        log.info("TNS: downloading %s (cache %s)", settings.url, "stale" if age_h is not None else "empty")
        _fetch_zip(settings, zip_path)
    df = read_tns_csv_zip(zip_path)
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype("string").fillna("")
    write_parquet(pa.Table.from_pandas(df, preserve_index=False), output)
    return df


def run_download_tns(section: Mapping, cache_dir: str | Path, output: str | Path) -> pd.DataFrame:
    """The workflow's TNS download: settings from the validated ``crossmatch.tns`` section, zip under ``cache_dir/tns``."""
    return download_tns_catalog(TNSSettings.from_config(section), Path(cache_dir) / "tns", output)


BACKEND = Backend(
    name="tns",
    match=match_file,
    requires={
        "path": "a tns catalog needs the downloaded catalog (parquet, written by download_tns_catalog)"
    },
    columns={"id_column": "name", "ra_column": "ra", "dec_column": "declination", "type_column": "type"},
)
