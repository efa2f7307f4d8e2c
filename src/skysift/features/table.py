"""The feature table as a model input: key columns, feature columns and the NaN policy.

A features table has one row per ZTF DR object (one light curve in one band) with the key
columns :data:`KEY_COLUMNS` followed by float feature columns. Every other numeric column
is a feature. Features may be NaN (a light curve too short for a periodogram, a failed
fit); ``inf`` is treated as NaN.

NaN policy: :func:`features_matrix` never imputes. Models impute inside their pipeline with
the per-column median learned at fit time (``SimpleImputer(strategy="median")``), so the
same medians are applied when predicting new objects, and a feature that is NaN for every
training object is kept and imputed with 0 (``keep_empty_features=True``) so that feature
positions never shift. The fraction of NaN per feature is logged and reported
(:func:`nan_fractions`) so that a mostly-empty feature is visible, not silently imputed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from skysift.io import InputError

__all__ = [
    "KEY_COLUMNS",
    "FeaturesLike",
    "read_features",
    "as_features_frame",
    "feature_columns",
    "features_matrix",
    "nan_fractions",
]

logger = logging.getLogger(__name__)

#: Columns of a features table that identify and locate an object; all others are features.
#: ``source_id`` (the colour group's association) is a key too: an id is never a feature.
KEY_COLUMNS: tuple[str, ...] = (
    "objectid", "filterid", "fieldid", "rcid", "ra", "dec", "n_points", "source_id",
)  # fmt: skip

#: A features table, one parquet path, or several parquet paths (one per batch).
FeaturesLike = pd.DataFrame | str | Path | Iterable[str | Path]


def read_features(paths: str | Path | Iterable[str | Path]) -> pd.DataFrame:
    """Read and concatenate feature parquet files (one per batch) into one DataFrame."""
    if isinstance(paths, str | Path):
        paths = [paths]
    frames = []
    for path in paths:
        frame = pq.read_table(path).to_pandas()
        if "objectid" not in frame.columns:
            raise InputError(f"{path}: no 'objectid' column; expected a skysift features table")
        frames.append(frame)
    if not frames:
        raise InputError("no feature files given; check the features stage outputs")
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    logger.info("read %d objects from %d feature file(s)", len(df), len(frames))
    return df


def as_features_frame(features: FeaturesLike) -> pd.DataFrame:
    """Return a features DataFrame from a DataFrame or parquet path(s); validate objectid."""
    df = features if isinstance(features, pd.DataFrame) else read_features(features)
    if "objectid" not in df.columns:
        raise InputError("features table has no 'objectid' column")
    dup = df["objectid"].duplicated()
    if dup.any():
        examples = df.loc[dup, "objectid"].head(5).tolist()
        raise InputError(
            f"features table has {int(dup.sum())} duplicated objectid(s), e.g. {examples}; "
            "a batch was probably given twice"
        )
    return df


def feature_columns(df: pd.DataFrame) -> list[str]:
    """Names of the feature columns: every numeric column that is not a key column."""
    names = []
    skipped = []
    for name in df.columns:
        if name in KEY_COLUMNS:
            continue
        dtype = df[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            names.append(str(name))
        else:
            skipped.append(str(name))
    if skipped:
        logger.warning("ignoring non-numeric column(s) in the features table: %s", skipped)
    return names


def features_matrix(
    df: pd.DataFrame, feature_columns: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Return the float32 feature matrix (NaN kept, inf -> NaN) and its column names.

    ``feature_columns`` selects and orders the columns (e.g. those a model was trained on);
    by default every non-key numeric column is used in table order.
    """
    names = list(feature_columns) if feature_columns is not None else _default_columns(df)
    missing = [name for name in names if name not in df.columns]
    if missing:
        raise InputError(
            f"features table lacks feature column(s) {missing}; the model or config expects them — "
            "extract features with the same feature set"
        )
    if not names:
        raise InputError("features table has no feature columns (only key columns)")
    X = np.empty((len(df), len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        X[:, j] = pd.to_numeric(df[name], errors="raise").to_numpy(dtype=np.float32, na_value=np.nan)
    X[~np.isfinite(X)] = np.nan
    return X, names


def nan_fractions(X: np.ndarray, names: Sequence[str]) -> dict[str, float]:
    """Fraction of NaN values per feature column; logged when a feature is mostly empty."""
    if X.shape[0] == 0:
        return {name: 0.0 for name in names}
    frac = np.isnan(X).mean(axis=0)
    result = {name: float(f) for name, f in zip(names, frac, strict=True)}
    mostly_empty = {name: round(f, 3) for name, f in result.items() if f > 0.5}
    if mostly_empty:
        logger.warning("features NaN for more than half of the objects (median-imputed): %s", mostly_empty)
    return result


def _default_columns(df: pd.DataFrame) -> list[str]:
    """Default feature columns (kept separate so the parameter name can shadow the function)."""
    return feature_columns(df)
