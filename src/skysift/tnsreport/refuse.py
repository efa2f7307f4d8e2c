"""Which selected candidates must not be reported, and why (each refusal is lifted only by ``--force``).

* the cross-match (offline, also in the workflow): a counterpart whose label is a class of
  persistent variability (``tns_report.refuse_classes``: a catalogued long-period variable is no
  transient), or a counterpart in the TNS catalog itself;
* the ledger (when sending): the object was already sent to this TNS (``results/tns/sent.jsonl``);
* TNS itself (when sending): TNS lists the internal name, or an object within
  ``tns_report.known_radius_arcsec`` of the position.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from skysift.tnsreport.ledger import ObjectState

__all__ = ["INTERNAL_PREFIX", "internal_name", "refused_by_crossmatch", "refused_by_ledger", "refused_by_tns"]

log = logging.getLogger(__name__)

#: Internal names of the reports: ZTFDR<objectid> (searchable in TNS).
INTERNAL_PREFIX = "ZTFDR"


def internal_name(objectid: int) -> str:
    """The internal name an object is reported under (and searched by)."""
    return f"{INTERNAL_PREFIX}{int(objectid)}"


def _text(value: Any) -> str:
    """A table cell as a stripped string ('' for masked / missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def refused_by_crossmatch(candidates: pd.DataFrame, refuse_classes: Sequence[str]) -> dict[int, str]:
    """objectid -> why, for rows whose best cross-match is a non-transient class or a TNS object."""
    if "xmatch_label" not in candidates and "xmatch_catalog" not in candidates:
        log.info("the candidate table has no cross-match columns: the cross-match check is skipped")
        return {}
    refuse = {c.strip() for c in refuse_classes}
    out: dict[int, str] = {}
    for row in candidates.to_dict("records"):
        label, catalog = _text(row.get("xmatch_label")), _text(row.get("xmatch_catalog"))
        name, kind = _text(row.get("xmatch_name")), _text(row.get("xmatch_type"))
        where = f"{catalog} {name!r}" + (f" (type {kind!r})" if kind else "")
        if catalog.lower() == "tns":
            out[int(row["objectid"])] = f"already in the TNS catalog: {where}"
        elif label in refuse:
            out[int(row["objectid"])] = (
                f"catalogued as {label} by {where}: not a transient (tns_report.refuse_classes)"
            )
    return out


def refused_by_ledger(
    objectids: Sequence[int], states: Mapping[str, ObjectState], url: str
) -> dict[int, str]:
    """objectid -> why, for objects the ledger records as sent to ``url``."""
    out = {}
    for oid in objectids:
        state = states.get(internal_name(oid))
        if state is not None and state.sent is not None:
            sent = state.sent
            report = f"report {sent['report_id']}" if sent.get("report_id") else "found by a search"
            out[int(oid)] = (
                f"{internal_name(oid)} already sent to {url} as {sent.get('objname')} on {sent['time']} ({report}; ledger)"
            )
    return out


def refused_by_tns(
    candidates: pd.DataFrame, search: Any, radius_arcsec: float
) -> tuple[dict[int, str], dict[int, list[dict]]]:
    """objectid -> why for objects TNS lists (by internal name, or by position); and what each search found.

    ``search`` is :meth:`skysift.tnsreport.send.TNSExchange.search`.
    """
    out: dict[int, str] = {}
    by_name: dict[int, list[dict]] = {}
    for row in candidates.to_dict("records"):
        oid = int(row["objectid"])
        named = search(internal_name=internal_name(oid))
        by_name[oid] = named
        if named:
            out[oid] = f"TNS lists {internal_name(oid)} as {', '.join(o['objname'] for o in named)}"
            continue
        near = search(ra=float(row["ra"]) % 360, dec=float(row["dec"]), radius_arcsec=radius_arcsec)
        if near:
            names = ", ".join(f"{o.get('prefix') or ''} {o['objname']}".strip() for o in near)
            out[oid] = (
                f"TNS already lists {names} within {radius_arcsec:g} arcsec (tns_report.known_radius_arcsec)"
            )
    return out, by_name
