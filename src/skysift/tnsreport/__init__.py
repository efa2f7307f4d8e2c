"""TNS bulk AT reports: build the JSON for selected candidates, validate it, and send it exactly once.

- :mod:`~skysift.tnsreport.schema`: the report's documented structure (TNS' bulk-report manual) and its validator.
- :mod:`~skysift.tnsreport.build`: the AT entries from candidates and their DR epochs.
- :mod:`~skysift.tnsreport.refuse`: candidates not to report (non-transient cross-match, already sent, known to TNS).
- :mod:`~skysift.tnsreport.ledger`: the append-only, fsync'd record of what was sent (``results/tns/sent.jsonl``).
- :mod:`~skysift.tnsreport.send`: the bulk-report exchange (upload, reply polls, searches) through :class:`skysift.net.HttpClient`.
- :mod:`~skysift.tnsreport.deliver`: exactly-once delivery (ask TNS before any second upload).
- :mod:`~skysift.tnsreport.run`: select, refuse, build, write, send (``skysift report-tns --send`` only).

The format follows TNS' "TNS2.0_bulk_reports_manual" (https://www.wis-tns.org/sites/default/files/api/
tns2_manuals/TNS2.0_bulk_reports_manual.pdf) as used by the public TNS sample bulk-report scripts of
K. Smith / J. Nordin, AMPEL's ``tns_ampel_util`` and Fink's ``fink_tns``.
"""

from skysift.lightcurves import read_epochs
from skysift.net import TNSError
from skysift.tnsreport.build import TNS_FILTER_IDS, ReportSettings, build_at_report
from skysift.tnsreport.deliver import deliver_report, report_sha256, settle_pending
from skysift.tnsreport.ledger import Ledger, ObjectState
from skysift.tnsreport.refuse import internal_name, refused_by_crossmatch
from skysift.tnsreport.run import report_candidates, run_report_to_tns
from skysift.tnsreport.schema import AT_REPORT_SCHEMA, validate_at_report
from skysift.tnsreport.send import (
    SANDBOX_URL,
    SEND_KEYS,
    TNS_URL,
    SendSettings,
    TNSExchange,
    TNSReportRejected,
)

__all__ = [
    "AT_REPORT_SCHEMA",
    "SANDBOX_URL",
    "SEND_KEYS",
    "TNS_FILTER_IDS",
    "TNS_URL",
    "Ledger",
    "ObjectState",
    "ReportSettings",
    "SendSettings",
    "TNSError",
    "TNSExchange",
    "TNSReportRejected",
    "build_at_report",
    "deliver_report",
    "internal_name",
    "read_epochs",
    "refused_by_crossmatch",
    "report_candidates",
    "report_sha256",
    "run_report_to_tns",
    "settle_pending",
    "validate_at_report",
]
