"""The retry policy of skysift's HTTP client: its settings, and when (and whether) to try again.

Pure functions of the settings and of what went wrong, so the decisions are tested without a network:
:func:`plan_retry` says how long to wait before the next attempt, or why there is none.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC
from typing import Any, TypeVar

from skysift.config import settings_from

__all__ = [
    "IDEMPOTENT_METHODS",
    "NOT_PROCESSED_STATUS",
    "RETRY_POST",
    "RETRY_STATUS",
    "FetchError",
    "HttpSettings",
    "MaybeDelivered",
    "Retryable",
    "backoff_delay",
    "plan_retry",
    "retry_after_seconds",
    "settings_with_http",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Answers worth another attempt: request timeout, rate limit, server errors, gateways.
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: Answers that say the request was not acted on, so even a POST may be sent again.
NOT_PROCESSED_STATUS = frozenset({408, 429, 503})
#: Resend a POST after a failure that may have reached the service? Never blindly: the caller asks the
#: service what arrived first (TNS bulk reports: :mod:`skysift.tnsreport.send`, catching
#: :class:`MaybeDelivered`); requests that only read (queries, polls) pass ``idempotent=True``.
RETRY_POST = False
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class FetchError(RuntimeError):
    """A request failed for good; the message names the URL, what happened and what to do."""


class MaybeDelivered(FetchError):
    """A non-idempotent request failed after it may have reached the service (a timeout, a cut connection,
    a 5xx): it was not sent again. The caller asks the service what arrived before sending it again."""


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
