"""Polite, resilient HTTP for the online sources: retries with backoff, a rate limit, resumable downloads.

One :class:`HttpClient` is shared by the threads of a fetch job. It

* spaces request *starts* at least ``min_interval`` seconds apart (all threads together), so a
  job never hammers a service however many threads it runs;
* retries 5xx/429/408 answers, timeouts, refused/reset connections and truncated bodies (fewer
  bytes than ``Content-Length``) with exponential backoff and full jitter, and gives up with a
  :class:`FetchError` that names the URL, the attempts and the last error;
* downloads into ``<name>.part`` and resumes it with an HTTP ``Range`` request; a server that
  ignores ``Range`` (answers 200) restarts the file; the MD5 is checked at the end and the file is
  renamed into place only when it matches, so a file under its final name is always complete.

Client errors other than 408/429 (404, 403, 400) are not retried: they will not get better.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import requests
import urllib3

from skysift import __version__

__all__ = ["HttpConfig", "HttpClient", "FetchError", "DownloadResult"]

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_CHUNK = 1 << 16


class FetchError(RuntimeError):
    """A download or query failed for good; the message names the URL and what to do."""


class _Retryable(Exception):
    """An attempt failed in a way that another attempt may fix."""


@dataclass(frozen=True)
class HttpConfig:
    """HTTP behaviour of the online sources (the ``fetch.http`` config section)."""

    timeout: float = 60.0
    retries: int = 5
    backoff: float = 1.0
    backoff_max: float = 60.0
    min_interval: float = 0.2
    concurrency: int = 4
    user_agent: str = f"skysift/{__version__} (+https://github.com/skysift/skysift)"

    @classmethod
    def from_config(cls, section: Mapping | None) -> HttpConfig:
        """Build from a config mapping; unknown keys raise a ValueError naming them."""
        section = {k: v for k, v in dict(section or {}).items() if v is not None}
        known = {f.name for f in fields(cls)}
        unknown = set(section) - known
        if unknown:
            raise ValueError(f"fetch.http: unknown key(s) {sorted(unknown)}")
        return cls(**section)


@dataclass(frozen=True)
class DownloadResult:
    """What one download did: bytes received over the network and whether it resumed or skipped."""

    path: Path
    md5: str
    bytes: int
    received: int
    resumed: bool
    skipped: bool


class _RateLimiter:
    """Spaces request starts at least ``interval`` seconds apart across threads."""

    def __init__(self, interval: float) -> None:
        self.interval = max(0.0, interval)
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        """Block until this thread may start a request."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


class HttpClient:
    """A thread-safe HTTP client with retries, backoff, a rate limit and resumable downloads."""

    def __init__(self, config: HttpConfig | Mapping | None = None) -> None:
        self.config = config if isinstance(config, HttpConfig) else HttpConfig.from_config(config)
        self._limiter = _RateLimiter(self.config.min_interval)
        self._local = threading.local()
        self.requests_sent = 0
        self._count_lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        """One requests.Session per thread (sessions are not guaranteed thread-safe)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.config.user_agent
            self._local.session = session
        return session

    def _send(self, url: str, *, params=None, headers=None, stream: bool = False) -> requests.Response:
        """One rate-limited GET; network failures and retryable statuses raise _Retryable."""
        self._limiter.wait()
        with self._count_lock:
            self.requests_sent += 1
        try:
            response = self._session().get(
                url, params=params, headers=headers, stream=stream, timeout=self.config.timeout
            )
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            # (without stream=True the body is read here too: a cut body lands in this branch)
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in RETRY_STATUS:
            response.close()
            raise _Retryable(f"HTTP {response.status_code} {response.reason}")
        if response.status_code >= 400 and response.status_code != 416:
            response.close()
            raise FetchError(
                f"GET {response.url}: HTTP {response.status_code} {response.reason}; "
                "not retried (check the URL / base URL in fetch.*_url and the release name)"
            )
        return response

    def _retrying(self, url: str, attempt_fn):
        """Call ``attempt_fn()`` until it returns, retrying _Retryable failures with backoff and jitter."""
        cfg = self.config
        last = ""
        for attempt in range(cfg.retries + 1):
            try:
                return attempt_fn()
            except _Retryable as exc:
                last = str(exc)
                if attempt == cfg.retries:
                    break
                delay = random.uniform(0, min(cfg.backoff_max, cfg.backoff * 2**attempt))
                log.warning("GET %s: %s; retry %d/%d in %.2f s", url, last, attempt + 1, cfg.retries, delay)
                time.sleep(delay)
        raise FetchError(
            f"GET {url}: failed after {cfg.retries + 1} attempts, last error: {last}. "
            "Check the network and the service status, or raise fetch.http.retries / fetch.http.timeout; "
            "rerunning resumes where this run stopped."
        )

    # -- small requests -------------------------------------------------------------------------
    def get(self, url: str, params: Mapping | list | None = None) -> bytes:
        """GET a (small) response body with retries; a body shorter than Content-Length is retried."""

        def attempt() -> bytes:
            response = self._send(url, params=params, headers={"Accept-Encoding": "identity"})
            try:
                body = response.content
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                raise _Retryable(f"truncated body: {exc}") from exc
            finally:
                response.close()
            expected = response.headers.get("Content-Length")
            if expected is not None and int(expected) != len(body):
                raise _Retryable(f"truncated body: {len(body)} of {expected} bytes")
            return body

        return self._retrying(url, attempt)

    # -- files ----------------------------------------------------------------------------------
    def download(self, url: str, dest: str | Path, md5: str | None = None) -> DownloadResult:
        """Download ``url`` to ``dest`` resumably; verify ``md5`` (if given) before the atomic rename.

        A complete ``dest`` whose MD5 matches is not downloaded again. A wrong MD5 after a complete
        transfer discards the partial file and counts as a failed attempt (the retry starts afresh).
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
            response = self._send(url, headers=headers, stream=True)
            with response:
                if response.status_code == 416:
                    # Nothing left to send: the .part is already complete (or longer than the file).
                    log.info("%s: server has nothing beyond byte %d; checking the partial file", url, offset)
                elif offset and response.status_code == 206:
                    start = _content_range_start(response.headers.get("Content-Range", ""))
                    if start != offset:
                        part.unlink(missing_ok=True)
                        raise _Retryable(f"Content-Range starts at {start}, expected {offset}; restarting")
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
                raise _Retryable(f"md5 {digest} does not match checksum.md5 ({md5}); downloading afresh")
            return digest

        digest = self._retrying(url, attempt)
        with open(part, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(part, dest)
        _fsync_dir(dest.parent)
        size = dest.stat().st_size
        log.info("%s: %d bytes -> %s (%d received)", url, size, dest, state["received"])
        return DownloadResult(dest, digest, size, state["received"], state["resumed"], False)

    @staticmethod
    def _stream(response: requests.Response, part: Path, mode: str, state: dict) -> None:
        """Write a response body to ``part`` as it arrives; raise _Retryable if it ends before Content-Length.

        ``read1`` hands over whatever bytes have arrived, so a kill or a cut connection leaves every
        received byte in the ``.part`` file for the next attempt to resume from.
        """
        expected = response.headers.get("Content-Length")
        written = 0
        raw = response.raw
        try:
            with open(part, mode) as fh:
                while chunk := raw.read1(_CHUNK, decode_content=True):
                    fh.write(chunk)
                    fh.flush()
                    written += len(chunk)
                    state["received"] += len(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Retryable(f"connection lost after {written} bytes: {type(exc).__name__}: {exc}") from exc
        if expected is not None and written != int(expected):
            raise _Retryable(f"truncated body: {written} of {expected} bytes")


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
