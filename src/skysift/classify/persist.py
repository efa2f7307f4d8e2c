"""Save and load fitted classifiers, write metrics reports and prediction tables — all atomically."""

from __future__ import annotations

import json
import logging
import math
import warnings
from pathlib import Path
from typing import Any

import imblearn
import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import sklearn

import skysift
from skysift.io import InputError, atomic_path, write_parquet

__all__ = ["save_model", "load_model", "write_report", "write_predictions"]

logger = logging.getLogger(__name__)

_FORMAT = "skysift-classifier-v1"


def _versions() -> dict[str, str]:
    """Versions of the packages a pickled model depends on."""
    return {
        "skysift": skysift.__version__,
        "scikit-learn": sklearn.__version__,
        "imbalanced-learn": imblearn.__version__,
    }


def save_model(model: Any, path: str | Path) -> Path:
    """Write a fitted model with joblib (plus package versions, checked on load) atomically."""
    payload = {"format": _FORMAT, "versions": _versions(), "model": model}
    with atomic_path(path) as tmp:
        joblib.dump(payload, tmp, compress=3)
    logger.info("saved model to %s", path)
    return Path(path)


def load_model(path: str | Path) -> Any:
    """Load a model written by :func:`save_model`; warns when package versions differ.

    joblib files are pickles: load only models you (or your pipeline) wrote.
    """
    payload = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise InputError(f"{path}: not a skysift classifier file (written by skysift.classify.save_model)")
    saved, now = payload.get("versions", {}), _versions()
    changed = {k: (saved.get(k), v) for k, v in now.items() if saved.get(k) != v}
    if changed:
        warnings.warn(
            f"{path}: model saved with other package versions {changed}; retrain if predictions look wrong",
            UserWarning,
            stacklevel=2,
        )
    return payload["model"]


def _jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and non-finite floats into strict-JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def write_report(report: dict[str, Any], path: str | Path) -> Path:
    """Write a metrics report as strict JSON (NaN -> null) atomically."""
    text = json.dumps(_jsonable(report), indent=2, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return Path(path)


def write_predictions(predictions: pd.DataFrame, path: str | Path) -> Path:
    """Write a :func:`~skysift.classify.predict_classes` table to parquet atomically."""
    return write_parquet(pa.Table.from_pandas(predictions, preserve_index=False), path)
