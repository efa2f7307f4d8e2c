"""Classify light curves: labels from cross-matches, balanced forests, CV metrics, predictions.

Typical use::

    from skysift.classify import labels_from_crossmatch, train_classifier, predict_classes

    labels = labels_from_crossmatch(xmatch_df)
    model, report = train_classifier(features_df, labels, model="balanced_random_forest")
    predictions = predict_classes(model, features_df)
"""

from skysift.classify.features import (
    KEY_COLUMNS,
    as_features_frame,
    feature_columns,
    features_matrix,
    nan_fractions,
    read_features,
)
from skysift.classify.labels import (
    DEFAULT_PRIORITY,
    best_crossmatch,
    labels_from_crossmatch,
    labels_from_truth,
)
from skysift.classify.model import MODELS, build_pipeline, cross_validate, predict_classes, train_classifier
from skysift.classify.persist import load_model, save_model, write_predictions, write_report

__all__ = [
    "KEY_COLUMNS",
    "DEFAULT_PRIORITY",
    "MODELS",
    "read_features",
    "as_features_frame",
    "feature_columns",
    "features_matrix",
    "nan_fractions",
    "best_crossmatch",
    "labels_from_crossmatch",
    "labels_from_truth",
    "build_pipeline",
    "cross_validate",
    "train_classifier",
    "predict_classes",
    "save_model",
    "load_model",
    "write_report",
    "write_predictions",
]
