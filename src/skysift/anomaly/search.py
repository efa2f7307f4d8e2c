"""The anomaly search in one process: every method of the config over one search space, one ranked list each.

The workflow runs the same search in three rules over a release (:mod:`skysift.anomaly.release`:
fit on a sample, score per batch, merge); with ``anomaly.fit_sample`` at least the number of rows the
two give the same ranking, and this module is the reference the tests hold them to.
:func:`search_anomalies` reads the feature tables and the expert
labels files, runs the primary method ``anomaly.method`` and every method of ``anomaly.compare``
per band with the band-combination rule of :mod:`skysift.anomaly.engine`, and writes the ranked
lists (:mod:`skysift.anomaly.ranking`); the primary method's list is also the scores table the
candidates stage reads. :func:`rank_anomalies` is the same without files.

Objects whose features are all NaN carry no information: they are not used to fit the
detectors, get ``anomaly_score`` NaN and are ranked after every scored object (counted in
the log). Other NaN features are imputed with the column median of their band
(:class:`~skysift.anomaly.preprocess.AnomalyPreprocessor`). Expert labels: AAD and PineForest fit
them; for every method known regulars are ranked after all other scored objects, known anomalies
keep their place.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from skysift.anomaly.engine import Search
from skysift.anomaly.labels import empty_labels, merge_labels, source_labels
from skysift.anomaly.ranking import ranked_list, write_ranked
from skysift.anomaly.settings import SearchSettings
from skysift.anomaly.space import build_space
from skysift.features.table import FeaturesLike
from skysift.io import write_parquet_df

__all__ = ["rank_anomalies", "search_anomalies"]

logger = logging.getLogger(__name__)


def rank_anomalies(
    features: FeaturesLike,
    settings: SearchSettings,
    *,
    labels: pd.DataFrame | None = None,
    n_jobs: int = 1,
) -> dict[str, pd.DataFrame]:
    """Ranked lists of every method of ``settings.methods`` (primary first), given merged expert labels.

    Parameters
    ----------
    features
        Feature table(s): a DataFrame or parquet path(s).
    settings
        The search settings (:meth:`SearchSettings.from_config`).
    labels
        Merged expert labels (:func:`skysift.anomaly.labels.merge_labels`); None = no label.
    n_jobs
        Threads of the forests (the results do not depend on it).

    Returns
    -------
    dict
        Method -> its ranked list (:data:`~skysift.anomaly.ranking.RANKED_COLUMNS`, in rank order).
    """
    space = build_space(features, settings.space)
    labels = empty_labels() if labels is None else labels
    known = source_labels(space, labels)
    results = {}
    for method in settings.methods:
        search = Search(space, method, settings.detectors, seed=settings.random_state, n_jobs=n_jobs)
        ranked = ranked_list(search, labels, known)
        logger.info(
            "%s: top 5 %s",
            method,
            ranked[["objectid", "anomaly_score", "drivers"]].head(5).to_dict("records"),
        )
        results[method] = ranked
    return results


def search_anomalies(
    features: FeaturesLike,
    settings: SearchSettings,
    *,
    scores: str | Path,
    ranked: Sequence[str | Path],
    top: Sequence[str | Path],
    label_files: Iterable[str | Path] = (),
    n_jobs: int = 1,
) -> dict[str, pd.DataFrame]:
    """The whole search in memory: a ranked list per method, and the primary one as the scores table.

    Parameters
    ----------
    features, settings, n_jobs
        As :func:`rank_anomalies`.
    scores
        Parquet file of the primary method's ranked list (the candidates stage reads it).
    ranked, top
        One parquet file (every row) and one CSV file (the first ``anomaly.top_n`` rows) per method
        of ``settings.methods``, in that order.
    label_files
        Expert labels files (``anomaly.labels``), merged as :func:`skysift.anomaly.labels.merge_labels` does.

    Returns
    -------
    dict
        Method -> its ranked list.
    """
    methods = settings.methods
    if len(ranked) != len(methods) or len(top) != len(methods):
        raise ValueError(
            f"search_anomalies: {len(ranked)} ranked and {len(top)} top output(s) for the "
            f"{len(methods)} method(s) {list(methods)} (anomaly.method, then anomaly.compare)"
        )
    results = rank_anomalies(features, settings, labels=merge_labels(list(label_files)), n_jobs=n_jobs)
    for method, parquet, csv in zip(methods, ranked, top, strict=True):
        write_ranked(results[method], parquet, csv, top_n=settings.top_n)
    write_parquet_df(results[settings.method], scores)
    return results
