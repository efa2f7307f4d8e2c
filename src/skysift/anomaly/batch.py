"""Score one batch with saved models: every row of the batch ranked within it, on the release's scale.

The batch's feature rows are transformed with the model's per-band preprocessors, scored by each
method's band detectors (a row of the fit sample keeps its fit-time score: :class:`~skysift.anomaly.model.BandModel`),
placed against the sample's scores (band percentile and tail excess: :mod:`skysift.anomaly.reference`)
and combined per source within the batch (sources never span batches). Because every percentile is
against the same reference, ``anomaly_score`` is comparable across batches: the global top-K is a
merge of the batches' heads (:mod:`skysift.anomaly.merge`).

A per-batch table has the columns of a ranked list (:data:`~skysift.anomaly.ranking.RANKED_COLUMNS`),
with ``batch_rank`` (1 = the batch's most anomalous row, in the global order) in place of
``anomaly_rank``, plus ``source_excess`` and ``source_regular`` (the merge's sort keys). Rows are
written in rank order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from skysift.anomaly.labels import source_labels
from skysift.anomaly.model import MethodModel
from skysift.anomaly.ranking import RANKED_COLUMNS, ranked_table
from skysift.anomaly.reference import band_percentiles
from skysift.anomaly.space import SearchSpace, build_space
from skysift.features.table import FeaturesLike

__all__ = ["BATCH_COLUMNS", "score_batch", "batch_space"]

logger = logging.getLogger(__name__)

#: Columns of a per-batch scores table (results/anomaly/scores/<method>/<batch>.parquet).
BATCH_COLUMNS: tuple[str, ...] = (
    *("batch_rank" if c == "anomaly_rank" else c for c in RANKED_COLUMNS),
    "source_excess",
    "source_regular",
)


def batch_space(features: FeaturesLike, model: MethodModel) -> SearchSpace:
    """A batch's rows as a search space, transformed with the model's preprocessors."""
    return build_space(
        features, model.space, feature_columns=model.feature_names, preprocessors=model.preprocessors
    )


def _source_max(source_id: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The maximum of ``values`` over each row's source (NaN rows ignored; NaN if the source has none)."""
    codes, uniques = pd.factorize(source_id)
    best = np.full(len(uniques), -np.inf)
    np.maximum.at(best, codes, np.where(np.isnan(values), -np.inf, values))
    best = np.where(np.isinf(best), np.nan, best)
    return best[codes]


def score_batch(
    features: FeaturesLike,
    models: Mapping[str, MethodModel],
    labels: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """Every method's per-batch scores table of one batch (module docstring).

    Parameters
    ----------
    features
        The batch's feature table (a DataFrame or its parquet file).
    models
        Method -> its saved model (:func:`skysift.anomaly.store.load_model`), all from one fit.
    labels
        The merged expert labels the models were fitted with.
    """
    first = next(iter(models.values()))
    space = batch_space(features, first)
    labels = labels.loc[labels["objectid"].isin(space.objectid)]  # the other batches' labels are theirs
    known = source_labels(space, labels)
    out = {}
    for method, model in models.items():
        raw = np.full(space.n_rows, np.nan)
        pct = np.full(space.n_rows, np.nan)
        excess = np.full(space.n_rows, np.nan)
        signature = np.full(space.X.shape, np.nan)
        for band, rows in space.band_rows.items():
            band_model = model.bands.get(band)
            if band_model is None:  # too few sample rows in this band to fit a detector
                continue
            X = space.X[rows]
            raw[rows] = band_model.scores(space.objectid[rows], X)
            pct[rows], excess[rows] = band_percentiles(band_model.reference, raw[rows])
            signature[rows] = band_model.detector.signature(X)
        source_score = _source_max(space.source_id, pct)
        source_excess = np.nan_to_num(_source_max(space.source_id, excess), nan=0.0)
        table = ranked_table(space, method, raw, pct, source_score, signature, labels, known,
                             source_excess=source_excess)  # fmt: skip
        out[method] = table.rename(columns={"anomaly_rank": "batch_rank"})
        logger.info(
            "%s: %d rows scored (%d from the fit sample), best source score %.4f",
            method,
            int(np.isfinite(raw).sum()),
            sum(int(np.isin(space.objectid[r], model.bands[b].sample_objectid).sum())
                for b, r in space.band_rows.items() if b in model.bands),
            float(np.nanmax(source_score)) if np.isfinite(source_score).any() else float("nan"),
        )  # fmt: skip
    return out
