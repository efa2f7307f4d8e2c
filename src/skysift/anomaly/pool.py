"""The candidate pool of an expert session and of the oracle evaluation, drawn from a global top-K.

A release is never loaded for an expert: the pool is the first ``anomaly.pool_size`` sources of a
method's global top-K table (``results/anomaly/ranked/<method>.parquet``, :mod:`skysift.anomaly.merge`).
Their feature rows, and those of objects an expert labelled, are read from the per-batch feature
tables with a filter on objectid (parquet statistics skip row groups and files that cannot hold
them), transformed with the saved model's preprocessors, and searched over:

- with the saved model's detectors (:func:`pool_search`, ``skysift label``): active methods refit to
  every answer from the model's unlabelled state and rescore the pool (:mod:`skysift.anomaly.refit`);
  static methods walk down the release's ranking (the top-K table's order and band percentiles);
- with detectors fitted on the saved fit sample for another seed (:func:`seed_search`, the oracle
  evaluation): band percentiles within the pool.

A source is taken with the rows the top-K table has of it; a labelled object outside the table is its
own source (its band mates are not known without its batch's association).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds

from skysift.anomaly.detectors import BandDetector, Detector
from skysift.anomaly.engine import Search
from skysift.anomaly.model import FitSample, MethodModel
from skysift.anomaly.settings import DetectorSettings
from skysift.anomaly.space import SearchSpace, build_space
from skysift.io import InputError

__all__ = ["Pool", "pool_sources", "read_feature_rows", "load_pool", "pool_search", "seed_search"]

logger = logging.getLogger(__name__)


@dataclass
class Pool:
    """The pool's rows as a search space, which of them are candidates, and the release's percentiles."""

    space: SearchSpace
    candidates: np.ndarray
    table_percentile: np.ndarray
    table_score: np.ndarray
    sources: np.ndarray


def pool_sources(table: pd.DataFrame, pool_size: int | None) -> np.ndarray:
    """The first ``pool_size`` scored sources of a ranked table, in the order they first appear (None = all)."""
    scored = table.loc[np.isfinite(table["anomaly_score"].to_numpy(np.float64)), "source_id"]
    sources = pd.unique(scored.to_numpy(np.int64))
    return sources if pool_size is None else sources[:pool_size]


def read_feature_rows(paths: Sequence[str | Path], objectids: Iterable[int]) -> pd.DataFrame:
    """The feature rows of ``objectids`` from per-batch feature tables (filter pushed down to parquet)."""
    ids = np.unique(np.fromiter(objectids, dtype=np.int64))
    if not len(paths):
        raise InputError("no feature tables given; run the workflow up to extract_features first")
    dataset = ds.dataset([str(p) for p in paths], format="parquet")
    table = (
        dataset.to_table(filter=pc.field("objectid").isin(ids)) if len(ids) else dataset.schema.empty_table()
    )
    df = table.to_pandas()
    missing = np.setdiff1d(ids, df["objectid"].to_numpy(np.int64))
    if len(missing):
        logger.warning(
            "%d object(s) are not in the feature tables (ignored), e.g. %s",
            len(missing),
            missing[:5].tolist(),
        )
    return df


def load_pool(
    ranked: pd.DataFrame,
    features: Sequence[str | Path],
    model: MethodModel,
    *,
    pool_size: int | None,
    labelled: Iterable[int] = (),
) -> Pool:
    """The pool of a method's top-K table ``ranked`` (module docstring) with the rows of ``labelled`` objects."""
    sources = pool_sources(ranked, pool_size)
    pool_rows = ranked.loc[ranked["source_id"].isin(sources)]
    labelled = np.asarray(list(labelled), dtype=np.int64)
    extra_sources = ranked.loc[ranked["objectid"].isin(labelled), "source_id"].unique()
    table = ranked.loc[ranked["source_id"].isin(np.union1d(sources, extra_sources))]
    outside = np.setdiff1d(labelled, table["objectid"].to_numpy(np.int64))
    df = read_feature_rows(features, np.union1d(table["objectid"].to_numpy(np.int64), outside))
    df = df.sort_values("objectid", kind="mergesort").reset_index(drop=True)
    source = pd.Series(table["source_id"].to_numpy(np.int64), index=table["objectid"].to_numpy(np.int64))
    oid = df["objectid"].to_numpy(np.int64)
    df = df.drop(columns=["source_id"], errors="ignore")
    df["source_id"] = source.reindex(oid).fillna(pd.Series(oid, index=oid)).to_numpy(np.int64)
    space = build_space(
        df, model.space, feature_columns=model.feature_names, preprocessors=model.preprocessors
    )
    by_oid = table.set_index("objectid")
    pct = by_oid["band_percentile"].reindex(oid).to_numpy(np.float64)
    score = by_oid["method_score"].reindex(oid).to_numpy(np.float64)
    candidates = np.flatnonzero(np.isin(oid, pool_rows["objectid"].to_numpy(np.int64)))
    logger.info(
        "pool: %d sources, %d rows (+%d labelled rows)",
        len(sources),
        len(candidates),
        len(oid) - len(candidates),
    )
    return Pool(space, candidates, pct, score, sources)


def pool_search(
    pool: Pool, model: MethodModel, *, sample: FitSample | None = None, n_jobs: int = 1
) -> Search:
    """A search of the pool with the saved model's detectors (module docstring).

    ``sample`` gives PineForest its training rows (refits grow trees on the fit sample).
    """
    space = pool.space
    detectors = {}
    for band, rows in space.band_rows.items():
        band_model = model.bands.get(band)
        if band_model is None:
            continue
        detector = band_model.detector
        detector.n_jobs = n_jobs
        if detector.method == "pineforest":
            if sample is None:
                raise InputError(
                    "a PineForest session needs the fit sample (results/anomaly/model/sample.npz)"
                )
            detector.train_X = sample.band_X(band)
        static = None if detector.active else pool.table_score[rows]
        detectors[band] = BandDetector(detector, space.X[rows], static_scores=static)
    return Search.with_detectors(space, model.method, detectors, pool=pool.candidates,
                                 fixed_percentiles=pool.table_percentile, ranked_sources=pool.sources,
                                 n_jobs=n_jobs)  # fmt: skip


def seed_search(
    pool: Pool, sample: FitSample, method: str, settings: DetectorSettings, *, seed: int, n_jobs: int = 1
) -> Search:
    """A search of the pool with detectors fitted on the fit sample for ``seed`` (the oracle evaluation)."""
    space = pool.space
    detectors = {}
    for band, rows in space.band_rows.items():
        if band not in sample.space.band_rows or len(sample.space.band_rows[band]) < 2:
            continue
        train = sample.band_X(band)
        detector = Detector.fit(method, train, settings, seed=seed, n_jobs=n_jobs)
        static = None
        if not detector.active:  # a row of the sample keeps its training score (LOF: leave-self-out)
            at = pd.Index(sample.space.objectid[sample.space.band_rows[band]]).get_indexer(
                space.objectid[rows]
            )
            static = np.where(at >= 0, detector.train_scores[np.maximum(at, 0)], np.nan)
            if (at < 0).any():
                static[at < 0] = detector.score_samples(space.X[rows][at < 0])
        detectors[band] = BandDetector(detector, space.X[rows], static_scores=static)
    return Search.with_detectors(space, method, detectors, pool=pool.candidates, n_jobs=n_jobs)
