"""Offline anomaly search: score every object with an isolation forest and rank them.

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

from skysift.anomaly.forest import anomaly_scores, make_forest
from skysift.anomaly.preprocess import AnomalyPreprocessor
from skysift.classify.features import FeaturesLike, as_features_frame, features_matrix
from skysift.io import write_parquet

__all__ = ["SCORE_COLUMNS", "search_anomalies", "rank_scores", "write_scores"]

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
