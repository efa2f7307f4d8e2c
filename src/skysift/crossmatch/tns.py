"""The ``tns`` backend: TNS's bulk public-objects CSV, downloaded with a bot API key, matched locally.

TNS asks users to cross-match against ``tns_public_objects.csv.zip`` rather than query per
object. The file is fetched with a POST carrying ``api_key`` (read from the environment variable
named by ``crossmatch.tns.api_key_env``, never from the config, never logged or written) and a
``User-Agent: tns_marker{"tns_id": ..., "type": "bot", "name": ...}`` header. The zip is cached
and re-downloaded only when older than ``max_age_hours``. Its first line is a timestamp; the
CSV header follows (objid, name_prefix, name, ra, declination, redshift, typeid, type, ...,
discoverydate, ...). :func:`download_tns_catalog` writes it as parquet for the local matcher.
"""

from __future__ import annotations

import json
import logging
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from skysift.io import InputError, atomic_path, write_parquet

__all__ = ["TNSSettings", "TNSError", "download_tns_catalog", "read_tns_csv_zip", "tns_user_agent"]

log = logging.getLogger(__name__)

DEFAULT_URL = "https://www.wis-tns.org/system/files/tns_public_objects/tns_public_objects.csv.zip"
ZIP_NAME = "tns_public_objects.csv.zip"


class TNSError(RuntimeError):
    """The TNS download failed (after retries) or was refused."""


@dataclass(frozen=True)
class TNSSettings:
    """Where and how to fetch the TNS bulk CSV (the key itself lives in the environment)."""

    url: str = DEFAULT_URL
    api_key_env: str = "TNS_API_KEY"
    bot_id: int | None = None
    bot_name: str = "skysift"
    max_age_hours: float = 24.0
    timeout: float = 300.0
    max_retries: int = 4
    backoff_seconds: float = 10.0


def tns_user_agent(bot_id: int, bot_name: str) -> str:
    """The User-Agent TNS requires from bots: tns_marker{"tns_id": ID, "type": "bot", "name": NAME}."""
    return "tns_marker" + json.dumps({"tns_id": int(bot_id), "type": "bot", "name": bot_name})


def _fetch_zip(settings: TNSSettings, dest: Path, sleep: Callable[[float], None]) -> None:
    """POST for the zip with retries on 5xx/429/timeouts; write it atomically to ``dest``."""
    import requests

    key = os.environ.get(settings.api_key_env, "").strip()
    if not key:
        raise InputError(
            f"environment variable {settings.api_key_env} (crossmatch.tns.api_key_env) is not set: "
            "export your TNS bot API key there (never put it in the config)"
        )
    if settings.bot_id is None:
        raise InputError("crossmatch.tns.bot_id is not set: TNS needs the id of your bot in the User-Agent")
    headers = {"User-Agent": tns_user_agent(settings.bot_id, settings.bot_name)}
    for attempt in range(settings.max_retries + 1):
        problem = ""
        try:
            with requests.post(
                settings.url, data={"api_key": key}, headers=headers, timeout=settings.timeout, stream=True
            ) as response:
                if response.status_code in (401, 403):
                    raise TNSError(
                        f"TNS at {settings.url} refused the download (HTTP {response.status_code}): check "
                        f"the key in ${settings.api_key_env} and crossmatch.tns.bot_id/bot_name"
                    )
                if response.status_code < 400:
                    with atomic_path(dest) as tmp, open(tmp, "wb") as fh:
                        for block in response.iter_content(1 << 20):
                            fh.write(block)
                    return
                problem = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    raise TNSError(f"TNS at {settings.url} answered {problem}")
        except (requests.Timeout, requests.ConnectionError) as exc:
            problem = type(exc).__name__  # the message may echo request details: keep it short
        if attempt == settings.max_retries:
            raise TNSError(f"TNS download from {settings.url} failed {attempt + 1} times (last: {problem})")
        wait = settings.backoff_seconds * 2**attempt
        log.warning(
            "TNS download: %s, retry %d/%d in %.1f s", problem, attempt + 1, settings.max_retries, wait
        )
        sleep(wait)


def read_tns_csv_zip(path: str | Path) -> pd.DataFrame:
    """Read the TNS public-objects zip: skip the timestamp line, keep every column."""
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


def download_tns_catalog(
    settings: TNSSettings,
    cache_dir: str | Path,
    output: str | Path,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> pd.DataFrame:
    """Fetch (or reuse a fresh cached) TNS zip and write it as parquet to ``output``."""
    zip_path = Path(cache_dir) / ZIP_NAME
    age_h = (time.time() - zip_path.stat().st_mtime) / 3600 if zip_path.exists() else None
    if age_h is not None and age_h < settings.max_age_hours:
        log.info("TNS: using cached %s (%.1f h old < %.1f h)", zip_path, age_h, settings.max_age_hours)
    else:
        log.info("TNS: downloading %s (cache %s)", settings.url, "stale" if age_h is not None else "empty")
        _fetch_zip(settings, zip_path, sleep)
    df = read_tns_csv_zip(zip_path)
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype("string").fillna("")
    write_parquet(pa.Table.from_pandas(df, preserve_index=False), output)
    return df
