"""The joined candidate table: one row per listed objectid, every column with dtype, unit and description."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.table import Column, MaskedColumn, Table

from skysift.candidates.columns import ALERCE_URL, CANDIDATE_COLUMNS, FINK_URL, apply_ucds, snad_url
from skysift.io import InputError
from skysift.layout import BAND_NAMES

__all__ = ["candidate_table"]

logger = logging.getLogger(__name__)

_PROB_DESCRIPTION = "Classifier probability of class {cls}"
_PROB = re.compile(r"^prob_[A-Za-z0-9_]+$")
_UNSAFE = re.compile(r"[\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f]+")


def candidate_table(
    ids: np.ndarray,
    features_df: pd.DataFrame | None,
    scores_df: pd.DataFrame,
    predictions_df: pd.DataFrame | None,
    best: pd.DataFrame,
    *,
    dr: str,
    nepochs_df: pd.DataFrame | None,
    alert_names_df: pd.DataFrame | None,
    source: pd.DataFrame | None = None,
    source_description: str = "",
    links: Mapping[str, str] | None = None,
) -> Table:
    """The joined table of objectids ``ids`` in that order (the columns of CANDIDATE_COLUMNS + prob_*).

    ``links`` holds the broker link templates ``alerce`` and ``fink`` with ``{ztf_name}`` (config
    ``candidates.links``; default: ALERCE_URL, FINK_URL).

    ``source`` (a source selection, rows in ``ids`` order) adds ``source_probability`` and fills
    ra/dec where the features table has no row for the object.
    """
    columns: dict[str, tuple[pd.Series, np.ndarray]] = {}

    def put(name: str, values: pd.Series) -> None:
        """Store a column's values and mask (missing = NA/NaN)."""
        series = pd.Series(values).reset_index(drop=True)
        columns[name] = (series, series.isna().to_numpy())

    score_columns = [
        "anomaly_rank",
        "anomaly_score",
        *(["filterid"] if "filterid" in scores_df.columns else []),
    ]
    scores = _lookup(scores_df, ids, score_columns, "anomaly scores")
    put("list_rank", pd.Series(np.arange(1, len(ids) + 1, dtype=np.int64)))
    put("rank", scores["anomaly_rank"])
    put("objectid", pd.Series(ids))
    put("dr", pd.Series([dr] * len(ids), dtype=object))
    put("anomaly_score", scores["anomaly_score"])

    features = _lookup(
        features_df,
        ids,
        [
            "filterid",
            "fieldid",
            "rcid",
            "ra",
            "dec",
            "n_points",
            "periodogram_period_0",
            "periodogram_period_s_to_n_0",
        ],
        "features",
    )
    filterid = features["filterid"]
    if "filterid" in scores.columns:
        filterid = scores["filterid"].where(scores["filterid"].notna(), filterid)
    if source is not None and "filterid" in source.columns:
        filterid = filterid.where(filterid.notna(), source["filterid"].reset_index(drop=True))
    put("filterid", filterid)
    put("band", filterid.map(lambda f: BAND_NAMES.get(int(f)) if pd.notna(f) else None))
    for name in ("fieldid", "rcid", "ra", "dec", "n_points"):
        values = features[name]
        if source is not None and name in source.columns:
            values = values.where(values.notna(), source[name].reset_index(drop=True))
        put(name, values)
    put("period", features["periodogram_period_0"])
    put("period_snr", features["periodogram_period_s_to_n_0"])
    put("nepochs", _lookup(nepochs_df, ids, ["nepochs"], "DR epoch counts")["nepochs"])

    prob_names = (
        sorted(c for c in predictions_df.columns if _PROB.match(c)) if predictions_df is not None else []
    )
    predictions = _lookup(
        predictions_df, ids, ["predicted_class", "max_probability", *prob_names], "predictions"
    )
    put("predicted_class", predictions["predicted_class"])
    put("max_probability", predictions["max_probability"])
    for name in prob_names:
        put(name, predictions[name])

    xm = best.reindex(ids).reset_index(drop=True)
    put("xmatch_name", xm["match_name"])
    put("xmatch_type", xm["match_type"])
    put("xmatch_catalog", xm["catalog"])
    put("xmatch_sep", xm["sep_arcsec"])
    put("xmatch_label", xm["label"])
    put("expert_label", pd.Series([None] * len(ids), dtype=object))
    names = (
        _lookup(alert_names_df, ids, ["ztf_name"], "alert names")["ztf_name"]
        if alert_names_df is not None
        else (pd.Series([None] * len(ids), dtype=object))
    )
    put("ztf_name", names)
    put("snad_url", pd.Series([snad_url(i, dr) for i in ids], dtype=object))
    templates = {"alerce": ALERCE_URL, "fink": FINK_URL, **(links or {})}
    put("alerce_url", names.map(lambda n: templates["alerce"].format(ztf_name=n) if pd.notna(n) else None))
    put("fink_url", names.map(lambda n: templates["fink"].format(ztf_name=n) if pd.notna(n) else None))

    table = Table()
    for name, (dtype, unit, description) in CANDIDATE_COLUMNS.items():
        values, mask = columns[name]
        table[name] = _column(name, values, mask, dtype, unit, description)
        if name == "max_probability" and source is not None:
            values = source["source_probability"].reset_index(drop=True)
            table["source_probability"] = _column(
                "source_probability", values, values.isna().to_numpy(), "float64", None, source_description
            )
        if name == "max_probability":
            for prob in prob_names:
                values, mask = columns[prob]
                table[prob] = _column(
                    prob,
                    values,
                    mask,
                    "float64",
                    None,
                    _PROB_DESCRIPTION.format(cls=prob.removeprefix("prob_")),
                )
    return apply_ucds(table)


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
