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
  :data:`RETRY_POST`): a TNS bulk report must not be filed twice. It raises
  :class:`MaybeDelivered` saying so instead, and the caller asks the service what arrived;
* names skysift and its version in the ``User-Agent`` (TNS wants its own ``tns_marker`` instead).

The retry decision is the pure function :func:`plan_retry`; attempt functions passed to
:meth:`HttpClient.run` raise :class:`Retryable` to ask for another attempt (the sources' resumable
downloads do). Client errors other than 408/429 are returned to the caller: they will not get better.
"""

from skysift.net.client import USER_AGENT, HttpClient, copy_body
from skysift.net.retry import (
    RETRY_POST,
    RETRY_STATUS,
    FetchError,
    HttpSettings,
    MaybeDelivered,
    Retryable,
    backoff_delay,
    plan_retry,
    retry_after_seconds,
    settings_with_http,
)
from skysift.net.tns import TNSBotSettings, TNSError, tns_api_key, tns_user_agent

__all__ = [
    "RETRY_POST",
    "RETRY_STATUS",
    "USER_AGENT",
    "FetchError",
    "HttpClient",
    "HttpSettings",
    "MaybeDelivered",
    "Retryable",
    "TNSBotSettings",
    "TNSError",
    "backoff_delay",
    "copy_body",
    "plan_retry",
    "retry_after_seconds",
    "settings_with_http",
    "tns_api_key",
    "tns_user_agent",
]
