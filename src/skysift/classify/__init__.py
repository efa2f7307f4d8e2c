"""Classify light curves: labels from cross-matches, balanced forests, CV metrics, predictions.

Typical use::

    from skysift.classify import labels_from_crossmatch, train_classifier, predict_classes

    labels = labels_from_crossmatch(xmatch_df)
    model, report = train_classifier(features_df, labels, model="balanced_random_forest")
    predictions = predict_classes(model, features_df)
"""

from skysift.classify.hierarchy import DEFAULT_GROUPS, HierarchicalClassifier
from skysift.classify.labels import (
    DEFAULT_PRIORITY,
    best_crossmatch,
    labels_from_crossmatch,
    labels_from_truth,
)
from skysift.classify.model import (
    CALIBRATIONS,
    MODELS,
    build_pipeline,
    cross_validate,
    predict_classes,
    train_classifier,
)
from skysift.classify.persist import (
    check_features,
    load_model,
    model_card,
    save_model,
    write_predictions,
    write_report,
)
from skysift.classify.plots import plot_confusion_matrix, plot_reliability, write_per_class_table

__all__ = [
    "DEFAULT_PRIORITY",
    "MODELS",
    "CALIBRATIONS",
    "DEFAULT_GROUPS",
    "HierarchicalClassifier",
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
    "check_features",
    "model_card",
    "plot_confusion_matrix",
    "plot_reliability",
    "write_per_class_table",
]
