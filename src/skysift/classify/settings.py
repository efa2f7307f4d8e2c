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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from skysift.config import settings_from

__all__ = [
    "ActiveLearningSettings",
    "ClassifierSettings",
    "EarlySniaSettings",
    "KilonovaSettings",
    "LabelTableSettings",
    "classifier_section",
]


@dataclass(frozen=True)
class LabelTableSettings:
    """A user label table (``classify.label_table``): its path and which columns hold what."""

    path: str | None
    id_column: str
    label_column: str
    taxonomy: str | None

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> LabelTableSettings:
        """From the validated ``classify.label_table`` section."""
        return settings_from(cls, section, "classify.label_table")


@dataclass(frozen=True)
class ClassifierSettings:
    """The main classifier (the classify section's own keys): model, forest size, classes, CV."""

    model: str
    hierarchical: bool
    calibration: str
    n_estimators: int
    min_class_count: int
    small_classes: str
    merge_classes: Mapping[str, str]
    cv_folds: int
    random_state: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> ClassifierSettings:
        """From the validated ``classify`` section (its sub-sections and label source are ignored)."""
        return settings_from(cls, classifier_section(section), "classify")


@dataclass(frozen=True)
class ActiveLearningSettings:
    """Pool-based active-learning curves (``classify.active_learning``)."""

    strategies: Sequence[str]
    seeds: Sequence[int]
    n_initial: int
    batch_size: int
    budget: int
    test_fraction: float
    model: str
    n_estimators: int
    metric: str

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> ActiveLearningSettings:
        """From the validated ``classify.active_learning`` section."""
        return settings_from(cls, section, "classify.active_learning")


@dataclass(frozen=True)
class EarlySniaSettings:
    """The early SN Ia classifier (``classify.early_snia``): rise fits and active-learning training."""

    min_points: int
    rise_window_days: float | None
    positive_class: str
    exclude_classes: Sequence[str]
    strategies: Sequence[str]
    seeds: Sequence[int]
    n_initial: int
    batch_size: int
    budget: int
    test_fraction: float
    n_estimators: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> EarlySniaSettings:
        """From the validated ``classify.early_snia`` section."""
        return settings_from(cls, section, "classify.early_snia")


@dataclass(frozen=True)
class KilonovaSettings:
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

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> KilonovaSettings:
        """From the validated ``classify.kilonova`` section."""
        return settings_from(cls, section, "classify.kilonova")


def classifier_section(classify: Mapping[str, Any]) -> dict[str, Any]:
    """The main classifier's keys of a ``classify`` section (what :class:`ClassifierSettings` holds)."""
    return {f.name: classify[f.name] for f in fields(ClassifierSettings) if f.name in classify}
