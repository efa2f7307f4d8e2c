"""Typed settings of the ``classify`` config section and its sub-sections (frozen, no defaults).

Defaults live only in the config schema; a Python user gets them from
:func:`skysift.config.default_config`::

    from skysift.config import default_config
    from skysift.classify.settings import ClassifierSettings, KilonovaSettings

    classify = default_config()["classify"]
    model = ClassifierSettings.from_config(classify)
    kilonova = KilonovaSettings.from_config(classify["kilonova"])

The ``classify`` section mixes the main classifier's keys with the label source (``labels``,
``label_table``) and the sub-sections of the other supervised stages; :func:`classifier_section`
picks the classifier's own keys, so that a workflow rule is given (and reruns on) only those.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skysift.config import SectionSettings, own_keys

__all__ = [
    "ActiveLearningLoop",
    "ActiveLearningSettings",
    "ClassifierSettings",
    "EarlySniaSettings",
    "KilonovaSettings",
    "LabelTableSettings",
    "RepresentativenessSettings",
    "classifier_section",
]


@dataclass(frozen=True)
class LabelTableSettings(SectionSettings):
    """A user label table (``classify.label_table``): its path and which columns hold what."""

    path: str | None
    id_column: str
    label_column: str
    taxonomy: str | None

    config_key = "classify.label_table"


@dataclass(frozen=True)
class ClassifierSettings(SectionSettings):
    """The main classifier (the classify section's own keys): model, forest size, classes, CV."""

    model: str
    unit: str
    hierarchical: bool
    calibration: str
    n_estimators: int
    min_class_count: int
    small_classes: str
    merge_classes: Mapping[str, str]
    cv_folds: int
    random_state: int
    max_train_rows: int | None

    config_key = "classify"
    shared_section = True  # the rest of the section is other settings' keys


@dataclass(frozen=True)
class RepresentativenessSettings(SectionSettings):
    """The check that the labelled objects resemble the unlabelled ones (``classify.representativeness``)."""

    enabled: bool
    sample_size: int
    auc_warn: float

    config_key = "classify.representativeness"


@dataclass(frozen=True)
class ActiveLearningLoop(SectionSettings):
    """The keys of a pool-based active-learning run that the learning curves and the early SN Ia share."""

    strategies: Sequence[str]
    seeds: Sequence[int]
    n_initial: int
    batch_size: int
    budget: int
    test_fraction: float

    def loop(self) -> dict[str, Any]:
        """These keys as keyword arguments (of :func:`skysift.classify.active.run_active_learning`)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(ActiveLearningLoop)}


@dataclass(frozen=True)
class ActiveLearningSettings(ActiveLearningLoop):
    """Pool-based active-learning curves (``classify.active_learning``)."""

    model: str
    n_estimators: int
    metric: str
    max_labelled_rows: int | None

    config_key = "classify.active_learning"


@dataclass(frozen=True)
class EarlySniaSettings(ActiveLearningLoop):
    """The early SN Ia classifier (``classify.early_snia``): rise fits and active-learning training."""

    min_points: int
    rise_window_days: float | None
    positive_class: str
    exclude_classes: Sequence[str]
    n_estimators: int
    max_labelled_rows: int | None

    config_key = "classify.early_snia"


@dataclass(frozen=True)
class KilonovaSettings(SectionSettings):
    """The kilonova classifier (``classify.kilonova``): PCA basis, simulated training set, forest."""

    n_components: int
    n_basis: int
    n_kilonova: int
    n_per_class: int
    n_constant: int
    test_fraction: float
    n_estimators: int
    min_points: int
    min_run_kilonovae: int
    seed: int

    config_key = "classify.kilonova"


def classifier_section(classify: Mapping[str, Any]) -> dict[str, Any]:
    """The main classifier's keys of a ``classify`` section (what :class:`ClassifierSettings` holds)."""
    return own_keys(ClassifierSettings, classify)
