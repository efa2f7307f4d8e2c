"""Select candidate lists: which objects a list holds, in which order (see :mod:`skysift.candidates`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from astropy.table import Table

from skysift.candidates.columns import DEFAULT_TRANSIENT_CLASSES, SELECTIONS, SOURCE_SELECTIONS
from skysift.candidates.settings import ListSpec
from skysift.candidates.table import candidate_table
from skysift.crossmatch.best import DEFAULT_PRIORITY, best_crossmatch
from skysift.io import InputError

__all__ = [
    "describe_selection",
    "make_candidates",
    "model_of",
    "select_candidates",
    "select_ids",
    "select_rows",
    "source_objectids",
    "source_selection",
    "top_rows",
]

logger = logging.getLogger(__name__)

_DR = re.compile(r"^dr\d+$")

#: What the notes of lists call the models they select by.
_MODEL_NAMES = {
    "classifier": "classifier",
    "early_snia": "early SN Ia classifier",
    "kilonova": "kilonova classifier",
}
#: Description of the ``source_probability`` column per source selection.
_SOURCE_PROBABILITY = {
    "early_snia": "Early SN Ia classifier probability that the sky source is a rising SN Ia",
    "kilonova": "Kilonova classifier probability that the sky source is a kilonova",
}


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
    links: Mapping[str, str] | None = None,
) -> Table:
    """The ``top_n`` best-ranked objects (all if None) as an astropy Table sorted by rank, objectid.

    ``scores_df`` is the scores table of the ``rank_anomalies`` rule (:mod:`skysift.anomaly.release`), ``predictions_df``
    from :func:`skysift.classify.predict_classes`, ``xmatch_df`` is the cross-match table
    (best row per object chosen as in :func:`skysift.crossmatch.best.best_crossmatch`).
    """
    if top_n is not None and top_n < 0:
        raise ValueError(f"candidates.top_n must be >= 0 or null, got {top_n}")
    return select_candidates(
        features_df,
        scores_df,
        predictions_df,
        xmatch_df,
        ListSpec(select="anomalies", classes=None, top_n=top_n, min_score=None, min_probability=None),
        name="candidates",
        dr=dr,
        xmatch_priority=xmatch_priority,
        nepochs_df=nepochs_df,
        alert_names_df=alert_names_df,
        links=links,
    )


def select_candidates(
    features_df: pd.DataFrame | None,
    scores_df: pd.DataFrame,
    predictions_df: pd.DataFrame | None,
    xmatch_df: pd.DataFrame | None,
    spec: ListSpec,
    *,
    name: str = "candidates",
    dr: str = "dr24",
    transient_classes: Sequence[str] = DEFAULT_TRANSIENT_CLASSES,
    xmatch_priority: Sequence[str] = DEFAULT_PRIORITY,
    nepochs_df: pd.DataFrame | None = None,
    alert_names_df: pd.DataFrame | None = None,
    links: Mapping[str, str] | None = None,
    source_predictions: Mapping[str, pd.DataFrame] | None = None,
    skipped: Mapping[str, str] | None = None,
    n_scored: int | None = None,
) -> Table:
    """One candidate list as an astropy Table, ordered by its selection (``list_rank`` 1..n).

    ``spec`` is a ``candidates.lists`` entry: ``select`` (anomalies | class | unknown_transients |
    early_snia | kilonova), ``classes`` (for class), ``top_n``, ``min_score``, ``min_probability``.
    ``skipped`` maps a model (``classifier``, ``early_snia``, ``kilonova``) that was not trained
    to the reason; a list selected by it is empty and its ``note`` meta says why. ``n_scored`` (meta
    of the list) is the number of scored objects when ``scores_df`` holds only the preselected ones.
    Anomaly lists are ordered by anomaly rank; class and unknown-transient lists by classifier
    probability (descending), then anomaly rank; ties fall back to objectid, so the order is
    reproducible. ``early_snia`` and ``kilonova`` lists take the sky sources of
    ``source_predictions[select]`` (the early SN Ia / kilonova classifiers' per-batch predictions:
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
    select = spec.select
    if select not in SELECTIONS:
        raise InputError(f"candidates.lists.{name}.select = {select!r}; expected one of {list(SELECTIONS)}")
    top_n = spec.top_n
    if top_n is not None and top_n < 0:
        raise ValueError(f"candidates.lists.{name}.top_n must be >= 0 or null, got {top_n}")

    if xmatch_df is not None:
        best = best_crossmatch(xmatch_df, xmatch_priority)
    else:
        best = pd.DataFrame(columns=["match_name", "match_type", "catalog", "sep_arcsec", "label"])
        best.index.name = "objectid"
    source = None
    if select in SOURCE_SELECTIONS:
        source = source_selection(name, select, spec, scores_df, (source_predictions or {}).get(select))
        ids = source["objectid"].to_numpy(np.int64)
    else:
        ids = select_ids(name, spec, scores_df, predictions_df, set(best.index), transient_classes)
    table = candidate_table(
        ids,
        features_df,
        scores_df,
        predictions_df,
        best,
        dr=dr,
        nepochs_df=nepochs_df,
        alert_names_df=alert_names_df,
        links=links,
        source=source,
        source_description=_SOURCE_PROBABILITY.get(select, ""),
    )
    table.meta["dr"] = dr
    table.meta["list"] = name
    table.meta["select"] = select
    table.meta["classes"] = ",".join(spec.classes or []) or None
    table.meta["transient_classes"] = ",".join(transient_classes) if select == "unknown_transients" else None
    table.meta["top_n"] = top_n
    table.meta["min_score"] = spec.min_score
    table.meta["min_probability"] = spec.min_probability
    n_scored = len(scores_df) if n_scored is None else int(n_scored)
    table.meta["n_scored"] = n_scored
    table.meta["xmatch_priority"] = ",".join(xmatch_priority)
    table.meta["description"] = describe_selection(name, spec, dr, transient_classes)
    model = model_of(spec)
    if model is not None and model in (skipped or {}):
        table.meta["note"] = f"empty: the {_MODEL_NAMES[model]} was not trained ({skipped[model]})"
        logger.warning("list %s: %s", name, table.meta["note"])
    n_matched = int((~np.ma.getmaskarray(table["xmatch_catalog"])).sum())
    logger.info(
        "list %s: %d candidates (%d with a cross-match) from %d scored objects",
        name,
        len(table),
        n_matched,
        n_scored,
    )
    return table


def model_of(spec: ListSpec) -> str | None:
    """The model a list's selection needs: ``classifier``, ``early_snia``, ``kilonova`` or None."""
    if spec.select in SOURCE_SELECTIONS:
        return spec.select
    if spec.select != "anomalies" or spec.min_probability is not None:
        return "classifier"
    return None


def describe_selection(
    name: str, spec: ListSpec, dr: str, transient_classes: Sequence[str] = DEFAULT_TRANSIENT_CLASSES
) -> str:
    """One sentence saying how a list was selected (table meta, README, HTML)."""
    select = spec.select
    top_n = spec.top_n
    head = "all" if top_n is None else f"up to {top_n}"
    cuts = []
    if spec.min_score is not None:
        cuts.append(f"anomaly score >= {spec.min_score}")
    if spec.min_probability is not None:
        cuts.append(f"classifier probability >= {spec.min_probability}")
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
            f"{head} objects predicted as {', '.join(spec.classes or [])}{cut_text}, "
            "by classifier probability"
        )
    else:
        what = (
            f"{head} objects predicted as a transient ({', '.join(transient_classes)}){cut_text} "
            "with no catalog counterpart, by classifier probability"
        )
    return f"skysift list '{name}' from ZTF {dr.upper()}: {what}"


def source_objectids(preds: pd.DataFrame, what: str) -> pd.Series:
    """The objectid a per-source prediction row stands for in a list: ``objectid``, else its r objectid,
    else its g one (NaN where none); ``what`` names the table in the error when it has no such column."""
    if "objectid" in preds.columns:
        return pd.to_numeric(preds["objectid"], errors="coerce")
    if {"objectid_r", "objectid_g"} <= set(preds.columns):
        return pd.to_numeric(preds["objectid_r"], errors="coerce").fillna(
            pd.to_numeric(preds["objectid_g"], errors="coerce")
        )
    raise InputError(f"{what} have no objectid columns (objectid, or objectid_r and objectid_g)")


def source_selection(
    name: str, select: str, spec: ListSpec, scores_df: pd.DataFrame, preds: pd.DataFrame | None
) -> pd.DataFrame:
    """Sources of an early_snia/kilonova list in list order: objectid, source_probability[, ra, dec, filterid, fieldid]."""
    column = SOURCE_SELECTIONS[select]
    if preds is None:
        raise InputError(
            f"candidates.lists.{name}: select {select!r} needs the {select} classifier's predictions "
            f"(results/classify/{select}/predictions/<batch>.parquet)"
        )
    if column not in preds.columns:
        raise InputError(f"candidates.lists.{name}: the {select} predictions lack column {column!r}")
    oid = source_objectids(preds, f"candidates.lists.{name}: the {select} predictions")
    df = pd.DataFrame({"objectid": oid, "source_probability": pd.to_numeric(preds[column], errors="coerce")})
    for col in ("ra", "dec", "filterid", "fieldid"):
        if col in preds.columns:
            df[col] = preds[col].to_numpy(float)
    n_all = len(df)
    df = df.dropna(subset=["objectid", "source_probability"]).astype({"objectid": np.int64})
    keep = np.ones(len(df), dtype=bool)
    if spec.min_probability is not None:
        keep &= (df["source_probability"] >= spec.min_probability).to_numpy()
    if spec.min_score is not None:
        score = df["objectid"].map(scores_df.set_index("objectid")["anomaly_score"])
        keep &= (score >= spec.min_score).to_numpy(dtype=bool, na_value=False)
    df = df[keep].drop_duplicates("objectid")
    df = df.assign(_p=-df["source_probability"]).sort_values(["_p", "objectid"], kind="mergesort")
    if spec.top_n is not None:
        df = df.head(spec.top_n)
    logger.info("list %s: %d of %d classified sources pass the cuts", name, len(df), n_all)
    return df.drop(columns="_p").reset_index(drop=True)


def select_ids(
    name: str,
    spec: ListSpec,
    scores_df: pd.DataFrame,
    predictions_df: pd.DataFrame | None,
    matched: set,
    transient_classes: Sequence[str],
) -> np.ndarray:
    """Objectids of a list in list order (``matched``: objectids with a cross-match).

    The order is total (ties fall back to objectid) and every cut is per object, so the list over
    the union of every batch's own list equals the list over the whole release: the per-batch
    preselection of :func:`skysift.candidates.run.preselect` relies on it.
    """
    rows = select_rows(name, spec, scores_df, predictions_df, matched, transient_classes)
    return rows["objectid"].to_numpy(dtype=np.int64)


def select_rows(
    name: str,
    spec: ListSpec,
    scores_df: pd.DataFrame,
    predictions_df: pd.DataFrame | None,
    matched: set,
    transient_classes: Sequence[str],
) -> pd.DataFrame:
    """The rows of a list in list order, with the columns its order is made of (:func:`top_rows`)."""
    select = spec.select
    df = scores_df.loc[:, ["objectid", "anomaly_score", "anomaly_rank"]]
    needs_classes = select != "anomalies" or spec.min_probability is not None
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
    if spec.min_score is not None:
        keep &= (df["anomaly_score"] >= spec.min_score).to_numpy(dtype=bool, na_value=False)
    if spec.min_probability is not None:
        keep &= (df["max_probability"] >= spec.min_probability).to_numpy(dtype=bool, na_value=False)
    if select == "class":
        classes = spec.classes
        if not classes:
            raise InputError(f"candidates.lists.{name}: select 'class' needs a non-empty `classes` list")
        keep &= df["predicted_class"].isin(list(classes)).to_numpy(dtype=bool)
    elif select == "unknown_transients":
        keep &= df["predicted_class"].isin(list(transient_classes)).to_numpy(dtype=bool)
        keep &= ~df["objectid"].isin(matched).to_numpy(dtype=bool)
    return top_rows(df[keep], spec)


def top_rows(df: pd.DataFrame, spec: ListSpec) -> pd.DataFrame:
    """``df`` (rows that pass a list's cuts) in the list's order, its first ``spec.top_n``.

    Anomaly lists go by ``anomaly_rank``, the others by ``max_probability`` (highest first), then rank;
    ties fall back to objectid. Since the order is total, the top rows of the union of two sets of
    kept rows are the top rows of everything they were kept from: a running merge over batches
    (:func:`skysift.candidates.run.preselect`) holds at most ``top_n`` rows per list.
    """
    if spec.select == "anomalies":
        df = df.sort_values(["anomaly_rank", "objectid"], kind="mergesort")
    else:
        df = df.assign(_p=-df["max_probability"].fillna(-1.0))
        df = df.sort_values(["_p", "anomaly_rank", "objectid"], kind="mergesort").drop(columns="_p")
    return df if spec.top_n is None else df.head(spec.top_n)
