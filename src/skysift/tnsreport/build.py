"""Build a TNS bulk AT report for candidates from their DR light curves.

ZTF values from TNS' value lists: filters g 110, r 111, i 112; instrument P48 ZTF-Cam 196;
flux_units 1 = AB mag. Photometry: the DR epochs of the candidate after the clean stage's epoch cuts
(no minimum number of epochs, :mod:`skysift.lightcurves.epochs`), in AB mag: the discovery epoch,
then per band the first and the brightest (at most ``max_photometry``); ``limiting_flux`` is left
out (DR light curves carry no per-epoch limiting magnitude). Non-detections: ZTF DR light curves
hold detections only, so the last non-detection is not known; the report uses the archival form
(``archiveid`` "0" = Other, with a remark saying so). Dates: DR epochs are heliocentric MJD; they are
reported as UTC without undoing the heliocentric correction (at most 8.3 min), which the remark states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import pandas as pd
from astropy.time import Time

from skysift.config import settings_from
from skysift.io import InputError
from skysift.tnsreport.refuse import internal_name
from skysift.tnsreport.schema import validate_at_report

__all__ = ["TNS_FILTER_IDS", "ZTF_INSTRUMENT_ID", "ReportSettings", "build_at_report"]

#: ZTF filterid -> TNS filter id (TNS value list "filters": ZTF-g 110, ZTF-r 111, ZTF-i 112).
TNS_FILTER_IDS = {1: 110, 2: 111, 3: 112}
ZTF_INSTRUMENT_ID = 196  # P48 - ZTF-Cam
AB_MAG = 1  # flux_units 1 = ABMag
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class ReportSettings:
    """Who reports and how (the report keys of the ``tns_report`` config section)."""

    reporting_group_id: int | None
    discovery_data_source_id: int  # 48 = ZTF
    reporter: str
    at_type: int  # 1 = PSN
    instrument_value: int  # 196 = P48 ZTF-Cam
    exptime: float
    observer: str
    position_error_arcsec: float
    max_photometry: int
    remarks: str
    refuse_classes: tuple[str, ...]  # cross-match labels never reported (persistent variables)

    @classmethod
    def from_config(cls, section: Mapping) -> ReportSettings:
        """The report keys of the validated ``tns_report`` section (its selection and sending keys are not these)."""
        settings = settings_from(
            cls, {f.name: section[f.name] for f in fields(cls) if f.name in section}, "tns_report"
        )
        return replace(settings, refuse_classes=tuple(settings.refuse_classes))


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
            "internal_name": internal_name(oid),
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
