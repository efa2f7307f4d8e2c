"""The anomaly search of a release in three rules: fit on a sample, score per batch, merge a top-K.

``fit_anomaly_model``   :func:`run_fit_anomaly_model` reads the fit sample (:mod:`skysift.anomaly.sample`)
                        batch by batch, fits every method's per-band detectors on it, refits the
                        active ones to the expert labels, and saves the models (:mod:`skysift.anomaly.store`),
                        the sample's transformed rows and the merged labels.
``score_anomalies``     :func:`run_score_anomalies` scores one batch with every method
                        (:mod:`skysift.anomaly.batch`): one job per batch.
``rank_anomalies``      :func:`run_rank_anomalies` merges the batches' heads into each method's global
                        top-K table (:mod:`skysift.anomaly.merge`), its first ``top_n`` rows as CSV,
                        and the primary method's top-K as the scores table.

No job holds the release: the fit holds the sample and one batch, a score job one batch, the merge K
rows and a chunk. With ``anomaly.fit_sample`` >= the release's rows and ``anomaly.top_k`` >= them, the
tables are those of one in-memory search over every row (:func:`skysift.anomaly.search.search_anomalies`),
row for row and bit for bit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from skysift.anomaly.batch import score_batch
from skysift.anomaly.free import free_answers, is_free, with_free_answers
from skysift.anomaly.labels import merge_labels
from skysift.anomaly.merge import merge_top_k
from skysift.anomaly.model import fit_models, fit_sample_space
from skysift.anomaly.ranking import write_ranked
from skysift.anomaly.sample import read_fit_sample
from skysift.anomaly.settings import FitSettings, RankSettings
from skysift.anomaly.store import load_model, save_model, save_sample
from skysift.io import write_parquet_df

__all__ = [
    "run_fit_anomaly_model",
    "run_score_anomalies",
    "run_rank_anomalies",
    "exclude_known",
    "ModelFiles",
]

logger = logging.getLogger(__name__)

#: A saved file pair: (npz, json).
ModelFiles = tuple[str | Path, str | Path]


def _check_methods(what: str, given: Sequence, methods: Sequence[str]) -> None:
    if len(given) != len(methods):
        raise ValueError(
            f"{what}: {len(given)} file(s) for the {len(methods)} method(s) {list(methods)} "
            "(anomaly.method, then anomaly.compare)"
        )


def run_fit_anomaly_model(
    features: Sequence[str | Path],
    settings: FitSettings,
    *,
    models: Sequence[ModelFiles],
    sample: ModelFiles,
    labels: str | Path,
    label_files: Sequence[str | Path] = (),
    crossmatch: Sequence[str | Path] = (),
    n_jobs: int = 1,
) -> None:
    """The ``fit_anomaly_model`` rule.

    Parameters
    ----------
    features
        Every batch's feature table, in batch order.
    settings
        :class:`~skysift.anomaly.settings.FitSettings` (methods, seed, fit_sample, space, detectors).
    models
        (npz, json) per method of ``settings.methods``, in that order.
    sample
        (npz, json) of the fit sample's transformed rows.
    labels
        Parquet file of the merged expert labels the models were fitted with, and the free answers
        (:mod:`skysift.anomaly.free`; scoring ranks their sources as known regulars).
    label_files
        ``anomaly.labels``.
    crossmatch
        Every batch's cross-match table (read when ``anomaly.free_answers.enabled``). The free answers
        whose rows are in the fit sample refit the active methods; the sample is not grown for them.
    n_jobs
        Threads of the forests (the results do not depend on it).
    """
    _check_methods("fit_anomaly_model", models, settings.methods)
    experts = merge_labels(list(label_files))
    free = free_answers(crossmatch, settings.free_answers)
    merged = with_free_answers(experts, free)
    sample_df, meta = read_fit_sample(features, settings.space, fit_sample=settings.fit_sample,
                                      seed=settings.random_state, labelled=experts["objectid"].to_numpy())  # fmt: skip
    space = fit_sample_space(sample_df, settings.space)
    del sample_df
    fitted_labels = merged.loc[~is_free(merged) | merged["objectid"].isin(space.objectid).to_numpy()]
    meta = {**meta, "free_answers": int(is_free(fitted_labels).sum())}
    fitted = fit_models(space, settings, fitted_labels, meta=meta, n_jobs=n_jobs)
    for method, (npz, js) in zip(settings.methods, models, strict=True):
        save_model(fitted[method], npz, js)
    save_sample(space, meta, *sample)
    write_parquet_df(merged, labels)


def run_score_anomalies(
    features: str | Path,
    models: Sequence[ModelFiles],
    labels: str | Path,
    outputs: Sequence[str | Path],
    *,
    n_jobs: int = 1,
) -> None:
    """The ``score_anomalies`` rule: one batch's per-batch scores table per method (same order as ``models``)."""
    if len(models) != len(outputs):
        raise ValueError(f"score_anomalies: {len(models)} model(s) but {len(outputs)} output(s)")
    loaded = {}
    for npz, js in models:
        model = load_model(npz, js, n_jobs=n_jobs)
        loaded[model.method] = model
    tables = score_batch(features, loaded, pd.read_parquet(labels))
    for method, path in zip(loaded, outputs, strict=True):
        write_parquet_df(tables[method], path)


def run_rank_anomalies(
    batch_scores: Mapping[str, Sequence[str | Path]],
    settings: RankSettings,
    *,
    scores: str | Path,
    ranked: Sequence[str | Path],
    top: Sequence[str | Path],
) -> dict[str, pd.DataFrame]:
    """The ``rank_anomalies`` rule: every method's global top-K (parquet) and its first ``top_n`` rows (CSV).

    Parameters
    ----------
    batch_scores
        Method -> its per-batch scores tables.
    settings
        :class:`~skysift.anomaly.settings.RankSettings` (methods, top_k, top_n).
    scores
        Parquet file of the primary method's top-K (the candidates stage reads it).
    ranked, top
        Per method of ``settings.methods``: the top-K parquet and the top_n CSV.
    """
    _check_methods("rank_anomalies", ranked, settings.methods)
    _check_methods("rank_anomalies", top, settings.methods)
    results = {}
    for method, parquet, csv in zip(settings.methods, ranked, top, strict=True):
        table = merge_top_k(list(batch_scores[method]), settings.top_k)
        if settings.free_answers.exclude_known:
            table = exclude_known(table)
        write_ranked(table, parquet, csv, top_n=settings.top_n)
        if method == settings.method:
            write_parquet_df(table, scores)
        results[method] = table
    return results


def exclude_known(table: pd.DataFrame) -> pd.DataFrame:
    """A ranked list without the sources of known class (``known_class`` set), ranks renumbered 1..n."""
    known = table.loc[table["known_class"].astype(str) != "", "source_id"].unique()
    out = table.loc[~table["source_id"].isin(known)].reset_index(drop=True)
    out["anomaly_rank"] = np.arange(1, len(out) + 1, dtype=np.int64)
    logger.info("exclude_known: %d row(s) of %d known source(s) left out", len(table) - len(out), len(known))
    return out
