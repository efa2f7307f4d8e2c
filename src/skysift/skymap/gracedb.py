"""Sky maps by GraceDB superevent id: ``skymap.maps.<name>: S190425z`` downloads the map once.

GraceDB's REST API lists a superevent's files at ``GET <url>/superevents/<id>/files/`` (JSON: file
name -> download URL, versioned names such as ``bayestar.multiorder.fits,0`` beside the latest
``bayestar.multiorder.fits``); the file itself is ``GET <url>/superevents/<id>/files/<name>``. Public
superevents need no login. The download goes through :class:`skysift.net.HttpClient` (retries,
rate limit) into a temporary file renamed into place, so a cut download never looks complete.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skysift.io import InputError, atomic_path
from skysift.net import FetchError, HttpClient, HttpSettings, copy_body, settings_with_http

__all__ = [
    "GRACEDB_API",
    "SUPEREVENT",
    "GraceDBSettings",
    "download_superevent_skymap",
    "is_superevent",
    "run_download_skymap",
    "skymap_file",
]

log = logging.getLogger(__name__)

#: GraceDB's public REST API (config ``skymap.gracedb.url``).
GRACEDB_API = "https://gracedb.ligo.org/api"
#: A superevent id: S (production), MS (mock) or TS (test), the UTC date YYMMDD and a letter suffix.
SUPEREVENT = re.compile(r"^[MT]?S\d{6}[a-z]+$")


@dataclass(frozen=True)
class GraceDBSettings:
    """Where GraceDB is, which sky-map file of a superevent to take, and how to talk to it."""

    url: str
    file: str
    http: HttpSettings

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> GraceDBSettings:
        """From the validated ``skymap.gracedb`` section."""
        return settings_with_http(cls, section, "skymap.gracedb")


def is_superevent(value: str) -> bool:
    """True when a ``skymap.maps`` value is a GraceDB superevent id rather than a file path."""
    return bool(SUPEREVENT.match(str(value)))


def skymap_file(skymap: Mapping[str, Any], name: str) -> str:
    """The file of map ``name`` of a ``skymap`` section: its path, or where a superevent's download goes."""
    value = str(skymap["maps"][name])
    return f"resources/gracedb/{value}/{skymap['gracedb']['file']}" if is_superevent(value) else value


def download_superevent_skymap(
    superevent: str, out_path: str | Path, settings: GraceDBSettings, *, client: HttpClient | None = None
) -> Path:
    """Download ``settings.file`` of ``superevent`` to ``out_path`` (atomically); a file already there is kept."""
    out_path = Path(out_path)
    if not is_superevent(superevent):
        raise InputError(f"{superevent!r} is not a GraceDB superevent id (e.g. S190425z) in skymap.maps")
    if out_path.is_file():
        log.info("%s: already downloaded (%d bytes)", out_path, out_path.stat().st_size)
        return out_path
    client = client or HttpClient(settings.http, config_key="skymap.gracedb")
    base = f"{settings.url.rstrip('/')}/superevents/{superevent}/files/"
    listing = client.request("GET", base)
    if listing.status_code == 404:
        raise FetchError(
            f"GraceDB has no public superevent {superevent} ({base} answered 404): check skymap.maps"
        )
    if listing.status_code != 200:
        raise FetchError(f"GraceDB {base} answered HTTP {listing.status_code}: {listing.text[:200]}")
    try:
        files = dict(listing.json())
    except ValueError as exc:
        raise FetchError(f"GraceDB {base} did not answer a JSON file list; check skymap.gracedb.url") from exc
    if settings.file not in files:
        maps = sorted(n for n in files if n.endswith((".fits", ".fits.gz")) and "," not in n)
        raise FetchError(
            f"superevent {superevent} has no file {settings.file!r} (skymap.gracedb.file); its sky maps: {maps}"
        )
    url = str(files[settings.file])
    if not url.startswith(("http://", "https://")):
        url = base + settings.file
    with atomic_path(out_path) as tmp:

        def attempt() -> int:
            """One download attempt from the start (a cut body raises Retryable: the client retries)."""
            response = client.send("GET", url, stream=True)
            if response.status_code != 200:
                raise FetchError(f"GraceDB {url} answered HTTP {response.status_code}")
            with open(tmp, "wb") as fh:
                return copy_body(response, fh)

        size = client.run("GET", url, attempt)
    log.info("downloaded %s of %s: %d bytes to %s", settings.file, superevent, size, out_path)
    return out_path


def run_download_skymap(superevent: str, out_path: str | Path, section: Mapping[str, Any]) -> Path:
    """The local rule ``download_gracedb_skymap``: the configured map of one superevent from GraceDB."""
    return download_superevent_skymap(superevent, out_path, GraceDBSettings.from_config(section))
