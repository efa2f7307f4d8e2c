"""The search space: transformed feature rows, their bands and their sky sources.

Rows are feature rows (one objectid = one light curve in one band); sources are the g/r/i
objectids of one sky position (``source_id`` of the features when ``features.colours`` is on,
else associated here with :func:`skysift.sky.associate_sources`). Per band
(``anomaly.per_band``): features are imputed and transformed per filterid, since the same feature
means different things in g, r and i. Rows whose features are all NaN are marked invalid: they are
never scored, and every ranking puts them last. A space can also be built with preprocessors fitted
elsewhere (a saved model's, fitted on its sample): the rows are then only transformed.

Sources never span batches (a batch is one field, and sources are associated within a field), so a
batch's sources are those of the whole release (:func:`source_ids` on one batch).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from skysift.anomaly.preprocess import AnomalyPreprocessor
from skysift.anomaly.settings import SpaceSettings
from skysift.features.table import FeaturesLike, as_features_frame, features_matrix
from skysift.sky import associate_sources

__all__ = ["SearchSpace", "build_space", "source_ids"]

logger = logging.getLogger(__name__)

#: Columns of a features table that are neither keys nor features.
_NOT_FEATURES = ("source_id",)


@dataclass
class SearchSpace:
    """The transformed feature rows of a search, their bands and their sources."""

    objectid: np.ndarray
    filterid: np.ndarray
    source_id: np.ndarray
    X: np.ndarray
    valid: np.ndarray
    feature_names: list[str]
    band_rows: dict[int, np.ndarray] = field(default_factory=dict)
    preprocessors: dict[int, AnomalyPreprocessor] = field(default_factory=dict)
    ra: np.ndarray | None = None
    dec: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        """Number of feature rows."""
        return len(self.objectid)


def source_ids(df: pd.DataFrame, settings: SpaceSettings) -> np.ndarray:
    """The sky source of every row: ``source_id`` of the features, else associated by position.

    ``anomaly.per_source`` false: every objectid is its own source.
    """
    objectid = df["objectid"].to_numpy(np.int64)
    if not settings.per_source:
        return objectid.copy()
    if "source_id" in df:
        return df["source_id"].to_numpy(np.int64)
    if {"ra", "dec"} <= set(df.columns):
        keys = [c for c in ("objectid", "ra", "dec", "fieldid", "filterid") if c in df]
        return associate_sources(df[keys])["source_id"].to_numpy(np.int64)
    logger.warning("features have no ra/dec: every objectid is its own source")
    return objectid.copy()


def build_space(
    features: FeaturesLike,
    settings: SpaceSettings,
    *,
    feature_columns: list[str] | None = None,
    preprocessors: Mapping[int, AnomalyPreprocessor] | None = None,
) -> SearchSpace:
    """Transform features (fitted per band), find sources, mark rows with no finite feature.

    Parameters
    ----------
    features
        Feature table(s): a DataFrame, or parquet path(s) (:func:`skysift.features.table.as_features_frame`).
    settings
        ``anomaly.transform``, ``feature_transforms``, ``per_band`` and ``per_source``.
    feature_columns
        Features to use (default: every feature column of the table).
    preprocessors
        Fitted preprocessors by band (a saved model's): rows are transformed with them, not refitted;
        rows of a band without one get no score.
    """
    df = as_features_frame(features).reset_index(drop=True)
    if feature_columns is None:
        feature_columns = features_matrix(df.drop(columns=list(_NOT_FEATURES), errors="ignore"))[1]
    X, names = features_matrix(df, feature_columns)
    feature_transforms = dict(settings.feature_transforms)
    unknown = sorted(set(feature_transforms) - set(names))
    if unknown:
        raise ValueError(f"anomaly.feature_transforms names feature(s) {unknown} not in the features table")
    columns = {names.index(k): v for k, v in feature_transforms.items()}
    objectid = df["objectid"].to_numpy(np.int64)
    filterid = df["filterid"].to_numpy(np.int64) if "filterid" in df else np.zeros(len(df), np.int64)
    valid = ~np.all(np.isnan(X), axis=1)
    if (~valid).any():
        logger.warning("%d object(s) have no finite feature: score NaN, ranked last", int((~valid).sum()))
    bands = np.where(valid, filterid if settings.per_band else 0, -1)
    Xt = np.full(X.shape, np.nan)
    band_rows, fitted = {}, {}
    for band in sorted(set(bands[valid].tolist())):
        rows = np.flatnonzero(bands == band)
        if preprocessors is None:
            fitted[int(band)] = AnomalyPreprocessor(settings.transform, columns).fit(X[rows])
        elif int(band) in preprocessors:
            fitted[int(band)] = preprocessors[int(band)]
        else:
            logger.warning("band %d (%d rows) has no fitted model: score NaN", band, len(rows))
            continue
        band_rows[int(band)] = rows
        Xt[rows] = fitted[int(band)].transform_matrix(X[rows])
    source_id = source_ids(df, settings)
    logger.info(
        "search space: %d rows (%d scored), %d sources, %d features, bands %s",
        len(df),
        int(valid.sum()),
        len(np.unique(source_id)),
        len(names),
        {b: len(r) for b, r in band_rows.items()},
    )
    ra = df["ra"].to_numpy(np.float64) if "ra" in df else None
    dec = df["dec"].to_numpy(np.float64) if "dec" in df else None
    return SearchSpace(objectid, filterid, source_id, Xt, valid, names, band_rows, fitted, ra, dec)
