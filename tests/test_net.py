"""skysift.net: the one HTTP client, against real scripted servers on 127.0.0.1 (timings measured)."""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time

import pytest

from servers import ScriptedServer
from skysift import __version__
from skysift.config import ConfigError, default_config
from skysift.net import (
    FetchError,
    HttpClient,
    HttpSettings,
    Retryable,
    backoff_delay,
    plan_retry,
    retry_after_seconds,
)


def settings(**kw) -> HttpSettings:
    """Fast settings for tests (no rate limit, short backoff), overridden by ``kw``."""
    base = {"timeout": 5.0, "retries": 3, "backoff": 0.01, "backoff_max": 0.05, "min_interval": 0.0}
    return HttpSettings(**{**base, **kw})


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def test_settings_come_from_the_schema_and_name_missing_keys():
    http = HttpSettings.from_config(default_config()["fetch"]["http"], "fetch.http")
    assert http == HttpSettings(timeout=60, retries=5, backoff=1.0, backoff_max=60, min_interval=0.2)
    for key in ("crossmatch.xmatch", "crossmatch.tns", "tns_report"):
        section = default_config()
        for part in key.split("."):
            section = section[part]
        assert isinstance(HttpSettings.from_config(section, key), HttpSettings)
    with pytest.raises(ConfigError, match=r"missing key\(s\) crossmatch.xmatch.backoff_max"):
        HttpSettings.from_config(
            {"timeout": 1, "retries": 1, "backoff": 1, "min_interval": 0}, "crossmatch.xmatch"
        )


def test_retry_after_header_forms():
    now = 1_800_000_000.0
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(" 0 ") == 0.0
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_backoff_is_capped_by_backoff_max_and_its_jitter_bounded():
    s = settings(backoff=1.0, backoff_max=10.0)
    rng = random.Random(3)
    for attempt in range(12):
        cap = min(10.0, 2.0**attempt)
        draws = [backoff_delay(s, attempt, rng=rng) for _ in range(2000)]
        assert cap / 2 <= min(draws) and max(draws) <= cap, attempt
        assert max(draws) - min(draws) > cap / 2 * 0.9  # really spread over [cap/2, cap]
    # Retry-After raises the wait, never lowers it
    assert backoff_delay(s, 0, retry_after=7.5, rng=rng) == 7.5
    assert 5 <= backoff_delay(s, 4, retry_after=0.5, rng=rng) <= 10


def test_retry_plan():
    s = settings(retries=2, backoff_max=5.0)
    lost = Retryable("connection lost")
    refused = Retryable("HTTP 503", maybe_processed=False)
    assert plan_retry(s, 0, lost, idempotent=True)[0] is not None
    assert plan_retry(s, 2, lost, idempotent=True) == (None, "failed after 3 attempts")
    wait, why = plan_retry(s, 0, lost, idempotent=False)
    assert wait is None and "may have acted on it" in why
    assert plan_retry(s, 0, refused, idempotent=False)[0] is not None  # a 503 says: not processed
    wait, why = plan_retry(
        s, 0, Retryable("HTTP 429", retry_after=60, maybe_processed=False), idempotent=True
    )
    assert wait is None and "Retry-After" in why and "backoff_max (5 s)" in why


def test_retry_after_is_honoured_in_seconds_and_as_a_date():
    script = ScriptedServer([("status", 503, {"Retry-After": "1"})])
    with script as url:
        assert HttpClient(settings(backoff_max=5)).request("GET", url + "/a").text == "ok"
    assert gaps(script.arrivals())[0] >= 1.0  # backoff alone would have waited 0.01 s
    # an HTTP date (1 s resolution): two seconds after the current whole second
    when = math.floor(time.time()) + 2
    script = ScriptedServer([("status", 429, {"Retry-After": email.utils.formatdate(when, usegmt=True)})])
    with script as url:
        assert HttpClient(settings(backoff_max=5)).request("GET", url + "/b").status_code == 200
        assert time.time() >= when - 0.01
    assert gaps(script.arrivals())[0] >= 1.0


def test_backoff_max_caps_the_measured_waits():
    # backoff 100 s would wait minutes; backoff_max 0.2 s caps every wait to [0.1, 0.2] s (equal jitter)
    script = ScriptedServer([("status", 500, {})] * 3)
    with script as url:
        client = HttpClient(settings(backoff=100.0, backoff_max=0.2, retries=3))
        assert client.request("GET", url + "/c").status_code == 200
    waits = gaps(script.arrivals())
    assert len(waits) == 3 and all(0.1 <= w < 0.2 + 0.15 for w in waits), waits


def test_a_retry_after_beyond_backoff_max_ends_the_retries_at_once():
    script = ScriptedServer([("status", 503, {"Retry-After": "3600"})])
    with script as url, pytest.raises(FetchError, match=r"asks to wait 3600 s.*raise fetch.http.backoff_max"):
        HttpClient(settings(backoff_max=60), config_key="fetch.http").request("GET", url + "/d")
    assert len(script.requests) == 1


def test_a_timeout_is_retried_then_names_the_url_and_the_keys():
    script = ScriptedServer([("slow", 1.0), ("slow", 1.0)])
    with script as url, pytest.raises(FetchError) as err:
        HttpClient(settings(timeout=0.3, retries=1), config_key="crossmatch.xmatch").request(
            "GET", url + "/slow"
        )
    message = str(err.value)
    assert f"GET {url}/slow: no answer within 0.3 s (timeout); failed after 2 attempts" in message
    assert "crossmatch.xmatch.retries / crossmatch.xmatch.timeout" in message
    assert len(script.requests) == 2


def _run_clients(clients: list[HttpClient], url: str, per_thread: int) -> None:
    """Each client sends ``per_thread`` GETs from its own two threads, all at once."""
    threads = [
        threading.Thread(target=lambda c=c: [c.request("GET", url) for _ in range(per_thread)])
        for c in clients
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# Arrival times at the server also carry the delivery jitter of a loaded 2-core machine: 10% slack.
def test_min_interval_spaces_request_starts_across_threads():
    script = ScriptedServer()
    with script as url:
        _run_clients([HttpClient(settings(min_interval=0.2))], url, 4)
    times = script.arrivals()
    assert len(times) == 8 and min(gaps(times)) >= 0.18, gaps(times)


def test_min_interval_is_shared_through_a_rate_file(tmp_path):
    """Two clients (as two jobs on one host have) keep the interval between them only through one rate file."""
    script = ScriptedServer()
    with script as url:
        _run_clients(
            [HttpClient(settings(min_interval=0.3), rate_file=tmp_path / "rate") for _ in range(2)], url, 2
        )
    times = script.arrivals()
    assert len(times) == 8 and min(gaps(times)) >= 0.27, gaps(times)
    script = ScriptedServer()
    with script as url:  # the control: without the file the two clients' requests bunch up
        _run_clients([HttpClient(settings(min_interval=0.3)) for _ in range(2)], url, 2)
    assert min(gaps(script.arrivals())) < 0.15


def test_a_post_is_not_resent_after_a_dropped_connection():
    script = ScriptedServer([("drop",)])
    with script as url, pytest.raises(FetchError) as err:
        HttpClient(settings()).request("POST", url + "/bulk-report", data={"data": "{}"})
    assert len(script.requests) == 1 and script.requests[0][1] == "POST"
    assert "not sent again, because the service may have acted on it already" in str(err.value)
    assert "check with the service whether it arrived" in str(err.value).lower()
    # an answer that says "not processed" (503) may be followed by the same POST again
    script = ScriptedServer([("status", 503, {})])
    with script as url:
        assert HttpClient(settings()).request("POST", url + "/x", data={"a": "1"}).status_code == 200
    assert [r[1] for r in script.requests] == ["POST", "POST"]
    # a POST that only reads (a query, a poll) is retried like a GET
    script = ScriptedServer([("drop",)])
    with script as url:
        assert HttpClient(settings()).request("POST", url + "/q", data={"a": "1"}, idempotent=True).ok
    assert len(script.requests) == 2


def test_user_agent_names_skysift_and_its_version_and_client_errors_are_returned():
    script = ScriptedServer([("status", 404, {})])
    with script as url:
        response = HttpClient(settings()).request("GET", url + "/missing")
    assert response.status_code == 404 and len(script.requests) == 1  # not retried: it will not get better
    assert script.requests[0][3].startswith(f"skysift/{__version__} ")


def test_requests_session_routes_a_library_through_the_client():
    """What astroquery gets: a requests.Session whose calls are rate-limited and retried by the client."""
    script = ScriptedServer([("status", 502, {})])
    with script as url:
        client = HttpClient(settings())
        session = client.requests_session()
        assert session.post(url + "/sync", data={"request": "xmatch"}, timeout=999).text == "ok"
    assert client.requests_sent == 2 and [r[1] for r in script.requests] == ["POST", "POST"]
