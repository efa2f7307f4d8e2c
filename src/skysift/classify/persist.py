"""Save and load fitted classifiers (skops, with a JSON model card), write reports and predictions — atomically.

Models are written with :mod:`skops.io`, which, unlike pickle, loads only object types it is
told to trust: :func:`load_model` trusts scikit-learn, imbalanced-learn, numpy/scipy and
skysift's own classifier types, and refuses a file that needs anything else. The file holds
the model and its card (features, classes, metrics, training-data hash, package versions);
the card is also written as JSON beside it for people and provenance.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import imblearn
import numpy as np
import pandas as pd
import pyarrow as pa
import sklearn
import skops
import skops.io as sio

import skysift
from skysift.classify.skipped import SKIPPED
from skysift.features.table import feature_columns
from skysift.io import InputError, atomic_path, write_parquet

__all__ = [
    "save_model",
    "load_model",
    "check_features",
    "model_card",
    "data_hash",
    "model_features",
    "write_report",
    "write_predictions",
]

logger = logging.getLogger(__name__)

_FORMAT = "skysift-classifier-v2"

#: Module prefixes whose types a skops model file may contain.
TRUSTED_PREFIXES: tuple[str, ...] = (
    "sklearn.",
    "imblearn.",
    "numpy.",
    "scipy.",
    "skysift.classify.",
    "builtins.",
)


def _versions() -> dict[str, str]:
    """Versions of the packages a saved model depends on."""
    return {
        "skysift": skysift.__version__,
        "scikit-learn": sklearn.__version__,
        "imbalanced-learn": imblearn.__version__,
        "numpy": np.__version__,
        "skops": skops.__version__,
    }


def data_hash(X: np.ndarray, y: Sequence[str], names: Sequence[str]) -> str:
    """SHA-256 of a training set: feature names, the float32 matrix (NaN included) and the labels."""
    h = hashlib.sha256()
    h.update("\x1f".join(names).encode())
    h.update(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    h.update("\x1f".join(map(str, y)).encode())
    return "sha256:" + h.hexdigest()


def model_features(model: Any) -> list[str] | None:
    """The feature names a fitted model was trained on (None if it does not know them)."""
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def model_card(model: Any, report: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready model card: features, classes, CV metrics, training-data hash, params, package versions.

    The card of a skipped stage (``report["status"] == "skipped"``) says why and holds no model facts.
    """
    if report.get("status") == SKIPPED:
        return _jsonable(
            {
                "format": _FORMAT,
                "status": SKIPPED,
                "reason": report.get("reason"),
                "model": report.get("model"),
                "n_labels": report.get("n_labels"),
                "needs": report.get("needs"),
                "versions": _versions(),
            }
        )
    cv = report.get("cv", {})
    metrics = (
        {"skipped": cv["skipped"]}
        if "skipped" in cv
        else {key: cv.get(key) for key in ("n_splits", "macro", "accuracy", "balanced_accuracy", "per_class")}
        | {"ece": cv.get("reliability", {}).get("ece"), "brier": cv.get("reliability", {}).get("brier")}
    )
    return _jsonable(
        {
            "format": _FORMAT,
            "model": report.get("model"),
            "estimator": type(getattr(model, "named_steps", {}).get("classify", model)).__name__,
            "params": report.get("params", {}),
            "features": model_features(model) or report.get("features"),
            "classes": [str(c) for c in getattr(model, "classes_", report.get("classes", []))],
            "class_counts": report.get("class_counts"),
            "class_counts_before": report.get("class_counts_before"),
            "merged_classes": report.get("merged_classes"),
            "dropped_classes": report.get("dropped_classes"),
            "n_train": report.get("n_train"),
            "data_hash": report.get("data_hash"),
            "metrics": metrics,
            "representativeness": _representativeness_summary(report.get("representativeness")),
            "versions": _versions(),
        }
    )


def _representativeness_summary(block: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the card keeps of the labels' representativeness check: verdict, AUC, the most shifted features."""
    if not block:
        return None
    summary = {
        key: block[key] for key in ("verdict", "auc", "auc_warn", "skipped", "warning") if key in block
    }
    summary["top_features"] = [row["feature"] for row in block.get("top_features", [])]
    return summary


def save_model(model: Any, path: str | Path, card: dict[str, Any] | None = None) -> Path:
    """Write a fitted model and its card with skops atomically (a card is made from the model if None).

    ``model`` None writes a file without a model (a skipped stage); :func:`load_model` refuses it.
    """
    card = card if card is not None else model_card(model, {})
    payload = {"format": _FORMAT, "card_json": json.dumps(_jsonable(card)), "model": model}
    with atomic_path(path) as tmp:
        sio.dump(payload, tmp)
    logger.info("saved model to %s", path)
    return Path(path)


def _untrusted(path: Path) -> list[str]:
    """Types in a skops file outside :data:`TRUSTED_PREFIXES`; raises InputError for a non-skops file."""
    try:
        types = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a zip/JSON error: not a skops file
        raise InputError(
            f"{path}: not a skysift classifier file (written by skysift.classify.save_model): {exc}"
        ) from exc
    return [t for t in types if not t.startswith(TRUSTED_PREFIXES)]


def load_model(path: str | Path, features: pd.DataFrame | Sequence[str] | None = None) -> Any:
    """Load a model written by :func:`save_model`; refuse it if its features differ from ``features``.

    ``features`` is the features table the model will be applied to (its feature columns are
    compared) or a list of feature names. A model needing object types outside scikit-learn,
    imbalanced-learn, numpy/scipy and skysift.classify is refused; differing package versions warn.
    """
    path = Path(path)
    bad = _untrusted(path)
    if bad:
        raise InputError(f"{path}: refusing to load untrusted object types {bad}")
    payload = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise InputError(f"{path}: not a skysift classifier file (written by skysift.classify.save_model)")
    card = json.loads(payload.get("card_json", "{}"))
    saved, now = card.get("versions", {}), _versions()
    changed = {k: (saved.get(k), v) for k, v in now.items() if saved.get(k) != v}
    if changed:
        warnings.warn(
            f"{path}: model saved with other package versions {changed}; retrain if predictions look wrong",
            UserWarning,
            stacklevel=2,
        )
    model = payload["model"]
    if model is None:
        raise InputError(
            f"{path}: holds no model: training was skipped ({card.get('reason', 'no reason recorded')})"
        )
    if features is not None:
        check_features(model_features(model) or card.get("features") or [], features, path)
    return model


def check_features(
    expected: Sequence[str], features: pd.DataFrame | Sequence[str], source: str | Path = "model"
) -> None:
    """Raise InputError naming the missing and extra features when a table's features differ from a model's."""
    have = feature_columns(features) if isinstance(features, pd.DataFrame) else [str(f) for f in features]
    missing = [f for f in expected if f not in set(have)]
    extra = [f for f in have if f not in set(expected)]
    if missing or extra:
        raise InputError(
            f"{source}: the model's features do not match the features table: "
            f"missing from the table {missing}, not used by the model {extra}; "
            "extract features with the model's feature set or retrain the model"
        )


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
