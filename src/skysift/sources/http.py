"""The online sources' downloads on top of :mod:`skysift.net`: resumable, MD5-verified, renamed into place.

:class:`HttpClient` is skysift's one HTTP client (rate limit, timeouts, retries with backoff and
``Retry-After``) configured by the ``fetch.http`` section, plus what fetching light curves needs:

* :meth:`HttpClient.get` returns a (small) answer's body; an error answer raises a
  :class:`FetchError` naming the URL;
* :meth:`HttpClient.download` writes into ``<name>.part`` and resumes it with an HTTP ``Range``
  request after a cut connection; a server that ignores ``Range`` (answers 200) restarts the file;
  the MD5 is checked at the end and the file is renamed into place only when it matches (a wrong
  MD5 discards the part file and counts as a failed attempt), so a file under its final name is
  always complete;
* ``concurrency`` downloads run at once in a fetch job (:mod:`skysift.sources.irsa_bulk`); request
  starts are spaced ``min_interval`` apart across all fetch jobs of the host (:data:`FETCH_RATE_FILE`).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from skysift import net
from skysift.net import FetchError, HttpSettings, Retryable

__all__ = ["HttpConfig", "HttpClient", "FetchError", "DownloadResult"]

log = logging.getLogger(__name__)

#: The file through which the fetch jobs of one user on one host share ``fetch.http.min_interval``.
FETCH_RATE_FILE = Path(tempfile.gettempdir()) / f"skysift-fetch-{os.getuid()}.rate"


@dataclass(frozen=True)
class HttpConfig:
    """The ``fetch.http`` config section: the client's HTTP settings and parallel downloads per fetch job."""

    http: HttpSettings
    concurrency: int

    @classmethod
    def from_config(cls, section: Mapping | None = None) -> HttpConfig:
        """From the validated ``fetch.http`` section (None: the schema's defaults)."""
        if section is None:
            from skysift.config import default_config

            section = default_config()["fetch"]["http"]
        return cls(
            http=HttpSettings.from_config(section, "fetch.http"), concurrency=int(section["concurrency"])
        )


@dataclass(frozen=True)
class DownloadResult:
    """What one download did: bytes received over the network and whether it resumed or skipped."""

    path: Path
    md5: str
    bytes: int
    received: int
    resumed: bool
    skipped: bool


class HttpClient(net.HttpClient):
    """skysift's HTTP client with the ``fetch.http`` settings, small GETs and resumable, verified downloads."""

    def __init__(self, config: HttpConfig | Mapping | None = None) -> None:
        self.config = config if isinstance(config, HttpConfig) else HttpConfig.from_config(config)
        # one rate limit for every fetch job of this user on this host: parallel jobs do not add up
        super().__init__(self.config.http, config_key="fetch.http", rate_file=FETCH_RATE_FILE)

    @staticmethod
    def _check(response: requests.Response, ok: tuple[int, ...] = ()) -> None:
        """Raise a FetchError for an error answer that retrying will not fix (404, 403, 400, ...)."""
        if response.status_code >= 400 and response.status_code not in ok:
            response.close()
            raise FetchError(
                f"GET {response.url}: HTTP {response.status_code} {response.reason}; "
                "not retried (check the URL / base URL in fetch.*_url and the release name)"
            )

    def get(self, url: str, params: Mapping | list | None = None) -> bytes:
        """GET a (small) answer's body with retries; a body shorter than Content-Length is retried."""
        response = self.request("GET", url, params=params, headers={"Accept-Encoding": "identity"})
        self._check(response)
        return response.content

    def download(self, url: str, dest: str | Path, md5: str | None = None) -> DownloadResult:
        """Download ``url`` to ``dest`` resumably; verify ``md5`` (if given) before the atomic rename.

        A complete ``dest`` whose MD5 matches is not downloaded again.
        """
        from skysift.layout import md5sum

        dest = Path(dest)
        if md5 and dest.exists() and md5sum(dest) == md5:
            return DownloadResult(dest, md5, dest.stat().st_size, 0, False, True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        state = {"received": 0, "resumed": False}

        def attempt() -> str:
            offset = part.stat().st_size if part.exists() else 0
            headers = {"Accept-Encoding": "identity"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            response = self.send("GET", url, headers=headers, stream=True)
            self._check(response, ok=(416,))
            with response:
                if response.status_code == 416:
                    # Nothing left to send: the .part is already complete (or longer than the file).
                    log.info("%s: server has nothing beyond byte %d; checking the partial file", url, offset)
                elif offset and response.status_code == 206:
                    start = _content_range_start(response.headers.get("Content-Range", ""))
                    if start != offset:
                        part.unlink(missing_ok=True)
                        raise Retryable(f"Content-Range starts at {start}, expected {offset}; restarting")
                    state["resumed"] = True
                    log.info("%s: resuming at byte %d", url, offset)
                    self._stream(response, part, "ab", state)
                else:
                    if offset:
                        log.info("%s: server ignored Range (HTTP %d); restarting", url, response.status_code)
                    self._stream(response, part, "wb", state)
            digest = md5sum(part)
            if md5 and digest != md5:
                part.unlink(missing_ok=True)
                raise Retryable(f"md5 {digest} does not match checksum.md5 ({md5}); downloading afresh")
            return digest

        digest = self.run("GET", url, attempt)
        with open(part, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(part, dest)
        _fsync_dir(dest.parent)
        size = dest.stat().st_size
        log.info("%s: %d bytes -> %s (%d received)", url, size, dest, state["received"])
        return DownloadResult(dest, digest, size, state["received"], state["resumed"], False)

    @staticmethod
    def _stream(response: requests.Response, part: Path, mode: str, state: dict) -> None:
        """Append (or write) a body to ``part`` as it arrives, counting the bytes even when it is cut short."""
        with open(part, mode) as fh:
            start = fh.tell()
            try:
                net.copy_body(response, fh)
            finally:
                state["received"] += fh.tell() - start


def _content_range_start(value: str) -> int | None:
    """First byte of a ``Content-Range: bytes a-b/n`` header, or None."""
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _fsync_dir(path: Path) -> None:
    """fsync a directory so a rename survives a crash (no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
