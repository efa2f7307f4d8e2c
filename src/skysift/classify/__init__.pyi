"""Type stub of :mod:`skysift.classify`: what the package exports, and from where (read lazily, see __init__.py)."""

from .hierarchy import DEFAULT_GROUPS, HierarchicalClassifier
from .labels import LabelSource, labels_from_crossmatch, labels_from_table, labels_from_truth
from .model import cross_validate, empty_predictions, predict_classes, train_classifier
from .persist import (
    check_features,
    load_model,
    model_card,
    save_model,
    write_predictions,
    write_report,
)
from .pipeline import CALIBRATIONS, MODELS, build_pipeline
from .plots import (
    plot_confusion_matrix,
    plot_placeholder,
    plot_reliability,
    write_per_class_table,
)
from .run import run_learning_curves, run_predictions, run_training
from .run_sources import (
    run_early_snia_features,
    run_early_snia_predictions,
    run_early_snia_training,
    run_kilonova_basis,
    run_kilonova_features,
    run_kilonova_predictions,
    run_kilonova_training,
)
from .settings import (
    ActiveLearningSettings,
    ClassifierSettings,
    EarlySniaSettings,
    KilonovaSettings,
    LabelTableSettings,
)
from .skipped import TooFewLabels

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
