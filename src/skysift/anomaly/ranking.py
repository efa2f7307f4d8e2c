"""Ranked lists: every feature row of a search ranked by one method given the expert labels.

Sign convention: ``anomaly_score`` is HIGHER = MORE ANOMALOUS (the source score of
:mod:`skysift.anomaly.engine`, in (0, 1]); ``anomaly_rank`` 1 is the most anomalous row. The order,
a pure function of the scores, the labels and the ids (reproducible for a seed):

1. rows with a score before unscored rows (all features NaN, or a band with one object): NaN last;
2. rows of sources an expert called regular after every other scored row;
3. descending source score, then (a release scored against a fit sample) the source's tail excess
   above the sample's highest score (:mod:`skysift.anomaly.reference`; 0 when the sample is every
   row), then descending band percentile (the source's most anomalous band first), then ascending
   objectid (ties).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from coniferest.label import Label

from skysift.anomaly.engine import Search
from skysift.anomaly.space import SearchSpace
from skysift.io import atomic_path, write_parquet_df

__all__ = ["SCORE_COLUMNS", "RANKED_COLUMNS", "rank_order", "ranked_table", "ranked_list", "write_ranked"]

logger = logging.getLogger(__name__)

#: Columns every anomaly scores table starts with (what the candidates stage reads).
SCORE_COLUMNS: tuple[str, ...] = ("objectid", "filterid", "anomaly_score", "anomaly_rank")

#: Columns of a ranked list (written by rank_anomalies, or by search_anomalies in one process), SCORE_COLUMNS first.
RANKED_COLUMNS: tuple[str, ...] = (
    *SCORE_COLUMNS,
    "source_id",
    "method",
    "method_score",
    "band_percentile",
    "drivers",
    "label",
    "label_expert",
    "label_time",
    "label_origin",
    "label_conflict",
    "known_class",
)


def _drivers_text(signature: np.ndarray, names: list[str], n: int = 3) -> np.ndarray:
    """'name:value name:value ...' of the ``n`` most negative (most driving) features of each row."""
    out = np.full(len(signature), "", dtype=object)
    if not len(signature):
        return out
    top = np.argsort(signature, axis=1, kind="stable")[:, :n]
    for i, cols in enumerate(top):
        out[i] = " ".join(f"{names[j]}:{signature[i, j]:.3g}" for j in cols)
    return out


def rank_order(
    objectid: np.ndarray,
    pct: np.ndarray,
    source_score: np.ndarray,
    regular: np.ndarray,
    source_excess: np.ndarray | None = None,
) -> np.ndarray:
    """Row order of a ranked list (module docstring): unscored last, known regulars next to last,
    then descending source score, source tail excess (:mod:`skysift.anomaly.reference`), band
    percentile, and ascending objectid."""
    keys = [objectid, -np.nan_to_num(pct, nan=-1.0)]
    if source_excess is not None:
        keys.append(-np.nan_to_num(source_excess, nan=0.0))
    nan = ~np.isfinite(source_score)
    keys += [-np.nan_to_num(source_score, nan=-1.0), regular, nan]
    return np.lexsort(keys)


def ranked_table(
    space: SearchSpace,
    method: str,
    raw: np.ndarray,
    pct: np.ndarray,
    source_score: np.ndarray,
    signature: np.ndarray,
    labels: pd.DataFrame,
    known: dict[int, Label],
    *,
    source_excess: np.ndarray | None = None,
) -> pd.DataFrame:
    """Every row of ``space`` in rank order (:data:`RANKED_COLUMNS`; ``anomaly_rank`` 1..n within it).

    ``raw`` are the method's row scores, ``pct`` their band percentiles, ``source_score`` the source
    score of each row, ``signature`` the drivers (rows x features, NaN for unscored rows), ``labels``
    the merged expert labels per objectid (with the free answers' ``known_class``: :mod:`skysift.anomaly.free`)
    and ``known`` the same per source.
    """
    drivers = _drivers_text(np.where(np.isnan(signature), np.inf, signature), space.feature_names)
    drivers[~np.isfinite(raw)] = ""
    regular = np.array([known.get(int(s)) == Label.REGULAR for s in space.source_id], dtype=bool)
    order = rank_order(space.objectid, pct, source_score, regular, source_excess)
    ranks = np.empty(space.n_rows, dtype=np.int64)
    ranks[order] = np.arange(1, space.n_rows + 1)
    out = pd.DataFrame(
        {
            "objectid": space.objectid,
            "filterid": space.filterid.astype(np.int8),
            "anomaly_score": source_score,
            "anomaly_rank": ranks,
            "source_id": space.source_id,
            "method": method,
            "method_score": raw,
            "band_percentile": pct,
            "drivers": drivers,
        }
    )
    lab = labels.set_index("objectid") if len(labels) else None
    for col in ("label", "label_expert", "label_time", "label_origin"):
        out[col] = lab[col].reindex(out["objectid"]).fillna("").to_numpy() if lab is not None else ""
    out["label_conflict"] = (
        lab["label_conflict"].reindex(out["objectid"]).fillna(False).to_numpy(bool)
        if lab is not None
        else False
    )
    out["known_class"] = (
        lab["known_class"].reindex(out["objectid"]).fillna("").to_numpy(dtype=object)
        if lab is not None and "known_class" in lab
        else ""
    )
    if source_excess is not None:
        out["source_excess"] = source_excess
        out["source_regular"] = regular
    return out.sort_values("anomaly_rank", kind="mergesort").reset_index(drop=True)


def ranked_list(search: Search, labels: pd.DataFrame, known: dict[int, Label]) -> pd.DataFrame:
    """Every row of the space ranked by one method given the expert labels (:data:`RANKED_COLUMNS`).

    Parameters
    ----------
    search
        The method over its search space.
    labels
        Merged expert labels per objectid (:func:`skysift.anomaly.labels.merge_labels`): provenance columns.
    known
        The same labels per source (:func:`skysift.anomaly.labels.source_labels`): active methods fit
        them, and regular sources go last.

    Returns
    -------
    pandas.DataFrame
        In rank order (module docstring). ``anomaly_score`` is the source score (max band
        percentile); ``method_score`` the raw score of the row's band detector (higher = odder).
    """
    space = search.space
    raw = search.row_scores(known)
    pct, source_score = search.combine(raw)
    signature = np.full(space.X.shape, np.nan)
    for band, detector in search.detectors.items():  # drivers of the model that gave the scores
        signature[space.band_rows[band]] = search.labelled_detector(band, known).signature(detector.X)
    return ranked_table(space, search.method, raw, pct, source_score, signature, labels, known)


def write_ranked(
    ranked: pd.DataFrame, parquet: str | Path, csv: str | Path, *, top_n: int | None
) -> tuple[Path, Path]:
    """Write a ranked list: every row as parquet, the first ``top_n`` rows (None = all) as CSV, atomically."""
    parquet_path = write_parquet_df(ranked, parquet)
    csv_path = Path(csv)
    with atomic_path(csv_path) as tmp:
        ranked.head(top_n or len(ranked)).to_csv(tmp, index=False)
    return parquet_path, csv_path
