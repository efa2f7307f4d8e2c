"""Candidate tables: ranked anomalies and named candidate lists, with classes, cross-matches and links.

:func:`select_candidates` picks the objects of one list (``anomalies`` by anomaly rank,
``class`` by predicted class and probability, ``unknown_transients`` = predicted transients
without any catalog counterpart) and joins the anomaly ranking, the features table's key
columns, the DR epoch counts, the classifier probabilities and the best cross-match per object
into an astropy Table with units and a description on every column; :func:`make_candidates`
is the ``anomalies`` selection; :func:`write_candidates` publishes a table as ECSV, CSV and
VOTable. An object missing from the features, predictions or cross-match table keeps its row,
with masked values in the columns that table would have filled. The ALeRCE and Fink links
need a ZTF *alert* name (``ZTF18abcdefg``), which DR objectids do not carry: they are masked
unless an ``alert_names`` table (objectid, ztf_name) is given.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from astropy.io.votable import from_table
from astropy.io.votable.tree import Info
from astropy.table import Column, MaskedColumn, Table

from skysift.classify.labels import DEFAULT_PRIORITY, best_crossmatch
from skysift.io import InputError, atomic_path, spreadsheet_safe
from skysift.layout import BAND_NAMES

__all__ = [
    "ALERCE_URL",
    "CANDIDATE_COLUMNS",
    "DEFAULT_TRANSIENT_CLASSES",
    "FINK_URL",
    "SELECTIONS",
    "SOURCE_SELECTIONS",
    "SNAD_URL",
    "column_descriptions",
    "make_candidates",
    "read_alert_names",
    "read_nepochs",
    "select_candidates",
    "snad_url",
    "write_candidates",
]

logger = logging.getLogger(__name__)

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

_PROB_DESCRIPTION = "Classifier probability of class {cls}"
_DR = re.compile(r"^dr\d+$")
_PROB = re.compile(r"^prob_[A-Za-z0-9_]+$")
_ZTF_NAME = re.compile(r"^ZTF\d{2}[a-z]{7}$")
_UNSAFE = re.compile(r"[\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f]+")


def snad_url(objectid: int, dr: str = "dr24") -> str:
    """The SNAD ZTF viewer URL of an object in a data release."""
    return SNAD_URL.format(dr=dr, objectid=int(objectid))


def column_descriptions(table: Table) -> dict[str, tuple[str, str]]:
    """Column name -> (unit, description) of a candidate table, for READMEs and HTML headers."""
    return {
        name: (str(table[name].unit) if table[name].unit is not None else "", table[name].description or "")
        for name in table.colnames
    }


def read_nepochs(manifests: Iterable[str | Path]) -> pd.DataFrame:
    """objectid and DR epoch count of every light curve of the fetch manifests' DR files.

    A manifest is the fetch stage's TSV with a ``path`` column; only the objectid and nepochs
    columns of each parquet file are read.
    """
    frames = []
    for manifest in manifests:
        listing = pd.read_csv(manifest, sep="\t")
        if "path" not in listing.columns:
            raise InputError(f"{manifest}: fetch manifest has no 'path' column")
        for path in listing["path"]:
            frames.append(pq.read_table(path, columns=["objectid", "nepochs"]).to_pandas())
    if not frames:
        return pd.DataFrame({"objectid": np.array([], np.int64), "nepochs": np.array([], np.int64)})
    return pd.concat(frames, ignore_index=True)


def read_alert_names(path: str | Path | None) -> pd.DataFrame | None:
    """The optional objectid -> ZTF alert name table (parquet, ECSV/FITS/VOTable or CSV); None if no path."""
    if path is None:
        return None
    path = Path(path)
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
    elif path.suffix == ".csv":
        df = pd.read_csv(path)
    else:
        df = Table.read(path).to_pandas()
    missing = [c for c in ("objectid", "ztf_name") if c not in df.columns]
    if missing:
        raise InputError(f"{path}: alert-name table lacks column(s) {missing}; expected objectid, ztf_name")
    names = df["ztf_name"].astype("string").str.strip()
    bad = names.notna() & ~names.fillna("").str.match(_ZTF_NAME.pattern)
    if bad.any():
        raise InputError(
            f"{path}: {int(bad.sum())} ztf_name value(s) are not ZTF alert names like ZTF18abcdefg, "
            f"e.g. {names[bad].iloc[0]!r}"
        )
    return pd.DataFrame({"objectid": df["objectid"].astype(np.int64), "ztf_name": names})


def make_candidates(
    features_df: pd.DataFrame | None,
    scores_df: pd.DataFrame,
    predictions_df: pd.DataFrame | None,
    xmatch_df: pd.DataFrame | None,
    *,
    dr: str = "dr24",
    top_n: int | None = 100,
    xmatch_priority: Sequence[str] = DEFAULT_PRIORITY,
    nepochs_df: pd.DataFrame | None = None,
    alert_names_df: pd.DataFrame | None = None,
) -> Table:
    """The ``top_n`` best-ranked objects (all if None) as an astropy Table sorted by rank, objectid.

    ``scores_df`` comes from :func:`skysift.anomaly.search_anomalies`, ``predictions_df``
    from :func:`skysift.classify.predict_classes`, ``xmatch_df`` is the cross-match table
    (best row per object chosen as in :func:`skysift.classify.best_crossmatch`).
    """
    if top_n is not None and top_n < 0:
        raise ValueError(f"candidates.top_n must be >= 0 or null, got {top_n}")
    return select_candidates(
        features_df,
        scores_df,
        predictions_df,
        xmatch_df,
        {"select": "anomalies", "top_n": top_n},
        name="candidates",
        dr=dr,
        xmatch_priority=xmatch_priority,
        nepochs_df=nepochs_df,
        alert_names_df=alert_names_df,
    )


def select_candidates(
    features_df: pd.DataFrame | None,
    scores_df: pd.DataFrame,
    predictions_df: pd.DataFrame | None,
    xmatch_df: pd.DataFrame | None,
    spec: Mapping[str, Any],
    *,
    name: str = "candidates",
    dr: str = "dr24",
    transient_classes: Sequence[str] = DEFAULT_TRANSIENT_CLASSES,
    xmatch_priority: Sequence[str] = DEFAULT_PRIORITY,
    nepochs_df: pd.DataFrame | None = None,
    alert_names_df: pd.DataFrame | None = None,
    source_predictions: Mapping[str, pd.DataFrame] | None = None,
) -> Table:
    """One candidate list as an astropy Table, ordered by its selection (``list_rank`` 1..n).

    ``spec`` is a ``candidates.lists`` entry: ``select`` (anomalies | class | unknown_transients |
    early_snia | kilonova), ``classes`` (for class), ``top_n``, ``min_score``, ``min_probability``.
    Anomaly lists are ordered by anomaly rank; class and unknown-transient lists by classifier
    probability (descending), then anomaly rank; ties fall back to objectid, so the order is
    reproducible. ``early_snia`` and ``kilonova`` lists take the sky sources of
    ``source_predictions[select]`` (the early SN Ia / kilonova classifiers' predictions.parquet:
    objectid or objectid_r/objectid_g, a ``prob_*`` column, optionally ra/dec) by that
    probability (``min_probability`` applies to it), one row per source (its r objectid, else
    g), with the probability in the extra column ``source_probability``.
    """
    if not _DR.match(dr):
        raise InputError(f"dr = {dr!r} is not a ZTF data-release name like 'dr24'")
    missing = [c for c in ("objectid", "anomaly_score", "anomaly_rank") if c not in scores_df.columns]
    if missing:
        raise InputError(f"anomaly scores table lacks column(s) {missing}; expected the anomaly stage output")
    if scores_df["objectid"].duplicated().any():
        raise InputError("anomaly scores table has duplicated objectids")
    select = spec.get("select")
    if select not in SELECTIONS:
        raise InputError(f"candidates.lists.{name}.select = {select!r}; expected one of {list(SELECTIONS)}")
    top_n = spec.get("top_n")
    if top_n is not None and top_n < 0:
        raise ValueError(f"candidates.lists.{name}.top_n must be >= 0 or null, got {top_n}")

    if xmatch_df is not None:
        best = best_crossmatch(xmatch_df, xmatch_priority)
    else:
        best = pd.DataFrame(columns=["match_name", "match_type", "catalog", "sep_arcsec", "label"])
        best.index.name = "objectid"
    source = None
    if select in SOURCE_SELECTIONS:
        source = _source_selection(name, select, spec, scores_df, (source_predictions or {}).get(select))
        ids = source["objectid"].to_numpy(np.int64)
    else:
        ids = _select_ids(name, spec, scores_df, predictions_df, set(best.index), transient_classes)
    table = _candidate_table(
        ids,
        features_df,
        scores_df,
        predictions_df,
        best,
        dr=dr,
        nepochs_df=nepochs_df,
        alert_names_df=alert_names_df,
        source=source,
        source_description=_SOURCE_PROBABILITY.get(select, ""),
    )
    table.meta["dr"] = dr
    table.meta["list"] = name
    table.meta["select"] = select
    table.meta["classes"] = ",".join(spec.get("classes") or []) or None
    table.meta["transient_classes"] = ",".join(transient_classes) if select == "unknown_transients" else None
    table.meta["top_n"] = top_n
    table.meta["min_score"] = spec.get("min_score")
    table.meta["min_probability"] = spec.get("min_probability")
    table.meta["n_scored"] = len(scores_df)
    table.meta["xmatch_priority"] = ",".join(xmatch_priority)
    table.meta["description"] = describe_selection(name, spec, dr, transient_classes)
    n_matched = int((~np.ma.getmaskarray(table["xmatch_catalog"])).sum())
    logger.info(
        "list %s: %d candidates (%d with a cross-match) from %d scored objects",
        name,
        len(table),
        n_matched,
        len(scores_df),
    )
    return table


def describe_selection(
    name: str, spec: Mapping[str, Any], dr: str, transient_classes: Sequence[str] = DEFAULT_TRANSIENT_CLASSES
) -> str:
    """One sentence saying how a list was selected (table meta, README, HTML)."""
    select = spec.get("select")
    top_n = spec.get("top_n")
    head = "all" if top_n is None else f"up to {top_n}"
    cuts = []
    if spec.get("min_score") is not None:
        cuts.append(f"anomaly score >= {spec['min_score']}")
    if spec.get("min_probability") is not None:
        cuts.append(f"classifier probability >= {spec['min_probability']}")
    if select in SOURCE_SELECTIONS:
        what = (
            "a rising SN Ia (early SN Ia classifier)"
            if select == "early_snia"
            else "a kilonova (kilonova classifier)"
        )
        return (
            f"skysift list '{name}' from ZTF {dr.upper()}: {head} sky sources classified as {what}"
            + (f" with {' and '.join(cuts)}" if cuts else "")
            + ", by that probability"
        )
    cut_text = f" with {' and '.join(cuts)}" if cuts else ""
    if select == "anomalies":
        what = f"{head} objects by isolation-forest anomaly rank{cut_text}"
    elif select == "class":
        what = (
            f"{head} objects predicted as {', '.join(spec.get('classes') or [])}{cut_text}, "
            "by classifier probability"
        )
    else:
        what = (
            f"{head} objects predicted as a transient ({', '.join(transient_classes)}){cut_text} "
            "with no catalog counterpart, by classifier probability"
        )
    return f"skysift list '{name}' from ZTF {dr.upper()}: {what}"


def _source_selection(
    name: str, select: str, spec: Mapping[str, Any], scores_df: pd.DataFrame, preds: pd.DataFrame | None
) -> pd.DataFrame:
    """Sources of an early_snia/kilonova list in list order: objectid, source_probability[, ra, dec, filterid, fieldid]."""
    column = SOURCE_SELECTIONS[select]
    if preds is None:
        raise InputError(
            f"candidates.lists.{name}: select {select!r} needs the {select} classifier's predictions "
            f"(results/classify/{select}/predictions.parquet)"
        )
    if column not in preds.columns:
        raise InputError(f"candidates.lists.{name}: the {select} predictions lack column {column!r}")
    if "objectid" in preds.columns:
        oid = pd.to_numeric(preds["objectid"], errors="coerce")
    elif {"objectid_r", "objectid_g"} <= set(preds.columns):
        oid = pd.to_numeric(preds["objectid_r"], errors="coerce").fillna(pd.to_numeric(preds["objectid_g"]))
    else:
        raise InputError(f"candidates.lists.{name}: the {select} predictions have no objectid columns")
    df = pd.DataFrame({"objectid": oid, "source_probability": pd.to_numeric(preds[column], errors="coerce")})
    for col in ("ra", "dec", "filterid", "fieldid"):
        if col in preds.columns:
            df[col] = preds[col].to_numpy(float)
    n_all = len(df)
    df = df.dropna(subset=["objectid", "source_probability"]).astype({"objectid": np.int64})
    keep = np.ones(len(df), dtype=bool)
    if spec.get("min_probability") is not None:
        keep &= (df["source_probability"] >= spec["min_probability"]).to_numpy()
    if spec.get("min_score") is not None:
        score = df["objectid"].map(scores_df.set_index("objectid")["anomaly_score"])
        keep &= (score >= spec["min_score"]).to_numpy(dtype=bool, na_value=False)
    df = df[keep].drop_duplicates("objectid")
    df = df.assign(_p=-df["source_probability"]).sort_values(["_p", "objectid"], kind="mergesort")
    if spec.get("top_n") is not None:
        df = df.head(spec["top_n"])
    logger.info("list %s: %d of %d classified sources pass the cuts", name, len(df), n_all)
    return df.drop(columns="_p").reset_index(drop=True)


def _select_ids(
    name: str,
    spec: Mapping[str, Any],
    scores_df: pd.DataFrame,
    predictions_df: pd.DataFrame | None,
    matched: set,
    transient_classes: Sequence[str],
) -> np.ndarray:
    """Objectids of a list in list order."""
    select = spec["select"]
    df = scores_df.loc[:, ["objectid", "anomaly_score", "anomaly_rank"]]
    needs_classes = select != "anomalies" or spec.get("min_probability") is not None
    if needs_classes:
        if predictions_df is None or not {"predicted_class", "max_probability"} <= set(
            predictions_df.columns
        ):
            raise InputError(
                f"candidates.lists.{name}: select {select!r} / min_probability need the classifier "
                "predictions (predicted_class, max_probability)"
            )
        preds = predictions_df.loc[:, ["objectid", "predicted_class", "max_probability"]]
        df = df.merge(preds.drop_duplicates("objectid"), on="objectid", how="inner")
    keep = np.ones(len(df), dtype=bool)
    if spec.get("min_score") is not None:
        keep &= (df["anomaly_score"] >= spec["min_score"]).to_numpy(dtype=bool, na_value=False)
    if spec.get("min_probability") is not None:
        keep &= (df["max_probability"] >= spec["min_probability"]).to_numpy(dtype=bool, na_value=False)
    if select == "class":
        classes = spec.get("classes")
        if not classes:
            raise InputError(f"candidates.lists.{name}: select 'class' needs a non-empty `classes` list")
        keep &= df["predicted_class"].isin(list(classes)).to_numpy(dtype=bool)
    elif select == "unknown_transients":
        keep &= df["predicted_class"].isin(list(transient_classes)).to_numpy(dtype=bool)
        keep &= ~df["objectid"].isin(matched).to_numpy(dtype=bool)
    df = df[keep]
    if select == "anomalies":
        df = df.sort_values(["anomaly_rank", "objectid"], kind="mergesort")
    else:
        df = df.assign(_p=-df["max_probability"].fillna(-1.0))
        df = df.sort_values(["_p", "anomaly_rank", "objectid"], kind="mergesort")
    if spec.get("top_n") is not None:
        df = df.head(spec["top_n"])
    return df["objectid"].to_numpy(dtype=np.int64)


def _candidate_table(
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
) -> Table:
    """The joined table of objectids ``ids`` in that order (the columns of CANDIDATE_COLUMNS + prob_*).

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
    put("alerce_url", names.map(lambda n: ALERCE_URL.format(ztf_name=n) if pd.notna(n) else None))
    put("fink_url", names.map(lambda n: FINK_URL.format(ztf_name=n) if pd.notna(n) else None))

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
            else:  # CSV is opened in spreadsheets: catalog strings cannot run as formulas there
                out = spreadsheet_safe(table) if fmt == "ascii.csv" else table
                out.write(tmp, format=fmt, overwrite=True)
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
