"""Send a bulk AT report to TNS and poll for its reply, through :class:`skysift.net.HttpClient`.

Exchange: POST form ``api_key`` + ``data`` (the JSON) to ``<base>/bulk-report`` with the
``tns_marker`` User-Agent -> ``{"id_code": 200, "data": {"report_id": ...}}``; then POST ``api_key``
+ ``report_id`` to ``<base>/bulk-report-reply`` until it is processed (404 = not yet: poll again
with exponential backoff) -> ``data.feedback.at_report``: one dict per entry, keyed by TNS message
codes, whose values carry ``message`` and, for a reported AT, ``objname``. An entry without
``objname`` (or an HTTP 400 reply with feedback) is a rejection; its messages are raised in
:class:`TNSReportRejected`. The key is read from the environment and never logged.

The upload is not idempotent: it is sent again only after an answer that says it was not
processed (429, 503, 408, or no connection at all); after a timeout or a cut connection the report
may have been filed, so sending stops with an error that says so (:data:`skysift.net.RETRY_POST`).
Polls only read and are retried like GETs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skysift import net
from skysift.io import InputError
from skysift.net import HttpSettings, TNSError
from skysift.tnsreport.schema import validate_at_report

__all__ = ["SANDBOX_URL", "SEND_KEYS", "TNS_URL", "SendSettings", "TNSReportRejected", "send_report"]

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
class SendSettings:
    """Where and how to send (the sending keys of the ``tns_report`` section; the key lives in the environment)."""

    url: str
    api_key_env: str
    bot_id: int | None
    bot_name: str
    poll_attempts: int
    poll_initial_seconds: float
    poll_max_seconds: float
    http: HttpSettings

    @classmethod
    def from_config(cls, section: Mapping) -> SendSettings:
        """The sending keys of the validated ``tns_report`` section."""
        return net.settings_with_http(cls, section, _KEY)


#: Keys of the ``tns_report`` section that say how to send, not what: changing them rewrites no report.
SEND_KEYS = frozenset(
    {"url", "api_key_env", "bot_id", "bot_name", "poll_attempts", "poll_initial_seconds", "poll_max_seconds"}
    | {"timeout", "retries", "backoff", "backoff_max", "min_interval"}
)


def _post(
    client: net.HttpClient, url: str, data: dict, settings: SendSettings, *, idempotent: bool
) -> tuple[int, Any]:
    """POST a form; returns (status, parsed JSON or None). 401/403 and failures for good raise a TNSError."""
    try:
        response = client.request("POST", url, data=data, idempotent=idempotent)
    except TNSError:
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


def _interpret_reply(reply: Mapping) -> list[dict]:
    """Per report entry: objname (or None) and messages; raise TNSReportRejected if any entry failed."""
    feedback = (reply.get("data") or {}).get("feedback") or {}
    entries = feedback.get("at_report") if isinstance(feedback, Mapping) else None
    if not entries:
        raise TNSReportRejected(_messages(reply) or ["reply without at_report feedback"], reply)
    results, failed = [], []
    for i, entry in enumerate(entries):
        objname = None
        for value in entry.values() if isinstance(entry, Mapping) else ():
            if isinstance(value, Mapping) and value.get("objname"):
                objname = value["objname"]
        messages = _messages(entry)
        results.append({"entry": i, "objname": objname, "messages": messages})
        if objname is None:
            failed += [f"entry {i}: {m}" for m in messages] or [f"entry {i}: no objname in the reply"]
    if failed:
        raise TNSReportRejected(failed, reply)
    return results


def send_report(
    report: Mapping, settings: SendSettings, *, sleep: Callable[[float], None] = time.sleep
) -> dict:
    """Send a validated report to ``settings.url``, poll the reply with backoff, return the outcome."""
    problems = validate_at_report(report)
    if problems:
        raise InputError("refusing to send an invalid TNS report:\n  " + "\n  ".join(problems))
    if settings.bot_id is None:
        raise InputError("tns_report.bot_id is not set: TNS needs the id of your bot in the User-Agent")
    key = net.tns_api_key(settings.api_key_env, f"{_KEY}.api_key_env")
    client = net.HttpClient(
        settings.http, config_key=_KEY, user_agent=net.tns_user_agent(settings.bot_id, settings.bot_name)
    )
    base = settings.url.rstrip("/")
    log.info("sending %d AT report entries to %s/bulk-report", len(report["at_report"]), base)
    upload = {"api_key": key, "data": json.dumps(report)}
    status, body = _post(client, f"{base}/bulk-report", upload, settings, idempotent=False)
    report_id = ((body or {}).get("data") or {}).get("report_id") if isinstance(body, Mapping) else None
    if status != 200 or not report_id:
        messages = _messages((body or {}).get("data")) if isinstance(body, Mapping) else []
        if isinstance(body, Mapping) and body.get("id_message"):
            messages.insert(0, str(body["id_message"]))
        raise TNSReportRejected([f"bulk-report answered HTTP {status}", *messages], body)
    log.info("TNS accepted the upload as report_id %s; polling bulk-report-reply", report_id)
    wait = settings.poll_initial_seconds
    for attempt in range(settings.poll_attempts):
        status, body = _post(
            client,
            f"{base}/bulk-report-reply",
            {"api_key": key, "report_id": report_id},
            settings,
            idempotent=True,
        )
        if status == 404:
            log.info(
                "report %s not processed yet; poll %d/%d again in %.1f s",
                report_id,
                attempt + 1,
                settings.poll_attempts,
                wait,
            )
            sleep(wait)
            wait = min(wait * 2, settings.poll_max_seconds)
            continue
        if not isinstance(body, Mapping):
            raise TNSError(f"bulk-report-reply answered HTTP {status} without JSON")
        results = _interpret_reply(body)
        for r in results:
            log.info("TNS: entry %d reported as %s (%s)", r["entry"], r["objname"], "; ".join(r["messages"]))
        return {"report_id": str(report_id), "url": base, "results": results, "reply": body}
    raise TNSError(
        f"report {report_id} still unprocessed after {settings.poll_attempts} polls; ask TNS later "
        "with bulk-report-reply and this report_id"
    )
