"""The TNS report: select candidates, refuse what must not be reported, build and write the JSON, and (only from
``skysift report-tns --send``) deliver it exactly once."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.table import Table

from skysift.io import InputError, atomic_path
from skysift.lightcurves import manifest_files, read_epochs
from skysift.tnsreport.build import ReportSettings, build_at_report
from skysift.tnsreport.deliver import deliver_report, settle_pending
from skysift.tnsreport.ledger import Ledger
from skysift.tnsreport.refuse import internal_name, refused_by_crossmatch, refused_by_ledger, refused_by_tns
from skysift.tnsreport.send import SendSettings, TNSExchange

__all__ = ["report_candidates", "run_report_to_tns"]

log = logging.getLogger(__name__)


def _select(
    candidates_path: str | Path, objectids: Sequence[int] | None, top_n: int
) -> tuple[pd.DataFrame, Table]:
    """The rows to report: ``objectids`` (all must be in the table) or the first ``top_n``."""
    table = Table.read(candidates_path)
    for col in ("objectid", "ra", "dec"):
        if col not in table.colnames:
            raise InputError(f"{candidates_path}: no column {col!r}; need a candidate table")
    df = table.to_pandas()  # masked cells become None / NaN (refuse._text reads them as empty)
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
    return df, table


def _keep(df: pd.DataFrame, refused: dict[int, str], where: str) -> pd.DataFrame:
    """The rows not refused; every refusal logged; none left is an error that lists them."""
    for oid, why in refused.items():
        log.warning("objectid %d is not reported: %s", oid, why)
    kept = df[~df["objectid"].astype(np.int64).isin(list(refused))]
    if kept.empty:
        lines = "\n  ".join(f"{oid}: {why}" for oid, why in refused.items())
        raise InputError(
            f"{where}: every selected candidate is refused, nothing to report:\n  {lines}\n"
            "Choose others (tns_report.objectids, --objectid), or pass --force to `skysift report-tns` "
            "if you are sure they are new transients"
        )
    return kept


def _build(df, table, dr_files, clean, settings, output) -> dict:
    """Build the report of ``df``'s rows from their DR epochs and write it atomically."""
    event = table.meta.get("event_mjd")
    since = {int(o): float(event) for o in df["objectid"]} if event is not None else None
    epochs = read_epochs(dr_files, df["objectid"].tolist(), clean)
    report = build_at_report(df, epochs, settings, since_mjd=since)
    with atomic_path(output) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    log.info("wrote a TNS AT report of %d entries to %s", len(report["at_report"]), output)
    return report


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
    ledger: str | Path = "results/tns/sent.jsonl",
    force: bool = False,
    reply_output: str | Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> dict:
    """Build (and, with ``send``, deliver exactly once) the report for ``objectids`` or the first ``top_n`` rows.

    ``dr_files`` hold the light curves (DR layout; ``clean`` = the clean config whose epoch cuts apply,
    see :mod:`skysift.lightcurves.epochs`). A sky-map counterpart table (with ``event_mjd`` in its
    meta) makes discovery the first epoch after the event. Candidates are refused as
    :mod:`skysift.tnsreport.refuse` says unless ``force``: by their cross-match always, and when
    sending also by ``ledger`` and by TNS itself. Writes the report JSON (the entries sent) to
    ``output`` and the outcome to ``reply_output``.
    """
    df, table = _select(candidates_path, objectids, top_n)
    refused = {} if force else refused_by_crossmatch(df, settings.refuse_classes)
    if send is None:
        kept = _keep(df, refused, str(candidates_path))
        report = _build(kept, table, dr_files, clean, settings, output)
        log.info(
            "not sent: `skysift report-tns --send` sends it (exactly once, checked against the ledger and TNS)"
        )
        outcome: dict = {"sent": False, "entries": len(report["at_report"])}
    else:
        exchange = TNSExchange(send, sleep=sleep)
        book = Ledger(ledger)
        with book.locked():
            settle_pending(exchange, book, book.states(exchange.base), clock)
            if not force:
                rest = df[~df["objectid"].astype(np.int64).isin(list(refused))]
                states = book.states(exchange.base)
                refused |= refused_by_ledger(
                    rest["objectid"].astype(np.int64).tolist(), states, exchange.base
                )
                rest = rest[~rest["objectid"].astype(np.int64).isin(list(refused))]
                known, by_name = refused_by_tns(rest, exchange.search, send.known_radius_arcsec)
                for oid, listed in by_name.items():  # sent before, by another ledger: record it here
                    if listed:
                        book.append("sent", exchange.base, report_id=None, objectid=oid, internal_name=internal_name(oid),
                                    objname=listed[0]["objname"], how="search")  # fmt: skip
                refused |= known
            kept = _keep(df, refused, str(candidates_path))
            report = _build(kept, table, dr_files, clean, settings, output)
            names = {internal_name(o): int(o) for o in kept["objectid"]}
            outcome = {"sent": True, **deliver_report(exchange, report, names, book, clock=clock)}
    outcome["refused"] = [{"objectid": oid, "why": why} for oid, why in refused.items()]
    if reply_output is not None:
        with atomic_path(reply_output) as tmp:
            tmp.write_text(json.dumps(outcome, indent=2) + "\n")
    return outcome


def run_report_to_tns(
    table: str | Path,
    manifests: Iterable[str | Path],
    output: str | Path,
    outcome_output: str | Path,
    report: Mapping,
    *,
    clean: Mapping,
) -> dict:
    """The workflow's TNS report (built, never sent): ``report`` holds the report keys of the validated
    ``tns_report`` section, ``clean`` the clean section. Sending is ``skysift report-tns --send``."""
    return report_candidates(
        table,
        manifest_files(manifests),
        output,
        ReportSettings.from_config(report),
        clean=clean,
        objectids=report["objectids"],
        top_n=report["top_n"],
        reply_output=outcome_output,
    )
