"""Classify light curves: labels from cross-matches, balanced forests, CV metrics, predictions.

Typical use::

    from skysift.classify import labels_from_crossmatch, train_classifier, predict_classes

    labels = labels_from_crossmatch(xmatch_df)
    model, report = train_classifier(features_df, labels, model="balanced_random_forest")
    predictions = predict_classes(model, features_df)

The workflow's stages are the ``run_*`` functions of :mod:`skysift.classify.run`, configured by
the settings of :mod:`skysift.classify.settings`; the early SN Ia and kilonova classifiers live in
:mod:`skysift.classify.early_snia` and :mod:`skysift.classify.kilonova`, their stages (per-batch
features and predictions, training on the labelled sources) in :mod:`skysift.classify.run_sources`.
"""

from skysift.classify.hierarchy import DEFAULT_GROUPS, HierarchicalClassifier
from skysift.classify.labels import LabelSource, labels_from_crossmatch, labels_from_table, labels_from_truth
from skysift.classify.model import cross_validate, empty_predictions, predict_classes, train_classifier
from skysift.classify.persist import (
    check_features,
    load_model,
    model_card,
    save_model,
    write_predictions,
    write_report,
)
from skysift.classify.pipeline import CALIBRATIONS, MODELS, build_pipeline
from skysift.classify.plots import (
    plot_confusion_matrix,
    plot_placeholder,
    plot_reliability,
    write_per_class_table,
)
from skysift.classify.run import run_learning_curves, run_predictions, run_training
from skysift.classify.run_sources import (
    run_early_snia_features,
    run_early_snia_predictions,
    run_early_snia_training,
    run_kilonova_basis,
    run_kilonova_features,
    run_kilonova_predictions,
    run_kilonova_training,
)
from skysift.classify.settings import (
    ActiveLearningSettings,
    ClassifierSettings,
    EarlySniaSettings,
    KilonovaSettings,
    LabelTableSettings,
)
from skysift.classify.skipped import TooFewLabels

__all__ = [
    "MODELS",
    "CALIBRATIONS",
    "DEFAULT_GROUPS",
    "HierarchicalClassifier",
    "LabelSource",
    "labels_from_crossmatch",
    "labels_from_table",
    "labels_from_truth",
    "build_pipeline",
    "cross_validate",
    "train_classifier",
    "predict_classes",
    "empty_predictions",
    "save_model",
    "load_model",
    "write_report",
    "write_predictions",
    "check_features",
    "model_card",
    "plot_confusion_matrix",
    "plot_placeholder",
    "plot_reliability",
    "write_per_class_table",
    "TooFewLabels",
    "ClassifierSettings",
    "LabelTableSettings",
    "ActiveLearningSettings",
    "EarlySniaSettings",
    "KilonovaSettings",
    "run_training",
    "run_predictions",
    "run_learning_curves",
    "run_early_snia_features",
    "run_early_snia_training",
    "run_early_snia_predictions",
    "run_kilonova_basis",
    "run_kilonova_features",
    "run_kilonova_training",
    "run_kilonova_predictions",
]
