"""The structure of a TNS bulk AT report (TNS' "TNS2.0_bulk_reports_manual"), as a JSON schema and a validator.

A JSON object ``{"at_report": {"0": {...}, "1": {...}}}``; each entry has ``ra``/``dec`` ``{value,
error, units}``, ``reporting_group_id``, ``discovery_data_source_id``, ``reporter``,
``discovery_datetime`` (``YYYY-MM-DD HH:MM:SS.sss`` UTC), ``at_type``, ``internal_name``,
``non_detection`` (either ``obsdate, limiting_flux, flux_units, filter_value, instrument_value`` or
``archiveid`` + ``archival_remarks``) and ``photometry`` -> ``photometry_group`` -> ``{"0": {obsdate,
flux, flux_error, limiting_flux, flux_units, filter_value, instrument_value, exptime, observer,
comments}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

__all__ = ["AT_REPORT_SCHEMA", "validate_at_report"]

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
