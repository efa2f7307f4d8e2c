"""Offline anomaly search: score every object, rank them, write one ranked list per method.

:func:`run_search` (the ``search_anomalies`` rule) runs every method of ``anomaly.compare`` per
band with the band-combination rule of :mod:`skysift.anomaly.engine`, uses the merged expert
labels (:mod:`skysift.anomaly.labels`: AAD/PineForest fit them; for every method known regulars
are ranked after all unlabelled objects, known anomalies keep their place) and writes
``scores.parquet`` for the primary method ``anomaly.method``. :func:`search_anomalies` is the
single-model building block (one forest over all rows).

Objects whose features are all NaN carry no information: they are not used to fit the
forest, get ``anomaly_score`` NaN and are ranked after every scored object (counted in
the log). Other NaN features are imputed with the column median over the searched objects
(:class:`~skysift.anomaly.preprocess.AnomalyPreprocessor`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from skysift.anomaly.engine import Search, SearchSpace, build_space
from skysift.anomaly.forest import anomaly_scores, make_forest
from skysift.anomaly.labels import LABEL_CODES, merge_labels
from skysift.anomaly.preprocess import AnomalyPreprocessor
from skysift.features.table import FeaturesLike, as_features_frame, features_matrix
from skysift.io import atomic_path, write_parquet, write_parquet_df

__all__ = [
    "SCORE_COLUMNS",
    "RANKED_COLUMNS",
    "search_anomalies",
    "rank_scores",
    "write_scores",
    "run_search",
    "ranked_list",
    "source_labels",
]

logger = logging.getLogger(__name__)

#: Columns of the anomaly scores table.
SCORE_COLUMNS: tuple[str, ...] = ("objectid", "filterid", "anomaly_score", "anomaly_rank")


def rank_scores(scores: np.ndarray, objectid: np.ndarray) -> np.ndarray:
    """Ranks 1..N by descending score, NaN last, ties broken by ascending objectid."""
    scores = np.asarray(scores, dtype=np.float64)
    nan = np.isnan(scores)
    # lexsort sorts by the last key first: NaN flag, then -score, then objectid.
    order = np.lexsort((np.asarray(objectid), np.where(nan, 0.0, -scores), nan))
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def search_anomalies(
    features_df: FeaturesLike,
    *,
    method: str = "isoforest",
    n_trees: int = 300,
    n_subsamples: int = 256,
    random_state: int | None = 0,
    transform: str = "standardize",
    feature_columns: list[str] | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Score and rank every object; returns objectid, filterid, anomaly_score, anomaly_rank.

    ``anomaly_score`` is float64 with HIGHER = MORE ANOMALOUS (the isolation-forest score
    s(x, n) in (0, 1], see :mod:`skysift.anomaly.forest`); ``anomaly_rank`` is 1 for the
    most anomalous object. Rows are returned in rank order. The result is reproducible for
    a given ``random_state`` (and independent of ``n_jobs`` for coniferest).
    """
    # Validate method, sizes and transform before reading anything.
    make_forest(method, n_trees=n_trees, n_subsamples=n_subsamples, random_state=random_state, n_jobs=n_jobs)
    pre = AnomalyPreprocessor(transform)
    df = as_features_frame(features_df)
    X, names = features_matrix(df, feature_columns)
    all_nan = np.all(np.isnan(X), axis=1)
    n_valid = int((~all_nan).sum())
    if all_nan.any():
        logger.warning("%d object(s) have no finite feature: score NaN, ranked last", int(all_nan.sum()))

    scores = np.full(len(df), np.nan)
    if n_valid >= 2:
        Xt = pre.fit_transform(X[~all_nan])
        subsamples = min(n_subsamples, n_valid)
        if subsamples < n_subsamples:
            logger.info("only %d objects to search: using n_subsamples=%d", n_valid, subsamples)
        forest = make_forest(
            method, n_trees=n_trees, n_subsamples=subsamples, random_state=random_state, n_jobs=n_jobs
        )
        logger.info(
            "%s: fitting %d trees (%d subsamples) on %d objects x %d features, transform=%s",
            method,
            n_trees,
            subsamples,
            n_valid,
            len(names),
            transform,
        )
        forest.fit(Xt)
        scores[~all_nan] = anomaly_scores(forest, Xt)
    elif n_valid == 1:
        logger.warning("only one object with features: nothing to compare it with, its score is NaN")

    objectid = df["objectid"].to_numpy(dtype=np.int64)
    filterid = (
        df["filterid"].to_numpy(dtype=np.int8)
        if "filterid" in df.columns
        else np.zeros(len(df), dtype=np.int8)
    )
    ranks = rank_scores(scores, objectid)
    out = pd.DataFrame(
        {"objectid": objectid, "filterid": filterid, "anomaly_score": scores, "anomaly_rank": ranks}
    )
    return out.sort_values("anomaly_rank", kind="mergesort").reset_index(drop=True)


def write_scores(scores_df: pd.DataFrame, path: str | Path) -> Path:
    """Write a scores table (:data:`SCORE_COLUMNS`) to parquet atomically."""
    return write_parquet(
        pa.Table.from_pandas(scores_df.loc[:, list(SCORE_COLUMNS)], preserve_index=False), path
    )


#: Columns of a per-method ranked list (results/anomaly/ranked/<method>.parquet), after SCORE_COLUMNS.
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
)


def source_labels(space: SearchSpace, labels: pd.DataFrame) -> dict[int, int]:
    """Merged labels (per objectid) as Label codes per source_id; the latest answer of a source wins."""
    if not len(labels):
        return {}
    sid = pd.Series(space.source_id, index=space.objectid)
    found = labels["objectid"].isin(sid.index)
    if (~found).any():
        logger.warning(
            "%d labelled objectid(s) are not in the features table (ignored), e.g. %s",
            int((~found).sum()),
            labels.loc[~found, "objectid"].head(5).tolist(),
        )
    lab = labels.loc[found].assign(source_id=sid.loc[labels.loc[found, "objectid"]].to_numpy())
    lab = lab.sort_values(["label_time", "objectid"], kind="mergesort").groupby("source_id").tail(1)
    return {int(s): LABEL_CODES[v] for s, v in zip(lab["source_id"], lab["label"], strict=True)}


def _drivers_text(signature: np.ndarray, names: list[str], n: int = 3) -> np.ndarray:
    """'name:value name:value ...' of the ``n`` most negative (most driving) features of each row."""
    out = np.full(len(signature), "", dtype=object)
    if not len(signature):
        return out
    top = np.argsort(signature, axis=1, kind="stable")[:, :n]
    for i, cols in enumerate(top):
        out[i] = " ".join(f"{names[j]}:{signature[i, j]:.3g}" for j in cols)
    return out


def ranked_list(search: Search, labels: pd.DataFrame, known: dict[int, int]) -> pd.DataFrame:
    """Every row of the space ranked by one method given the expert labels (:data:`RANKED_COLUMNS`).

    ``anomaly_score`` is the source score (max band percentile, (0, 1]); ``method_score`` the raw
    score of the row's band detector. Rank: known regulars after every other scored row, then
    by source score, band percentile and objectid; unscored rows last.
    """
    space = search.space
    raw = search.row_scores(known)
    pct, source_score = search.combine(raw)
    signature = np.full(space.X.shape, np.nan)
    for band, detector in search.detectors.items():
        rows = space.band_rows[band]
        signature[rows] = detector.signature()
    drivers = _drivers_text(np.where(np.isnan(signature), np.inf, signature), space.feature_names)
    drivers[~np.isfinite(raw)] = ""
    regular = np.array([known.get(int(s)) == LABEL_CODES["regular"] for s in space.source_id], dtype=bool)
    nan = ~np.isfinite(source_score)
    order = np.lexsort(
        (space.objectid, -np.nan_to_num(pct, nan=-1.0), -np.nan_to_num(source_score, nan=-1.0), regular, nan)
    )
    ranks = np.empty(space.n_rows, dtype=np.int64)
    ranks[order] = np.arange(1, space.n_rows + 1)
    out = pd.DataFrame(
        {
            "objectid": space.objectid,
            "filterid": space.filterid.astype(np.int8),
            "anomaly_score": source_score,
            "anomaly_rank": ranks,
            "source_id": space.source_id,
            "method": search.method,
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
    return out.sort_values("anomaly_rank", kind="mergesort").reset_index(drop=True)


def run_search(
    features: FeaturesLike,
    anomaly: dict,
    output_dir: str | Path,
    *,
    label_files: list[str | Path] | None = None,
    n_jobs: int = 1,
) -> dict[str, pd.DataFrame]:
    """The ``search_anomalies`` rule: ranked lists of every method and scores.parquet (primary method).

    Writes ``<output_dir>/scores.parquet`` (the primary method's list: :data:`SCORE_COLUMNS` first,
    then the other :data:`RANKED_COLUMNS`) and ``<output_dir>/ranked/<method>.parquet`` plus the
    top ``anomaly.top_n`` rows as ``ranked/<method>.csv`` for each method of ``anomaly.compare``.
    """
    methods = list(dict.fromkeys([anomaly["method"], *anomaly.get("compare", [])]))
    space = build_space(
        as_features_frame(features),
        transform=anomaly.get("transform", "standardize"),
        feature_transforms=anomaly.get("feature_transforms") or {},
        per_band=anomaly.get("per_band", True),
        per_source=anomaly.get("per_source", True),
    )
    labels = merge_labels(label_files or [])
    known = source_labels(space, labels)
    output_dir = Path(output_dir)
    results = {}
    for method in methods:
        search = Search.from_config(space, method, anomaly, n_jobs=n_jobs)
        ranked = ranked_list(search, labels, known)
        logger.info(
            "%s: top 5 %s",
            method,
            ranked[["objectid", "anomaly_score", "drivers"]].head(5).to_dict("records"),
        )
        write_parquet_df(ranked, output_dir / "ranked" / f"{method}.parquet")
        top_n = anomaly.get("top_n") or len(ranked)
        with atomic_path(output_dir / "ranked" / f"{method}.csv") as tmp:
            ranked.head(top_n).to_csv(tmp, index=False)
        results[method] = ranked
    write_parquet_df(results[anomaly["method"]], output_dir / "scores.parquet")
    return results
