"""The search space: transformed feature rows, their bands and their sky sources.

Rows are feature rows (one objectid = one light curve in one band); sources are the g/r/i
objectids of one sky position (``source_id`` of the features when ``features.colours`` is on,
else associated here with :func:`skysift.sky.associate_sources`). Per band
(``anomaly.per_band``): features are imputed and transformed per filterid, since the same feature
means different things in g, r and i. Rows whose features are all NaN are marked invalid: they are
never scored, and every ranking puts them last.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from skysift.anomaly.preprocess import AnomalyPreprocessor
from skysift.anomaly.settings import SpaceSettings
from skysift.features.table import FeaturesLike, as_features_frame, features_matrix
from skysift.sky import associate_sources

__all__ = ["SearchSpace", "build_space"]

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

    @property
    def n_rows(self) -> int:
        """Number of feature rows."""
        return len(self.objectid)


def build_space(
    features: FeaturesLike, settings: SpaceSettings, *, feature_columns: list[str] | None = None
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
    band_rows = {}
    for band in sorted(set(bands[valid].tolist())):
        rows = np.flatnonzero(bands == band)
        band_rows[int(band)] = rows
        Xt[rows] = AnomalyPreprocessor(settings.transform, columns).fit_transform(X[rows])
    if not settings.per_source:
        source_id = objectid.copy()
    elif "source_id" in df:
        source_id = df["source_id"].to_numpy(np.int64)
    elif {"ra", "dec"} <= set(df.columns):
        keys = [c for c in ("objectid", "ra", "dec", "fieldid", "filterid") if c in df]
        source_id = associate_sources(df[keys])["source_id"].to_numpy(np.int64)
    else:
        logger.warning("features have no ra/dec: every objectid is its own source")
        source_id = objectid.copy()
    logger.info(
        "search space: %d rows (%d scored), %d sources, %d features, bands %s",
        len(df),
        int(valid.sum()),
        len(np.unique(source_id)),
        len(names),
        {b: len(r) for b, r in band_rows.items()},
    )
    return SearchSpace(objectid, filterid, source_id, Xt, valid, names, band_rows)
