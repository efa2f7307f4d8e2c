"""The candidate-table contract: selections, columns (dtype, unit, description) and object links."""

from __future__ import annotations

import astropy.units as u
from astropy.table import Table

__all__ = [
    "ALERCE_URL",
    "CANDIDATE_COLUMNS",
    "DEFAULT_TRANSIENT_CLASSES",
    "FINK_URL",
    "SELECTIONS",
    "SNAD_URL",
    "SOURCE_SELECTIONS",
    "UCDS",
    "apply_ucds",
    "column_descriptions",
    "snad_url",
]

#: The SNAD ZTF viewer page of one object in one data release.
SNAD_URL = "https://ztf.snad.space/{dr}/view/{objectid}"
#: The ALeRCE broker page of a ZTF alert object (needs its alert name, e.g. ZTF18abcdefg).
ALERCE_URL = "https://alerce.online/object/{ztf_name}"
#: The Fink broker page of a ZTF alert object.
FINK_URL = "https://fink-portal.org/{ztf_name}"

#: Selections a candidate list can use (config ``candidates.lists.<name>.select``).
SELECTIONS: tuple[str, ...] = ("anomalies", "class", "unknown_transients", "early_snia", "kilonova")
#: Selections fed by a per-source classifier's predictions (name -> its probability column).
SOURCE_SELECTIONS: dict[str, str] = {"early_snia": "prob_snia", "kilonova": "prob_kilonova"}
#: Description of the ``source_probability`` column per source selection.
_SOURCE_PROBABILITY = {
    "early_snia": "Early SN Ia classifier probability that the sky source is a rising SN Ia",
    "kilonova": "Kilonova classifier probability that the sky source is a kilonova",
}
#: Classifier classes that count as transients for ``unknown_transients``.
DEFAULT_TRANSIENT_CLASSES: tuple[str, ...] = ("snia", "snii", "snibc", "slsn", "tde", "kilonova")

#: Candidate table columns: name -> (numpy dtype, unit, description), in table order; the
#: classifier's ``prob_<class>`` columns follow ``max_probability``.
CANDIDATE_COLUMNS: dict[str, tuple[str, u.UnitBase | None, str]] = {
    "list_rank": ("int64", None, "Position in this candidate list (1 = first to look at)"),
    "rank": ("int64", None, "Anomaly rank over all searched objects (1 = most anomalous)"),
    "objectid": ("int64", None, "ZTF data-release object ID (one light curve in one filter)"),
    "dr": ("str", None, "ZTF data release of objectid"),
    "filterid": ("int8", None, "ZTF filter ID (1 = g, 2 = r, 3 = i)"),
    "band": ("str", None, "ZTF band letter (g, r or i)"),
    "fieldid": ("int16", None, "ZTF field ID"),
    "rcid": ("int8", None, "ZTF readout-channel ID (CCD quadrant, 0-63)"),
    "ra": ("float64", u.deg, "Right ascension of the object (ICRS)"),
    "dec": ("float64", u.deg, "Declination of the object (ICRS)"),
    "nepochs": (
        "int64",
        None,
        "Number of epochs of the light curve in the data release (before quality cuts)",
    ),
    "n_points": ("int64", None, "Number of light-curve points used for the features (after quality cuts)"),
    "anomaly_score": (
        "float64",
        None,
        "Anomaly score of the primary method (anomaly.method): the source's most anomalous band percentile in (0, 1]; higher = more anomalous",
    ),
    "predicted_class": ("str", None, "Most probable class of the light-curve classifier"),
    "max_probability": ("float64", None, "Classifier probability of predicted_class"),
    "period": ("float64", u.day, "Best Lomb-Scargle periodogram period of the light curve"),
    "period_snr": ("float64", None, "Signal-to-noise ratio of the periodogram peak at period"),
    "xmatch_name": ("str", None, "Name of the best catalog counterpart"),
    "xmatch_type": ("str", None, "Object type of the counterpart in its catalog"),
    "xmatch_catalog": ("str", None, "Catalog of the counterpart (tns, vsx, simbad, ...)"),
    "xmatch_sep": ("float64", u.arcsec, "Angular separation to the counterpart"),
    "xmatch_label": ("str", None, "Counterpart type mapped to the classifier taxonomy"),
    "expert_label": ("str", None, "Label given by an expert (empty: not yet inspected)"),
    "ztf_name": ("str", None, "ZTF alert object name (e.g. ZTF18abcdefg) where known"),
    "snad_url": ("str", None, "SNAD ZTF viewer page of the object"),
    "alerce_url": ("str", None, "ALeRCE broker page of the alert object (only where ztf_name is known)"),
    "fink_url": ("str", None, "Fink broker page of the alert object (only where ztf_name is known)"),
}


#: IVOA UCD1+ of each candidate column, so TOPCAT and Aladin recognise positions, ids and
#: probabilities (VOTable ``ucd`` attribute, ECSV column ``meta.ucd``); ``prob_*`` and
#: ``source_probability`` get ``stat.probability``.
UCDS: dict[str, str] = {
    "list_rank": "meta.number",
    "rank": "meta.number",
    "objectid": "meta.id;meta.main",
    "dr": "meta.dataset",
    "filterid": "meta.id;instr.filter",
    "band": "instr.bandpass",
    "fieldid": "meta.id;obs.field",
    "rcid": "meta.id;instr.det",
    "ra": "pos.eq.ra;meta.main",
    "dec": "pos.eq.dec;meta.main",
    "nepochs": "meta.number",
    "n_points": "meta.number",
    "anomaly_score": "stat.value",
    "predicted_class": "src.class",
    "max_probability": "stat.probability",
    "source_probability": "stat.probability",
    "period": "time.period",
    "period_snr": "stat.snr",
    "xmatch_name": "meta.id.cross",
    "xmatch_type": "src.class",
    "xmatch_catalog": "meta.ref",
    "xmatch_sep": "pos.angDistance",
    "xmatch_label": "src.class",
    "expert_label": "src.class",
    "ztf_name": "meta.id.assoc",
    "snad_url": "meta.ref.url",
    "alerce_url": "meta.ref.url",
    "fink_url": "meta.ref.url",
}


def apply_ucds(table: Table) -> Table:
    """Set each known column's UCD in ``column.meta['ucd']`` (astropy writes it to VOTable and ECSV); in place."""
    for name in table.colnames:
        ucd = "stat.probability" if name.startswith("prob_") else UCDS.get(name)
        if ucd is not None:
            table[name].meta["ucd"] = ucd
    return table


def snad_url(objectid: int, dr: str = "dr24") -> str:
    """The SNAD ZTF viewer URL of an object in a data release."""
    return SNAD_URL.format(dr=dr, objectid=int(objectid))


def column_descriptions(table: Table) -> dict[str, tuple[str, str]]:
    """Column name -> (unit, description) of a candidate table, for READMEs and HTML headers."""
    return {
        name: (str(table[name].unit) if table[name].unit is not None else "", table[name].description or "")
        for name in table.colnames
    }
