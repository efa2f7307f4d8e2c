"""TNS bulk AT reports: build the JSON for selected candidates, validate it, send it only when asked.

- :mod:`~skysift.tnsreport.schema`: the report's documented structure (TNS' bulk-report manual) and its validator.
- :mod:`~skysift.tnsreport.build`: the AT entries from candidates and their DR epochs.
- :mod:`~skysift.tnsreport.send`: upload and reply polling, through :class:`skysift.net.HttpClient`.
- :mod:`~skysift.tnsreport.run`: the stage (select, build, write, send).

The format follows TNS' "TNS2.0_bulk_reports_manual" (https://www.wis-tns.org/sites/default/files/api/
tns2_manuals/TNS2.0_bulk_reports_manual.pdf) as used by the public TNS sample bulk-report scripts of
K. Smith / J. Nordin, AMPEL's ``tns_ampel_util`` and Fink's ``fink_tns``.
"""

from skysift.lightcurves import read_epochs
from skysift.net import TNSError
from skysift.tnsreport.build import TNS_FILTER_IDS, ReportSettings, build_at_report
from skysift.tnsreport.run import report_candidates, run_report_to_tns
from skysift.tnsreport.schema import AT_REPORT_SCHEMA, validate_at_report
from skysift.tnsreport.send import (
    SANDBOX_URL,
    SEND_KEYS,
    TNS_URL,
    SendSettings,
    TNSReportRejected,
    send_report,
)

__all__ = [
    "AT_REPORT_SCHEMA",
    "SANDBOX_URL",
    "SEND_KEYS",
    "TNS_FILTER_IDS",
    "TNS_URL",
    "ReportSettings",
    "SendSettings",
    "TNSError",
    "TNSReportRejected",
    "build_at_report",
    "read_epochs",
    "report_candidates",
    "run_report_to_tns",
    "send_report",
    "validate_at_report",
]
