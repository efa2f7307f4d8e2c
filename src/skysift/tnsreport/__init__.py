"""TNS bulk AT reports: build the JSON for selected candidates, validate it, send it only when asked.

Format (TNS' "TNS2.0_bulk_reports_manual", https://www.wis-tns.org/sites/default/files/api/
tns2_manuals/TNS2.0_bulk_reports_manual.pdf, as used by the public TNS sample bulk-report
scripts of K. Smith / J. Nordin, AMPEL's ``tns_ampel_util`` and Fink's ``fink_tns``): a JSON object
``{"at_report": {"0": {...}, "1": {...}}}``; each entry has ``ra``/``dec`` ``{value, error,
units}``, ``reporting_group_id``, ``discovery_data_source_id``, ``reporter``,
``discovery_datetime`` (``YYYY-MM-DD HH:MM:SS.sss`` UTC), ``at_type`` (1 = PSN), ``internal_name``,
``non_detection`` (either ``obsdate, limiting_flux, flux_units, filter_value, instrument_value`` or,
without a known non-detection, ``archiveid`` + ``archival_remarks``) and ``photometry`` →
``photometry_group`` → ``{"0": {obsdate, flux, flux_error, limiting_flux, flux_units,
filter_value, instrument_value, exptime, observer, comments}}``. ZTF values from TNS' value lists:
filters g 110, r 111, i 112; instrument P48 ZTF-Cam 196; flux_units 1 = AB mag.

Photometry: the DR epochs of the candidate after the clean stage's epoch cuts (no minimum number of
epochs, :mod:`skysift.lightcurves.epochs`), in AB mag: the discovery epoch, then per band the first and the
brightest (at most ``max_photometry``); ``limiting_flux`` is left out (DR light curves carry no
per-epoch limiting magnitude). Non-detections: ZTF DR light curves hold detections only, so the last non-detection is not
known; the report uses the archival form (``archiveid`` "0" = Other, with a remark saying so).
Dates: DR epochs are heliocentric MJD; they are reported as UTC without undoing the heliocentric
correction (at most 8.3 min), which the remark states.

Exchange: POST form ``api_key`` + ``data`` (the JSON) to ``<base>/bulk-report`` with the
``tns_marker`` User-Agent → ``{"id_code": 200, "data": {"report_id": ...}}``; then POST
``api_key`` + ``report_id`` to ``<base>/bulk-report-reply`` until it is processed (404 = not yet:
poll again with exponential backoff) → ``data.feedback.at_report``: one dict per entry, keyed by
TNS message codes, whose values carry ``message`` and, for a reported AT, ``objname``. An entry
without ``objname`` (or an HTTP 400 reply with feedback) is a rejection; its messages are raised in
:class:`TNSReportRejected`. The key is read from the environment and never logged.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
from astropy.table import Table
from astropy.time import Time

from skysift.crossmatch.tns import TNSError, tns_user_agent
from skysift.io import InputError, atomic_path
from skysift.lightcurves import read_epochs

__all__ = [
    "AT_REPORT_SCHEMA",
    "SANDBOX_URL",
    "TNS_FILTER_IDS",
    "TNS_URL",
    "ReportSettings",
    "SendSettings",
    "TNSReportRejected",
    "build_at_report",
    "read_epochs",
    "report_candidates",
    "send_report",
    "validate_at_report",
]

log = logging.getLogger(__name__)

TNS_URL = "https://www.wis-tns.org/api"
SANDBOX_URL = "https://sandbox.wis-tns.org/api"
#: ZTF filterid -> TNS filter id (TNS value list "filters": ZTF-g 110, ZTF-r 111, ZTF-i 112).
TNS_FILTER_IDS = {1: 110, 2: 111, 3: 112}
ZTF_INSTRUMENT_ID = 196  # P48 - ZTF-Cam
AB_MAG = 1  # flux_units 1 = ABMag
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class TNSReportRejected(TNSError):
    """TNS processed the report and rejected (part of) it; ``messages`` has TNS' error messages."""

    def __init__(self, messages: Sequence[str], reply: Mapping | None = None) -> None:
        self.messages = list(messages)
        self.reply = reply
        super().__init__("TNS rejected the report:\n  " + "\n  ".join(self.messages))


@dataclass(frozen=True)
class ReportSettings:
    """Who reports and how (the ``tns_report`` config section, minus sending)."""

    reporting_group_id: int | None = None
    discovery_data_source_id: int = 48  # ZTF
    reporter: str = ""
    at_type: int = 1  # PSN
    instrument_value: int = ZTF_INSTRUMENT_ID
    exptime: float = 30.0
    observer: str = "Robot"
    position_error_arcsec: float = 0.5
    max_photometry: int = 6
    remarks: str = "Found in ZTF data-release light curves by skysift."

    @classmethod
    def from_config(cls, section: Mapping) -> ReportSettings:
        """The report keys of a ``tns_report`` config section (other keys are ignored)."""
        return cls(**{f.name: section[f.name] for f in fields(cls) if section.get(f.name) is not None})


@dataclass(frozen=True)
class SendSettings:
    """Where and how to send (sandbox by default; the key lives in the environment)."""

    url: str = SANDBOX_URL
    api_key_env: str = "TNS_API_KEY"
    bot_id: int | None = None
    bot_name: str = "skysift"
    timeout: float = 60.0
    max_retries: int = 3
    poll_attempts: int = 8
    poll_initial_seconds: float = 2.0
    poll_max_seconds: float = 60.0

    @classmethod
    def from_config(cls, section: Mapping) -> SendSettings:
        """The sending keys of a ``tns_report`` config section (other keys are ignored)."""
        return cls(**{f.name: section[f.name] for f in fields(cls) if section.get(f.name) is not None})


# -- the documented structure ------------------------------------------------------------------------
_NUM = {"type": ["number", "string"], "pattern": r"^-?[0-9.eE+-]+$"}
_ID = {"type": ["integer", "string"], "pattern": r"^[0-9]+$"}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$"}
_COORD = {
    "type": "object",
    "required": ["value"],
    "properties": {"value": _NUM, "error": _NUM, "units": {"enum": ["arcsec", "arcmin", "deg"]}},
}
_PHOT = {
    "type": "object",
    "required": ["obsdate", "flux", "flux_error", "flux_units", "filter_value", "instrument_value"],
    "properties": {
        "obsdate": _DATE,
        "flux": _NUM,
        "flux_error": _NUM,
        "limiting_flux": _NUM,
        "flux_units": _ID,
        "filter_value": _ID,
        "instrument_value": _ID,
        "exptime": _NUM,
        "observer": {"type": "string"},
        "comments": {"type": "string"},
    },
}
#: JSON schema of a bulk AT report (required fields and value types from the bulk-report manual).
AT_REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["at_report"],
    "additionalProperties": False,
    "properties": {
        "at_report": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": r"^[0-9]+$"},
            "additionalProperties": {
                "type": "object",
                "required": [
                    "ra",
                    "dec",
                    "reporting_group_id",
                    "discovery_data_source_id",
                    "reporter",
                    "discovery_datetime",
                    "at_type",
                    "non_detection",
                    "photometry",
                ],
                "properties": {
                    "ra": _COORD,
                    "dec": _COORD,
                    "reporting_group_id": _ID,
                    "discovery_data_source_id": _ID,
                    "reporter": {"type": "string", "minLength": 1},
                    "discovery_datetime": _DATE,
                    "at_type": _ID,
                    "internal_name": {"type": "string"},
                    "remarks": {"type": "string"},
                    "non_detection": {
                        "type": "object",
                        "oneOf": [
                            {
                                "required": [
                                    "obsdate",
                                    "limiting_flux",
                                    "flux_units",
                                    "filter_value",
                                    "instrument_value",
                                ]
                            },
                            {"required": ["archiveid", "archival_remarks"]},
                        ],
                        "properties": {
                            "obsdate": _DATE,
                            "limiting_flux": _NUM,
                            "flux_units": _ID,
                            "filter_value": _ID,
                            "instrument_value": _ID,
                            "archiveid": _ID,
                            "archival_remarks": {"type": "string", "minLength": 1},
                        },
                    },
                    "photometry": {
                        "type": "object",
                        "required": ["photometry_group"],
                        "properties": {
                            "photometry_group": {
                                "type": "object",
                                "minProperties": 1,
                                "propertyNames": {"pattern": r"^[0-9]+$"},
                                "additionalProperties": _PHOT,
                            }
                        },
                    },
                },
            },
        }
    },
}


def validate_at_report(report: Mapping) -> list[str]:
    """Problems of a report against the documented structure (empty = valid), each with its JSON path."""
    validator = jsonschema.Draft202012Validator(AT_REPORT_SCHEMA)
    problems = [
        f"{'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))
    ]
    for key, entry in (report.get("at_report") or {}).items() if isinstance(report, Mapping) else ():
        if not isinstance(entry, Mapping):
            continue
        try:
            ra, dec = float(entry["ra"]["value"]), float(entry["dec"]["value"])
        except (KeyError, TypeError, ValueError):
            continue
        if not 0 <= ra < 360:
            problems.append(f"at_report/{key}/ra/value: {ra} is outside [0, 360)")
        if not -90 <= dec <= 90:
            problems.append(f"at_report/{key}/dec/value: {dec} is outside [-90, 90]")
    return problems


# -- building ------------------------------------------------------------------------------------------
def _utc(hmjd: float) -> str:
    """An (H)MJD as TNS' datetime string, UTC, milliseconds."""
    return Time(float(hmjd), format="mjd", scale="utc").to_datetime().strftime(DATETIME_FORMAT)[:-3]


def _photometry_rows(ep: pd.DataFrame, since: float | None, limit: int) -> pd.DataFrame:
    """Discovery epoch, then per band the first and the brightest epoch (from ``since`` on), by time."""
    if since is not None:
        ep = ep[ep["hmjd"] >= since]
    ep = ep.sort_values("hmjd", kind="stable")
    picks = [ep.index[0]] if len(ep) else []
    for _, band in ep.groupby("filterid"):
        picks += [band.index[0], band["mag"].idxmin()]
    chosen = ep.loc[list(dict.fromkeys(picks))].sort_values("hmjd", kind="stable")
    return chosen.head(limit)


def build_at_report(
    candidates: pd.DataFrame,
    epochs: pd.DataFrame,
    settings: ReportSettings,
    *,
    since_mjd: Mapping[int, float] | None = None,
) -> dict:
    """The bulk AT report for the candidates (objectid, ra, dec) with photometry from their DR epochs.

    ``since_mjd`` (objectid -> MJD, e.g. the GW event time) makes discovery the first epoch after it.
    """
    if not settings.reporter.strip():
        raise InputError("tns_report.reporter is empty: TNS needs the reporters' names")
    if settings.reporting_group_id is None:
        raise InputError("tns_report.reporting_group_id is not set: give your TNS reporting group id")
    entries: dict[str, dict] = {}
    for i, row in enumerate(candidates.itertuples(index=False)):
        oid = int(row.objectid)
        since = None if since_mjd is None else since_mjd.get(oid)
        phot = _photometry_rows(epochs[epochs["objectid"] == oid], since, settings.max_photometry)
        if phot.empty:
            after = f" after MJD {since}" if since is not None else ""
            raise InputError(
                f"objectid {oid}: no clean DR epochs{after}; cannot report it without photometry"
            )
        unknown = sorted(set(phot["filterid"]) - set(TNS_FILTER_IDS))
        if unknown:
            raise InputError(f"objectid {oid}: filterid(s) {unknown} have no TNS filter id")
        groups = {
            str(k): {
                "obsdate": _utc(p.hmjd),
                "flux": f"{p.mag:.3f}",
                "flux_error": f"{p.magerr:.3f}",
                "flux_units": str(AB_MAG),
                "filter_value": str(TNS_FILTER_IDS[int(p.filterid)]),
                "instrument_value": str(settings.instrument_value),
                "exptime": f"{settings.exptime:g}",
                "observer": settings.observer,
                "comments": f"ZTF DR PSF-fit magnitude, objectid {oid}",
            }
            for k, p in enumerate(phot.itertuples(index=False))
        }
        err = f"{settings.position_error_arcsec:g}"
        entries[str(i)] = {
            "ra": {"value": f"{float(row.ra) % 360:.6f}", "error": err, "units": "arcsec"},
            "dec": {"value": f"{float(row.dec):.6f}", "error": err, "units": "arcsec"},
            "reporting_group_id": str(settings.reporting_group_id),
            "discovery_data_source_id": str(settings.discovery_data_source_id),
            "reporter": settings.reporter,
            "discovery_datetime": groups["0"]["obsdate"],
            "at_type": str(settings.at_type),
            "internal_name": f"ZTFDR{oid}",
            "remarks": settings.remarks + " Dates are DR heliocentric MJDs given as UTC (within 8.3 min).",
            "non_detection": {
                "archiveid": "0",
                "archival_remarks": "ZTF data-release light curves list detections only: no last "
                "non-detection is known.",
            },
            "photometry": {"photometry_group": groups},
        }
    report = {"at_report": entries}
    problems = validate_at_report(report)
    if problems:
        raise InputError("the built TNS report is invalid:\n  " + "\n  ".join(problems))
    return report


# -- sending -----------------------------------------------------------------------------------------
def _api_key(env: str) -> str:
    """The TNS bot key from the environment (never from the config, never logged)."""
    key = os.environ.get(env, "").strip()
    if not key:
        raise InputError(
            f"environment variable {env} (tns_report.api_key_env) is not set: export your TNS bot API key "
            "there (never put it in the config)"
        )
    return key


def _post(url: str, data: dict, settings: SendSettings, sleep: Callable[[float], None]):
    """POST a form with retries on 5xx/429/network errors; returns (status, parsed JSON or None)."""
    import requests

    headers = {"User-Agent": tns_user_agent(settings.bot_id, settings.bot_name)}
    for attempt in range(settings.max_retries + 1):
        try:
            response = requests.post(url, data=data, headers=headers, timeout=settings.timeout)
            try:
                body = response.json()
            except ValueError:
                body = None
            if response.status_code in (401, 403):
                raise TNSError(
                    f"TNS at {url} refused the request (HTTP {response.status_code}): check the key "
                    f"in ${settings.api_key_env} and tns_report.bot_id/bot_name"
                )
            if response.status_code < 500 and response.status_code != 429:
                return response.status_code, body
            problem = f"HTTP {response.status_code}"
        except (requests.Timeout, requests.ConnectionError) as exc:
            problem = type(exc).__name__  # never the message: it may echo the request
        if attempt == settings.max_retries:
            raise TNSError(f"POST {url} failed {attempt + 1} times (last: {problem})")
        wait = settings.poll_initial_seconds * 2**attempt
        log.warning(
            "TNS %s: %s, retry %d/%d in %.1f s", url, problem, attempt + 1, settings.max_retries, wait
        )
        sleep(wait)
    raise AssertionError("unreachable")


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
    key = _api_key(settings.api_key_env)
    base = settings.url.rstrip("/")
    log.info("sending %d AT report entries to %s/bulk-report", len(report["at_report"]), base)
    status, body = _post(f"{base}/bulk-report", {"api_key": key, "data": json.dumps(report)}, settings, sleep)
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
            f"{base}/bulk-report-reply", {"api_key": key, "report_id": report_id}, settings, sleep
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


# -- the stage -----------------------------------------------------------------------------------------
def report_candidates(
    candidates_path: str | Path,
    dr_files: Iterable[str | Path],
    output: str | Path,
    settings: ReportSettings,
    *,
    clean: Mapping | None = None,
    objectids: Sequence[int] | None = None,
    top_n: int = 3,
    send: SendSettings | None = None,
    reply_output: str | Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Build (and, with ``send``, submit) the report for ``objectids`` or the first ``top_n`` rows of a table.

    ``dr_files`` hold the light curves (DR layout: fetched DR files or clean files; ``clean`` = the
    clean config whose epoch cuts apply, see :mod:`skysift.lightcurves.epochs`). A sky-map counterpart table (with ``event_mjd`` in its meta) makes discovery the first epoch
    after the event. Writes the report JSON to ``output`` and the outcome to ``reply_output``.
    """
    table = Table.read(candidates_path)
    for col in ("objectid", "ra", "dec"):
        if col not in table.colnames:
            raise InputError(f"{candidates_path}: no column {col!r}; need a candidate table")
    df = table.to_pandas()
    if objectids:
        wanted = [int(i) for i in objectids]
        missing = sorted(set(wanted) - set(df["objectid"].astype(np.int64)))
        if missing:
            raise InputError(
                f"{candidates_path}: objectid(s) {missing} (tns_report.objectids) are not in the table"
            )
        df = df.set_index("objectid").loc[wanted].reset_index()
    else:
        df = df.head(top_n)
    event = table.meta.get("event_mjd")
    since = {int(o): float(event) for o in df["objectid"]} if event is not None else None
    epochs = read_epochs(dr_files, df["objectid"].tolist(), clean)
    report = build_at_report(df, epochs, settings, since_mjd=since)
    with atomic_path(output) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    log.info("wrote a TNS AT report of %d entries to %s", len(report["at_report"]), output)
    outcome: dict = {"sent": False, "entries": len(report["at_report"])}
    if send is not None:
        outcome = {"sent": True, **send_report(report, send, sleep=sleep)}
    else:
        log.info("not sent (set tns_send=true or pass --send to submit it to %s)", SendSettings().url)
    if reply_output is not None:
        with atomic_path(reply_output) as tmp:
            tmp.write_text(json.dumps(outcome, indent=2) + "\n")
    return outcome
