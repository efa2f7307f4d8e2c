"""TNS' bulk-report exchange through :class:`skysift.net.HttpClient`: upload, reply polls and searches.

Exchange: POST form ``api_key`` + ``data`` (the JSON) to ``<base>/bulk-report`` with the
``tns_marker`` User-Agent -> ``{"id_code": 200, "data": {"report_id": ...}}``; then POST ``api_key``
+ ``report_id`` to ``<base>/bulk-report-reply`` until it is processed (404 = not yet: poll again
with exponential backoff) -> ``data.feedback.at_report``: one dict per entry, keyed by TNS message
codes, whose values carry ``message`` and, for a reported AT, ``objname``. An entry without
``objname`` (or an HTTP 400 reply with feedback) is a rejection; its messages are raised in
:class:`TNSReportRejected`. The key is read from the environment and never logged.

Searches: POST ``api_key`` + ``data`` (JSON: ``internal_name`` with ``internal_name_exact_match``,
or ``ra``/``dec``/``radius``/``units``) to ``<base>/get/search`` -> ``data.reply`` (or ``data``): a list
of ``{objname, prefix, objid}``.

The upload is not idempotent: the client sends it again by itself only after an answer that says it
was not processed (429, 503, 408, or no connection at all); after a timeout, a cut connection or a
5xx it raises :class:`skysift.net.MaybeDelivered`, and :mod:`skysift.tnsreport.deliver` asks TNS
what arrived before anything is sent again. Polls and searches only read and are retried like GETs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skysift import net
from skysift.net import TNSError

__all__ = [
    "SANDBOX_URL",
    "SEND_KEYS",
    "TNS_URL",
    "SendSettings",
    "TNSExchange",
    "TNSReportRejected",
    "parse_reply",
    "rejection",
]

log = logging.getLogger(__name__)

TNS_URL = "https://www.wis-tns.org/api"
SANDBOX_URL = "https://sandbox.wis-tns.org/api"
_KEY = "tns_report"


class TNSReportRejected(TNSError):
    """TNS processed the report and rejected (part of) it; ``messages`` has TNS' error messages."""

    def __init__(self, messages: Sequence[str], reply: Mapping | None = None) -> None:
        self.messages = list(messages)
        self.reply = reply
        super().__init__("TNS rejected the report:\n  " + "\n  ".join(self.messages))


@dataclass(frozen=True)
class SendSettings(net.TNSBotSettings):
    """Where and how to send (the sending keys of the ``tns_report`` section; the key lives in the environment)."""

    poll_attempts: int
    poll_initial_seconds: float
    poll_max_seconds: float
    known_radius_arcsec: float

    config_key = _KEY


#: Keys of the ``tns_report`` section that say how to send, not what: changing them rewrites no report.
SEND_KEYS = frozenset(
    {"url", "api_key_env", "bot_id", "bot_name", "poll_attempts", "poll_initial_seconds", "poll_max_seconds"}
    | {"known_radius_arcsec"}
    | {"timeout", "retries", "backoff", "backoff_max", "min_interval"}
)


def _post(
    client: net.HttpClient, url: str, data: dict, settings: SendSettings, *, idempotent: bool
) -> tuple[int, Any]:
    """POST a form; returns (status, parsed JSON or None). 401/403 and failures for good raise a TNSError."""
    try:
        response = client.request("POST", url, data=data, idempotent=idempotent)
    except (TNSError, net.MaybeDelivered):
        raise
    except net.FetchError as exc:
        raise TNSError(str(exc)) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code in (401, 403):
        raise TNSError(
            f"TNS at {url} refused the request (HTTP {response.status_code}): check the key "
            f"in ${settings.api_key_env} and {_KEY}.bot_id/bot_name"
        )
    return response.status_code, body


def _messages(node: Any) -> list[str]:
    """Every ``message`` (and field error) string inside a TNS feedback structure."""
    out: list[str] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("message", "error", "errors") and isinstance(value, str):
                out.append(value)
            else:
                out += _messages(value)
    elif isinstance(node, list):
        for value in node:
            out += _messages(value)
    elif isinstance(node, str):
        out.append(node)
    return out


def parse_reply(reply: Mapping) -> list[dict]:
    """Per report entry: ``{entry, objname (None = refused), messages}``; a reply without entries raises."""
    feedback = (reply.get("data") or {}).get("feedback") or {}
    entries = feedback.get("at_report") if isinstance(feedback, Mapping) else None
    if not entries:
        raise TNSReportRejected(_messages(reply) or ["reply without at_report feedback"], reply)
    results = []
    for i, entry in enumerate(entries):
        objname = None
        for value in entry.values() if isinstance(entry, Mapping) else ():
            if isinstance(value, Mapping) and value.get("objname"):
                objname = value["objname"]
        results.append({"entry": i, "objname": objname, "messages": _messages(entry)})
    return results


def rejection(results: list[dict], reply: Mapping | None = None) -> TNSReportRejected | None:
    """The error for the refused entries of a parsed reply (None if TNS filed every entry)."""
    failed = []
    for r in results:
        if r["objname"] is None:
            failed += [f"entry {r['entry']}: {m}" for m in r["messages"]] or [
                f"entry {r['entry']}: no objname"
            ]
    return TNSReportRejected(failed, reply) if failed else None


def _reply_list(body: Any) -> list[dict]:
    """The objects of a search answer: ``data.reply`` (TNS' documented form) or ``data`` as a list."""
    data = body.get("data") if isinstance(body, Mapping) else None
    found = data.get("reply") if isinstance(data, Mapping) else data
    return [dict(item) for item in found or [] if isinstance(item, Mapping) and item.get("objname")]


def poll_waits(settings: SendSettings) -> Iterator[float]:
    """The waits between polls (and between rounds of searches): doubling from the first, capped."""
    wait = settings.poll_initial_seconds
    for _ in range(settings.poll_attempts):
        yield wait
        wait = min(wait * 2, settings.poll_max_seconds)


class TNSExchange:
    """One TNS API base with one bot: upload a report, poll its reply, search objects.

    The key is read from the environment when the exchange is made and is never logged.
    """

    def __init__(self, settings: SendSettings, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._key, self.client = settings.connect()
        self.settings = settings
        self.sleep = sleep
        self.last_reply: dict | None = None
        self.base = settings.url.rstrip("/")

    def upload(self, report: Mapping) -> str:
        """POST the report once (the client resends only after "not processed" answers); its report_id.

        Raises :class:`skysift.net.MaybeDelivered` when it may have been filed without an answer, and
        :class:`TNSReportRejected` when TNS answered that it was not accepted.
        """
        upload = {"api_key": self._key, "data": json.dumps(report)}
        status, body = _post(self.client, f"{self.base}/bulk-report", upload, self.settings, idempotent=False)
        data = body.get("data") if isinstance(body, Mapping) else None
        report_id = data.get("report_id") if isinstance(data, Mapping) else None
        if status != 200 or not report_id:
            messages = _messages(data)
            if isinstance(body, Mapping) and body.get("id_message"):
                messages.insert(0, str(body["id_message"]))
            raise TNSReportRejected([f"bulk-report answered HTTP {status}", *messages], body)
        return str(report_id)

    def reply(self, report_id: str) -> list[dict] | None:
        """Poll bulk-report-reply with backoff: :func:`parse_reply` of the answer, or None if still unprocessed."""
        for attempt, wait in enumerate(poll_waits(self.settings)):
            status, body = _post(
                self.client,
                f"{self.base}/bulk-report-reply",
                {"api_key": self._key, "report_id": report_id},
                self.settings,
                idempotent=True,
            )
            if status == 404:
                if attempt + 1 < self.settings.poll_attempts:
                    log.info("report %s not processed yet; poll %d/%d again in %.1f s",
                             report_id, attempt + 1, self.settings.poll_attempts, wait)  # fmt: skip
                    self.sleep(wait)
                continue
            if not isinstance(body, Mapping):
                raise TNSError(f"bulk-report-reply answered HTTP {status} without JSON")
            self.last_reply = dict(body)
            return parse_reply(body)
        return None

    def search(
        self,
        *,
        internal_name: str | None = None,
        ra: float | None = None,
        dec: float | None = None,
        radius_arcsec: float | None = None,
    ) -> list[dict]:
        """Objects TNS lists with this internal name (exact), or within ``radius_arcsec`` of (ra, dec)."""
        query: dict[str, Any] = {}
        if internal_name is not None:
            query |= {"internal_name": internal_name, "internal_name_exact_match": 1}
        if ra is not None and dec is not None:
            query |= {
                "ra": f"{ra:.6f}",
                "dec": f"{dec:.6f}",
                "radius": f"{radius_arcsec:g}",
                "units": "arcsec",
            }
        status, body = _post(
            self.client,
            f"{self.base}/get/search",
            {"api_key": self._key, "data": json.dumps(query)},
            self.settings,
            idempotent=True,
        )
        if status != 200:
            raise TNSError(f"TNS search at {self.base}/get/search answered HTTP {status}")
        return _reply_list(body)
