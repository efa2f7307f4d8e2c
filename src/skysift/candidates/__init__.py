"""Candidate tables: the top anomalies with positions, classes, cross-matches and viewer links.

:func:`make_candidates` joins the anomaly ranking with the features table's key columns,
the classifier predictions and the best cross-match per object into an astropy Table with
units and a description on every column; :func:`write_candidates` publishes it as ECSV,
CSV and VOTable. An object missing from the features, predictions or cross-match table
keeps its row, with masked values in the columns that table would have filled.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.io.votable import from_table
from astropy.io.votable.tree import Info
from astropy.table import Column, MaskedColumn, Table

from skysift.classify.labels import DEFAULT_PRIORITY, best_crossmatch
from skysift.io import InputError, atomic_path
from skysift.layout import BAND_NAMES

__all__ = ["CANDIDATE_COLUMNS", "SNAD_URL", "make_candidates", "write_candidates", "snad_url"]

logger = logging.getLogger(__name__)

#: The SNAD ZTF viewer page of one object in one data release.
SNAD_URL = "https://ztf.snad.space/{dr}/view/{objectid}"

#: Candidate table columns: name -> (numpy dtype, unit, description), in table order.
CANDIDATE_COLUMNS: dict[str, tuple[str, u.UnitBase | None, str]] = {
    "rank": ("int64", None, "Anomaly rank over all searched objects (1 = most anomalous)"),
    "objectid": ("int64", None, "ZTF data-release object ID (one light curve in one filter)"),
    "filterid": ("int8", None, "ZTF filter ID (1 = g, 2 = r, 3 = i)"),
    "band": ("str", None, "ZTF band letter (g, r or i)"),
    "fieldid": ("int16", None, "ZTF field ID"),
    "rcid": ("int8", None, "ZTF readout-channel ID (CCD quadrant, 0-63)"),
    "ra": ("float64", u.deg, "Right ascension of the object (ICRS)"),
    "dec": ("float64", u.deg, "Declination of the object (ICRS)"),
    "n_points": ("int64", None, "Number of light-curve points used for the features"),
    "anomaly_score": (
        "float64",
        None,
        "Isolation-forest anomaly score s(x, n) in (0, 1]; higher = more anomalous",
    ),
    "predicted_class": ("str", None, "Most probable class of the light-curve classifier"),
    "max_probability": ("float64", None, "Classifier probability of predicted_class"),
    "xmatch_name": ("str", None, "Name of the best catalog counterpart"),
    "xmatch_type": ("str", None, "Object type of the counterpart in its catalog"),
    "xmatch_catalog": ("str", None, "Catalog of the counterpart (tns, vsx, simbad, ...)"),
    "xmatch_sep": ("float64", u.arcsec, "Angular separation to the counterpart"),
    "xmatch_label": ("str", None, "Counterpart type mapped to the classifier taxonomy"),
    "snad_url": ("str", None, "SNAD ZTF viewer page of the object"),
}

_DR = re.compile(r"^dr\d+$")
_UNSAFE = re.compile(r"[\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f]+")


def snad_url(objectid: int, dr: str = "dr24") -> str:
    """The SNAD ZTF viewer URL of an object in a data release."""
    return SNAD_URL.format(dr=dr, objectid=int(objectid))


def make_candidates(
    features_df: pd.DataFrame | None,
    scores_df: pd.DataFrame,
    predictions_df: pd.DataFrame | None,
    xmatch_df: pd.DataFrame | None,
    *,
    dr: str = "dr24",
    top_n: int | None = 100,
    xmatch_priority: Sequence[str] = DEFAULT_PRIORITY,
) -> Table:
    """The ``top_n`` best-ranked objects (all if None) as an astropy Table sorted by rank, objectid.

    ``scores_df`` comes from :func:`skysift.anomaly.search_anomalies`, ``predictions_df``
    from :func:`skysift.classify.predict_classes`, ``xmatch_df`` is the cross-match table
    (best row per object chosen as in :func:`skysift.classify.best_crossmatch`).
    """
    if not _DR.match(dr):
        raise InputError(f"dr = {dr!r} is not a ZTF data-release name like 'dr24'")
    if top_n is not None and top_n < 0:
        raise ValueError(f"candidates.top_n must be >= 0 or null, got {top_n}")
    missing = [c for c in ("objectid", "anomaly_score", "anomaly_rank") if c not in scores_df.columns]
    if missing:
        raise InputError(f"anomaly scores table lacks column(s) {missing}; expected the anomaly stage output")
    if scores_df["objectid"].duplicated().any():
        raise InputError("anomaly scores table has duplicated objectids")

    top = scores_df.sort_values(["anomaly_rank", "objectid"], kind="mergesort")
    if top_n is not None:
        top = top.head(top_n)
    ids = top["objectid"].to_numpy(dtype=np.int64)
    columns: dict[str, tuple[pd.Series, np.ndarray]] = {}

    def put(name: str, values: pd.Series) -> None:
        """Store a column's values and mask (missing = NA/NaN)."""
        series = pd.Series(values).reset_index(drop=True)
        columns[name] = (series, series.isna().to_numpy())

    put("rank", top["anomaly_rank"])
    put("objectid", top["objectid"])
    put("anomaly_score", top["anomaly_score"])

    features = _lookup(features_df, ids, ["filterid", "fieldid", "rcid", "ra", "dec", "n_points"], "features")
    filterid = top["filterid"].reset_index(drop=True) if "filterid" in top.columns else features["filterid"]
    filterid = filterid.where(filterid.notna(), features["filterid"])
    put("filterid", filterid)
    put("band", filterid.map(lambda f: BAND_NAMES.get(int(f)) if pd.notna(f) else None))
    for name in ("fieldid", "rcid", "ra", "dec", "n_points"):
        put(name, features[name])

    predictions = _lookup(predictions_df, ids, ["predicted_class", "max_probability"], "predictions")
    put("predicted_class", predictions["predicted_class"])
    put("max_probability", predictions["max_probability"])

    if xmatch_df is not None:
        best = best_crossmatch(xmatch_df, xmatch_priority).reindex(ids).reset_index(drop=True)
    else:
        best = pd.DataFrame(
            index=range(len(ids)), columns=["match_name", "match_type", "catalog", "sep_arcsec", "label"]
        )
    put("xmatch_name", best["match_name"])
    put("xmatch_type", best["match_type"])
    put("xmatch_catalog", best["catalog"])
    put("xmatch_sep", best["sep_arcsec"])
    put("xmatch_label", best["label"])
    put("snad_url", pd.Series([snad_url(i, dr) for i in ids], dtype=object))

    table = Table()
    for name, (dtype, unit, description) in CANDIDATE_COLUMNS.items():
        values, mask = columns[name]
        table[name] = _column(name, values, mask, dtype, unit, description)
    table.meta["dr"] = dr
    table.meta["description"] = (
        f"skysift anomaly candidates from ZTF {dr.upper()}: {'all' if top_n is None else f'the top {top_n}'} "
        "objects by isolation-forest anomaly rank, with classifier predictions and catalog cross-matches"
    )
    table.meta["top_n"] = top_n
    table.meta["n_scored"] = len(scores_df)
    table.meta["xmatch_priority"] = list(xmatch_priority)
    n_matched = int((~columns["xmatch_catalog"][1]).sum())
    logger.info(
        "%d candidates (%d with a cross-match) from %d scored objects", len(table), n_matched, len(scores_df)
    )
    return table


def write_candidates(
    table: Table, ecsv_path: str | Path, csv_path: str | Path, votable_path: str | Path | None = None
) -> list[Path]:
    """Write the candidate table atomically as ECSV (units, descriptions, meta), CSV and optionally VOTable."""
    outputs = [(ecsv_path, "ascii.ecsv"), (csv_path, "ascii.csv")]
    if votable_path is not None:
        outputs.append((votable_path, "votable"))
    written = []
    for path, fmt in outputs:
        with atomic_path(path) as tmp:
            if fmt == "votable":
                _write_votable(table, tmp)
            else:
                table.write(tmp, format=fmt, overwrite=True)
        written.append(Path(path))
        logger.info("wrote %d candidates to %s", len(table), path)
    return written


def _write_votable(table: Table, path: Path) -> None:
    """Write a VOTable: int8 widened to int16 (VOTable has no signed byte), scalar meta as INFO."""
    out = table.copy(copy_data=False)
    for name in out.colnames:
        if out[name].dtype == np.int8:
            out[name] = out[name].astype(np.int16)
    votable = from_table(out)
    resource = votable.resources[0]
    for key, value in table.meta.items():
        if key != "description" and (value is None or isinstance(value, str | int | float)):
            resource.infos.append(Info(name=key, value="" if value is None else str(value)))
    votable.to_xml(str(path))


def _lookup(df: pd.DataFrame | None, ids: np.ndarray, names: list[str], what: str) -> pd.DataFrame:
    """Columns ``names`` of ``df`` for objectids ``ids`` in that order (all NA when df/column is missing)."""
    if df is None:
        logger.info("no %s table given: its candidate columns are masked", what)
        return pd.DataFrame(index=range(len(ids)), columns=names, dtype=object)
    if "objectid" not in df.columns:
        raise InputError(f"{what} table has no 'objectid' column")
    present = [n for n in names if n in df.columns]
    absent = [n for n in names if n not in df.columns]
    if absent:
        logger.warning("%s table lacks column(s) %s: masked in the candidates", what, absent)
    sub = df.loc[:, ["objectid", *present]].drop_duplicates("objectid").set_index("objectid")
    out = sub.reindex(ids).reset_index(drop=True)
    for name in absent:
        out[name] = pd.Series([None] * len(ids), dtype=object)
    n_missing = int(out[present].isna().all(axis=1).sum()) if present else len(ids)
    if n_missing:
        logger.info("%d candidate(s) have no row in the %s table", n_missing, what)
    return out


def _column(
    name: str, values: pd.Series, mask: np.ndarray, dtype: str, unit: u.UnitBase | None, description: str
) -> Column:
    """An astropy (Masked)Column of the given dtype, unit and description."""
    if dtype == "str":
        data = np.array(
            [_UNSAFE.sub(" ", str(v)).strip() if not m else "" for v, m in zip(values, mask, strict=True)],
            dtype=str,
        )
        if data.size == 0:
            data = data.astype("U1")
    else:
        fill = 0 if dtype.startswith("int") else np.nan
        data = pd.to_numeric(values.where(~mask, fill), errors="raise").to_numpy().astype(dtype)
    if mask.any():
        return MaskedColumn(data, name=name, mask=mask, unit=unit, description=description)
    return Column(data, name=name, unit=unit, description=description)
