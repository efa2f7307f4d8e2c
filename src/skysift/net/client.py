"""skysift's HTTP client: a rate limit across threads (and processes), timeouts, and retries by :mod:`~skysift.net.retry`."""

from __future__ import annotations

import fcntl
import itertools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import requests
import urllib3

from skysift import __version__
from skysift.net.retry import (
    IDEMPOTENT_METHODS,
    NOT_PROCESSED_STATUS,
    RETRY_POST,
    RETRY_STATUS,
    FetchError,
    HttpSettings,
    MaybeDelivered,
    Retryable,
    plan_retry,
    retry_after_seconds,
)

__all__ = ["USER_AGENT", "HttpClient", "copy_body"]

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = (
    f"skysift/{__version__} (+https://github.com/skysift/skysift) python-requests/{requests.__version__}"
)
_CHUNK = 1 << 16


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (refused, unresolvable, connect timeout): nothing reached the service."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError)


def copy_body(response: requests.Response, fh: IO[bytes]) -> int:
    """Write a streamed (``stream=True``) body to ``fh`` as it arrives; return the bytes written.

    ``read1`` hands over whatever has arrived, so a cut connection leaves every received byte in
    ``fh``; a body that ends before its ``Content-Length`` raises :class:`Retryable`.
    """
    expected = response.headers.get("Content-Length")
    written = 0
    try:
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            fh.write(chunk)
            fh.flush()
            written += len(chunk)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise Retryable(f"connection lost after {written} bytes ({type(exc).__name__})") from exc
    if expected is not None and "Content-Encoding" not in response.headers and written != int(expected):
        raise Retryable(f"truncated body: {written} of {expected} bytes")
    return written


class _Throttle:
    """Spaces request starts ``interval`` s apart across threads and, with ``path``, across processes.

    A caller sleeps while it holds the lock and stamps the time it woke, so a thread (or process) that
    wakes late pushes the next start back instead of letting two starts bunch up.
    """

    def __init__(self, interval: float, path: str | Path | None = None) -> None:
        self.interval = max(0.0, float(interval))
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._last = float("-inf")

    def wait(self) -> None:
        """Block until ``interval`` seconds have passed since the last start, then record this one."""
        if self.interval <= 0:
            return
        with self._lock:
            if self.path is None:
                self._last = _sleep_past(self._last + self.interval, time.monotonic)
            else:
                self._wait_in_file()

    def _wait_in_file(self) -> None:
        """The same through a file that every process of the host locks (wall-clock times)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.seek(0)
                try:
                    last = float(fh.read().strip() or "-inf")
                except ValueError:
                    last = float("-inf")
                start = _sleep_past(last + self.interval, time.time)
                fh.seek(0)
                fh.truncate()
                fh.write(repr(start))
                fh.flush()
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _sleep_past(when: float, clock: Callable[[], float]) -> float:
    """Sleep until ``clock()`` reaches ``when``; return the time it did."""
    while (now := clock()) < when:
        time.sleep(when - now)
    return now


class HttpClient:
    """A thread-safe HTTP client with a rate limit, timeouts and retries (one ``requests.Session`` per thread).

    ``config_key`` is the config section the settings came from (error messages name its keys);
    ``rate_file`` shares the rate limit with other processes; ``retry_post`` resends POSTs after
    failures that may have reached the service (see :data:`RETRY_POST`).
    """

    def __init__(
        self,
        settings: HttpSettings,
        *,
        config_key: str = "http",
        user_agent: str = USER_AGENT,
        rate_file: str | Path | None = None,
        retry_post: bool = RETRY_POST,
    ) -> None:
        self.settings = settings
        self.config_key = config_key
        self.user_agent = user_agent
        self.retry_post = retry_post
        self._throttle = _Throttle(settings.min_interval, rate_file)
        self._local = threading.local()
        self._count_lock = threading.Lock()
        self.requests_sent = 0

    def session(self) -> requests.Session:
        """This thread's session (sessions are not guaranteed thread-safe)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.user_agent
            self._local.session = session
        return session

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One rate-limited attempt: failures worth a retry raise :class:`Retryable`, other answers return."""
        self._throttle.wait()
        with self._count_lock:
            self.requests_sent += 1
        timeout = self.settings.timeout
        try:
            response = self.session().request(method, url, timeout=timeout, **kwargs)
        except requests.ConnectionError as exc:
            # (a ConnectTimeout is a ConnectionError too; the type name only: messages may echo requests)
            if _never_sent(exc):
                raise Retryable(f"no connection ({type(exc).__name__})", maybe_processed=False) from exc
            raise Retryable(f"connection lost ({type(exc).__name__})") from exc
        except requests.Timeout as exc:
            raise Retryable(f"no answer within {timeout:g} s (timeout)") from exc
        except requests.exceptions.ChunkedEncodingError as exc:
            raise Retryable(f"truncated body ({type(exc).__name__})") from exc
        if response.status_code in RETRY_STATUS:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            response.close()
            raise Retryable(
                f"HTTP {response.status_code} {response.reason}",
                retry_after=retry_after,
                maybe_processed=response.status_code not in NOT_PROCESSED_STATUS,
            )
        return response

    def run(self, method: str, url: str, attempt: Callable[[], T], *, idempotent: bool | None = None) -> T:
        """Call ``attempt()`` until it returns, retrying its :class:`Retryable` failures as :func:`plan_retry` says.

        ``idempotent`` (default: by ``method``, POST only with ``retry_post``) allows resending after
        a failure that may have reached the service.
        """
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS or self.retry_post
        key = self.config_key
        for n in itertools.count():
            try:
                return attempt()
            except Retryable as failure:
                wait, why = plan_retry(self.settings, n, failure, idempotent=idempotent)
                if wait is None:
                    if failure.maybe_processed and not idempotent:
                        hint = "check with the service whether it arrived before sending it again"
                    elif failure.retry_after is not None and failure.retry_after > self.settings.backoff_max:
                        hint = f"rerun later, or raise {key}.backoff_max"
                    else:
                        hint = (
                            f"check the network and the service's status, or raise {key}.retries / "
                            f"{key}.timeout; a rerun resumes where this one stopped"
                        )
                    error = MaybeDelivered if failure.maybe_processed and not idempotent else FetchError
                    raise error(f"{method} {url}: {failure.reason}; {why}. {hint.capitalize()}.") from None
                log.warning(
                    "%s %s: %s; retry %d/%d in %.2f s",
                    method,
                    url,
                    failure.reason,
                    n + 1,
                    self.settings.retries,
                    wait,
                )
                time.sleep(wait)
        raise AssertionError("unreachable")

    def request(
        self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> requests.Response:
        """Send with retries; return the first answer that is not worth a retry (the caller judges its status).

        Without ``stream=True`` the body is read here, and one shorter than its ``Content-Length``
        is retried like a cut connection.
        """

        def attempt() -> requests.Response:
            response = self.send(method, url, **kwargs)
            expected = response.headers.get("Content-Length")
            if kwargs.get("stream") or method.upper() == "HEAD" or expected is None:
                return response
            if "Content-Encoding" not in response.headers and int(expected) != len(response.content):
                raise Retryable(f"truncated body: {len(response.content)} of {expected} bytes")
            return response

        return self.run(method, url, attempt, idempotent=idempotent)

    def requests_session(self, *, idempotent: bool = True) -> requests.Session:
        """A ``requests.Session`` whose every request goes through this client (for astroquery and the like).

        Its requests are retried as ``idempotent`` says (queries are); the client's timeout replaces
        the caller's.
        """
        return _ClientSession(self, idempotent)


class _ClientSession(requests.Session):
    """A Session that hands every request to an :class:`HttpClient`."""

    def __init__(self, client: HttpClient, idempotent: bool) -> None:
        super().__init__()
        self.headers["User-Agent"] = client.user_agent
        self._client = client
        self._idempotent = idempotent

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Route through the client (positional arguments after ``url`` are requests' ``params``, ``data``)."""
        if isinstance(method, bytes):
            method = method.decode()
        for name, value in zip(("params", "data", "headers"), args, strict=False):
            kwargs[name] = value
        kwargs.pop("timeout", None)
        return self._client.request(method, str(url), idempotent=self._idempotent, **kwargs)
