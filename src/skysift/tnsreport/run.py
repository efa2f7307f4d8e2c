"""The TNS report stage: select candidates, build and write the report, send it only when asked."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from astropy.table import Table

from skysift.io import InputError, atomic_path
from skysift.lightcurves import manifest_files, read_epochs
from skysift.tnsreport.build import ReportSettings, build_at_report
from skysift.tnsreport.send import SendSettings, send_report

__all__ = ["report_candidates", "run_report_to_tns"]

log = logging.getLogger(__name__)


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
    clean config whose epoch cuts apply, see :mod:`skysift.lightcurves.epochs`). A sky-map counterpart
    table (with ``event_mjd`` in its meta) makes discovery the first epoch after the event. Writes the report JSON to ``output`` and the outcome to ``reply_output``.
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
        log.info("not sent (set tns_send=true, or pass --send to skysift report-tns, to submit it)")
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
    send: Mapping | None,
) -> dict:
    """The workflow's TNS report: ``report`` holds the report keys of the validated ``tns_report``
    section, ``send`` the whole section when sending was asked for (else None), ``clean`` the clean section."""
    return report_candidates(
        table,
        manifest_files(manifests),
        output,
        ReportSettings.from_config(report),
        clean=clean,
        objectids=report["objectids"],
        top_n=report["top_n"],
        send=SendSettings.from_config(send) if send is not None else None,
        reply_output=outcome_output,
    )
