"""Exactly-once delivery of a bulk AT report: ledger first, ask TNS before any second upload.

1. Unsettled uploads of earlier runs (``pending`` in :class:`~skysift.tnsreport.ledger.Ledger`) are
   settled first: with a report id through the reply endpoint, without one (the answer was lost, or
   the run was killed during the upload) by searching TNS for the internal names.
2. The upload is recorded (fsync'd) before it is POSTed. When its answer is lost (a timeout, a cut
   connection, a 5xx: :class:`skysift.net.MaybeDelivered`), TNS is searched for the internal names,
   in rounds spaced like the reply polls (``poll_initial_seconds`` doubling up to ``poll_max_seconds``,
   ``poll_attempts`` rounds), because TNS files bulk reports asynchronously. Objects TNS lists are
   recorded as sent; only if it lists none of them after that patience is the upload sent again
   (at most ``retries`` times). If it lists some but not all, nothing is sent again: the rest are
   reported as not filed, and a rerun asks again.
3. The reply gives each entry's TNS name (``sent``) or TNS' messages (``rejected``).

Residual risk, stated: if TNS takes longer to file a report than that patience, a second upload can
still reach it; raise ``tns_report.poll_attempts`` / ``poll_max_seconds`` for a slow TNS.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from skysift import net
from skysift.io import InputError
from skysift.net import TNSError
from skysift.tnsreport.ledger import Ledger, ObjectState
from skysift.tnsreport.schema import validate_at_report
from skysift.tnsreport.send import TNSExchange, TNSReportRejected, poll_waits, rejection

__all__ = ["deliver_report", "report_sha256", "settle_pending"]

log = logging.getLogger(__name__)


def report_sha256(report: Mapping) -> str:
    """A stable hash of a report's JSON (keys sorted): which upload a ledger line is about."""
    return hashlib.sha256(json.dumps(report, sort_keys=True).encode()).hexdigest()


def _age_seconds(iso: str, clock: Callable[[], float]) -> float:
    """Seconds since an ISO time of the ledger."""
    return clock() - datetime.fromisoformat(iso).timestamp()


def _search_rounds(
    exchange: TNSExchange, names: Mapping[str, int], since: str, clock: Callable[[], float]
) -> dict[str, str]:
    """internal name -> objname for the names TNS lists, asked in rounds until all are listed or patience
    (the poll schedule, counted from ``since``) is spent."""
    found: dict[str, str] = {}
    patience = sum(poll_waits(exchange.settings))
    for n, wait in enumerate(poll_waits(exchange.settings)):
        for name in names:
            if name not in found:
                listed = exchange.search(internal_name=name)
                if listed:
                    found[name] = listed[0]["objname"]
        if len(found) == len(names) or _age_seconds(since, clock) >= patience:
            break
        log.info("TNS lists %d of %d objects of the upload; asking again in %.1f s (round %d/%d)",
                 len(found), len(names), wait, n + 1, exchange.settings.poll_attempts)  # fmt: skip
        exchange.sleep(wait)
    return found


def _record_reply(
    ledger: Ledger, url: str, report_id: str, names: list[tuple[str, int]], results: list[dict]
) -> None:
    """Ledger events of a processed report: one per entry, in report order."""
    for (name, oid), result in zip(names, results, strict=False):
        if result.get("objname"):
            ledger.append("sent", url, report_id=report_id, objectid=oid, internal_name=name,
                          objname=result["objname"], how="reply")  # fmt: skip
        else:
            ledger.append("rejected", url, report_id=report_id, objectid=oid, internal_name=name,
                          messages=result.get("messages", []))  # fmt: skip


def _processed_reply(exchange: TNSExchange, report_id: str, unprocessed: str) -> list[dict]:
    """TNS's per-object reply to report ``report_id``; a TNSError "report <id> <unprocessed>" while it has none."""
    results = exchange.reply(report_id)
    if results is None:
        raise TNSError(f"report {report_id} {unprocessed}")
    return results


def _entries(report: Mapping, objectids: Mapping[str, int]) -> list[tuple[str, int]]:
    """(internal name, objectid) of the report's entries, in the report's order."""
    entries = report["at_report"]
    return [
        (e["internal_name"], int(objectids[e["internal_name"]]))
        for _, e in sorted(entries.items(), key=lambda kv: int(kv[0]))
    ]


def settle_pending(
    exchange: TNSExchange,
    ledger: Ledger,
    states: Mapping[str, ObjectState],
    clock: Callable[[], float] = time.time,
) -> None:
    """Settle the unsettled uploads of earlier runs among ``states`` (asking TNS), recording the answers."""
    url = exchange.base
    uploads: dict[str, dict] = {}
    for state in states.values():
        if state.pending is not None:
            uploads.setdefault(state.pending["report_sha256"], state.pending)
    for sha, upload in uploads.items():
        objects = {o["internal_name"]: int(o["objectid"]) for o in upload.get("objects", [])}
        unsettled = {n: o for n, o in objects.items() if states.get(n) and states[n].pending}
        if upload.get("report_id"):
            report_id = str(upload["report_id"])
            log.info("asking TNS for the reply of report %s (accepted by an earlier run)", report_id)
            results = _processed_reply(
                exchange, report_id, f"(sent {upload['time']}) is still unprocessed at {url}; nothing is sent "
                "until TNS has answered for it: run the command again later",
            )  # fmt: skip
            _record_reply(ledger, url, report_id, list(objects.items()), results)
            continue
        log.info("an upload of %s (%d objects) has no known outcome: searching TNS for its internal names",
                 upload["time"], len(unsettled))  # fmt: skip
        found = _search_rounds(exchange, unsettled, upload["time"], clock)
        for name, objname in found.items():
            ledger.append("sent", url, report_id=None, objectid=unsettled[name], internal_name=name,
                          objname=objname, how="search")  # fmt: skip
        if not found:
            ledger.append("not_arrived", url, report_sha256=sha, why="TNS lists none of its objects")


def deliver_report(
    exchange: TNSExchange,
    report: Mapping,
    objectids: Mapping[str, int],
    ledger: Ledger,
    *,
    clock: Callable[[], float] = time.time,
) -> dict:
    """Upload ``report`` exactly once (see the module doc); ``objectids`` maps internal names to objectids.

    Returns ``{report_id, url, results: [{entry, objectid, internal_name, objname, messages}]}``.
    """
    problems = validate_at_report(report)
    if problems:
        raise InputError("refusing to send an invalid TNS report:\n  " + "\n  ".join(problems))
    url = exchange.base
    sha = report_sha256(report)
    names = _entries(report, objectids)
    attempts = exchange.settings.http.retries + 1
    for attempt in range(attempts):
        upload = ledger.append("upload", url, report_sha256=sha,
                               objects=[{"internal_name": n, "objectid": o} for n, o in names])  # fmt: skip
        log.info(
            "sending %d AT report entries to %s/bulk-report (upload %d/%d)",
            len(names),
            url,
            attempt + 1,
            attempts,
        )
        try:
            report_id = exchange.upload(report)
        except net.MaybeDelivered as lost:
            log.warning("%s", lost)
            log.warning("the upload may have reached TNS: searching TNS for its %d internal names before anything "
                        "is sent again", len(names))  # fmt: skip
            found = _search_rounds(exchange, dict(names), upload["time"], clock)
            if not found:
                ledger.append("not_arrived", url, report_sha256=sha, why=str(lost))
                if attempt + 1 < attempts:
                    log.warning("TNS lists none of them: the upload did not arrive; sending it again")
                    continue
                raise TNSError(
                    f"{lost} TNS lists none of its objects after asking, {attempts} upload(s) tried; "
                    "nothing was filed: run the command again later"
                ) from None
            results = []
            for i, (name, oid) in enumerate(names):
                objname = found.get(name)
                if objname:
                    ledger.append("sent", url, report_id=None, objectid=oid, internal_name=name,
                                  objname=objname, how="search")  # fmt: skip
                results.append({"entry": i, "objectid": oid, "internal_name": name, "objname": objname,
                                "messages": ["confirmed by a TNS search after the upload's answer was lost"]
                                if objname else ["not listed by TNS after the upload; a rerun asks again"]})  # fmt: skip
            missing = [n for n, _ in names if n not in found]
            if missing:
                raise TNSError(
                    f"the upload's answer was lost; TNS lists {len(found)} of its objects but not {missing}: "
                    "they may have been refused; nothing was sent again. Run the command again later: it asks "
                    "TNS first and sends only what TNS does not list"
                ) from None
            return {"report_id": None, "url": url, "results": results}
        except TNSReportRejected:
            ledger.append("not_arrived", url, report_sha256=sha, why="TNS answered the upload with an error")
            raise
        ledger.append("accepted", url, report_sha256=sha, report_id=report_id)
        log.info("TNS accepted the upload as report_id %s; polling bulk-report-reply", report_id)
        results = _processed_reply(
            exchange, report_id, f"still unprocessed after {exchange.settings.poll_attempts} polls; run the "
            "command again later: it asks TNS for this report's reply before sending anything",
        )  # fmt: skip
        _record_reply(ledger, url, report_id, names, results)
        refused = rejection(results, exchange.last_reply)
        if refused is not None:
            raise refused
        out = []
        for (name, oid), result in zip(names, results, strict=False):
            log.info(
                "TNS: %s (objectid %d) reported as %s (%s)",
                name,
                oid,
                result["objname"],
                "; ".join(result["messages"]),
            )
            out.append({**result, "objectid": oid, "internal_name": name})
        return {"report_id": report_id, "url": url, "results": out}
    raise AssertionError("unreachable")
