"""One HTTP client for every service skysift calls: retries, backoff, Retry-After, timeouts, a rate limit.

Every request to IRSA, SNAD, CDS XMatch and TNS goes through :class:`HttpClient`, configured by the
same five keys wherever a config section talks to a service (:class:`HttpSettings`): ``timeout``,
``retries``, ``backoff``, ``backoff_max`` and ``min_interval``. The client

* spaces request *starts* at least ``min_interval`` seconds apart across the threads of a process
  and, given a ``rate_file``, across processes too (the CDS jobs of one host share one file);
* retries timeouts, refused or cut connections, truncated bodies and the answers in
  :data:`RETRY_STATUS` after ``backoff * 2**n`` seconds with equal jitter (a random wait between
  half and all of it), at most ``backoff_max``, and never sooner than a ``Retry-After`` header asks
  (seconds or an HTTP date); a ``Retry-After`` longer than ``backoff_max`` ends the retries;
* never resends a non-idempotent request (POST) after a failure that may have reached the service
  (a timeout, a cut connection, a 500) unless told it is safe (``idempotent=True``, or
  :data:`RETRY_POST`): a TNS bulk report must not be filed twice (issue #19). It raises a
  :class:`FetchError` saying so instead;
* names skysift and its version in the ``User-Agent`` (TNS wants its own ``tns_marker`` instead).

The retry decision is the pure function :func:`plan_retry`; attempt functions passed to
:meth:`HttpClient.run` raise :class:`Retryable` to ask for another attempt (the sources' resumable
downloads do). Client errors other than 408/429 are returned to the caller: they will not get better.
"""

from __future__ import annotations

import email.utils
import fcntl
import itertools
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC
from pathlib import Path
from typing import IO, Any, TypeVar

import requests
import urllib3

from skysift import __version__
from skysift.config import settings_from
from skysift.io import InputError

__all__ = [
    "RETRY_POST",
    "RETRY_STATUS",
    "USER_AGENT",
    "FetchError",
    "HttpClient",
    "HttpSettings",
    "Retryable",
    "TNSError",
    "backoff_delay",
    "copy_body",
    "plan_retry",
    "retry_after_seconds",
    "settings_with_http",
    "tns_api_key",
    "tns_user_agent",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Answers worth another attempt: request timeout, rate limit, server errors, gateways.
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: Answers that say the request was not acted on, so even a POST may be sent again.
NOT_PROCESSED_STATUS = frozenset({408, 429, 503})
#: Resend a POST after a failure that may have reached the service? Not before issue #19 makes TNS
#: bulk reports exactly-once; requests that only read (queries, polls) pass ``idempotent=True``.
RETRY_POST = False
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
USER_AGENT = (
    f"skysift/{__version__} (+https://github.com/skysift/skysift) python-requests/{requests.__version__}"
)
_CHUNK = 1 << 16


class FetchError(RuntimeError):
    """A request failed for good; the message names the URL, what happened and what to do."""


class TNSError(FetchError):
    """TNS refused a request or failed for good (the API key is never part of the message)."""


class Retryable(Exception):
    """One attempt failed in a way another attempt may fix; raise it from an attempt function.

    ``retry_after`` is what the service asked to wait (seconds); ``maybe_processed`` says the
    service may have acted on the request (answer lost or a server error), which forbids resending
    a non-idempotent one.
    """

    def __init__(
        self, reason: str, *, retry_after: float | None = None, maybe_processed: bool = True
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.maybe_processed = maybe_processed


@dataclass(frozen=True)
class HttpSettings:
    """How to talk to one service: the same five keys in every config section that calls one."""

    timeout: float  # seconds to wait for a connection or for the next bytes of an answer
    retries: int  # attempts after the first one
    backoff: float  # retry n waits between half and all of backoff * 2**n seconds ...
    backoff_max: float  # ... but at most this long
    min_interval: float  # seconds between the starts of two requests

    @classmethod
    def from_config(cls, section: Mapping[str, Any], key: str) -> HttpSettings:
        """The five HTTP keys of the validated config section ``key`` (its other keys belong to their stage)."""
        names = [f.name for f in fields(cls)]
        return settings_from(cls, {n: section[n] for n in names if n in section}, key)


def settings_with_http(cls: type[T], section: Mapping[str, Any], key: str) -> T:
    """A service's frozen settings ``cls`` (with a field ``http: HttpSettings``) from its flat config section.

    The section holds the five HTTP keys beside the service's own; keys of ``cls``'s other fields are
    taken, the rest of the section (another dataclass's keys) is left alone.
    """
    own = [f.name for f in fields(cls) if f.name != "http"]
    values = {n: section[n] for n in own if n in section}
    return settings_from(cls, {**values, "http": HttpSettings.from_config(section, key)}, key)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date); None without one."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        log.warning("ignoring an unreadable Retry-After header %r", value)
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(
    settings: HttpSettings, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
) -> float:
    """Wait before retry ``attempt + 1``: between half and all of ``min(backoff_max, backoff * 2**attempt)``
    (equal jitter, so parallel clients spread out and none hammers the service), at least ``retry_after``."""
    cap = min(settings.backoff_max, settings.backoff * 2.0**attempt)
    delay = cap / 2 + (rng or random).uniform(0, cap / 2)
    return delay if retry_after is None else max(delay, retry_after)


def plan_retry(
    settings: HttpSettings,
    attempt: int,
    failure: Retryable,
    *,
    idempotent: bool,
    rng: random.Random | None = None,
) -> tuple[float | None, str]:
    """After failed attempt number ``attempt`` (0-based): ``(seconds to wait, "")`` or ``(None, why not)``."""
    if failure.maybe_processed and not idempotent:
        return None, "not sent again, because the service may have acted on it already"
    if attempt >= settings.retries:
        return None, f"failed after {attempt + 1} attempt{'s' if attempt else ''}"
    if failure.retry_after is not None and failure.retry_after > settings.backoff_max:
        return None, (
            f"the service asks to wait {failure.retry_after:.0f} s (Retry-After), longer than "
            f"backoff_max ({settings.backoff_max:g} s)"
        )
    return backoff_delay(settings, attempt, failure.retry_after, rng), ""


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
                    raise FetchError(
                        f"{method} {url}: {failure.reason}; {why}. {hint.capitalize()}."
                    ) from None
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


# -- TNS' bot conventions (the catalog download and the bulk report share them) -----------------------
def tns_user_agent(bot_id: int, bot_name: str) -> str:
    """The User-Agent TNS requires from bots: tns_marker{"tns_id": ID, "type": "bot", "name": NAME}."""
    return "tns_marker" + json.dumps({"tns_id": int(bot_id), "type": "bot", "name": bot_name})


def tns_api_key(env: str, key: str) -> str:
    """The TNS bot API key from environment variable ``env`` (named by config key ``key``; never logged)."""
    value = os.environ.get(env, "").strip()
    if not value:
        raise InputError(
            f"environment variable {env} ({key}) is not set: export your TNS bot API key there "
            "(never put it in the config)"
        )
    return value
