"""Typed settings of the ``anomaly`` config section (defaults live in the schema only).

The schema's ``anomaly`` section is flat; the settings group its keys by who reads them, so that a
rule's ``params`` hold exactly the keys its outputs depend on (:func:`settings_section`):

:class:`SpaceSettings`      how feature rows become the search space (transform, bands, sources)
:class:`DetectorSettings`   sizes and method parameters of the per-band detectors
:class:`FitSettings`        the saved models (rule ``fit_anomaly_model``): methods, seed, fit sample,
                            space and detectors
:class:`RankSettings`       the merged top-K tables (rule ``rank_anomalies``): methods, top_k, top_n
:class:`SearchSettings`     the ranked lists of an in-memory search (:func:`skysift.anomaly.rank_anomalies`):
                            method, compare, seed, top_n, space and detectors
:class:`OracleSettings`     the oracle evaluation (rule ``evaluate_anomalies``): space, detectors,
                            candidate pool, anomaly classes, ``anomaly.evaluation`` and the free answers
:class:`FreeAnswerSettings` ``anomaly.free_answers``: catalog-classified sources as known regulars
:class:`AnomalySettings`    the whole section (``skysift label``, Python users)

Every class is built from a validated section with ``from_config`` (keys it does not read are
ignored; a missing key is a :class:`~skysift.config.ConfigError`)::

    from skysift.anomaly import SearchSettings
    from skysift.config import default_config

    settings = SearchSettings.from_config({**default_config()["anomaly"], "n_trees": 100})
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from skysift.config import ConfigError, settings_from

__all__ = [
    "SpaceSettings",
    "DetectorSettings",
    "FitSettings",
    "RankSettings",
    "SearchSettings",
    "EvaluationSettings",
    "FreeAnswerSettings",
    "OracleSettings",
    "AnomalySettings",
    "config_keys",
    "settings_section",
]

T = TypeVar("T")

#: Field metadata of a group whose keys sit directly in the (flat) ``anomaly`` section.
_FLAT = {"flat": True}


def _hints(cls: type) -> dict[str, Any]:
    """Resolved type hints of a settings class."""
    return typing.get_type_hints(cls)


def config_keys(cls: type) -> tuple[str, ...]:
    """The ``anomaly`` keys a settings class is built from (flat groups expanded), in field order."""
    hints = _hints(cls)
    keys: list[str] = []
    for f in dataclasses.fields(cls):
        keys.extend(config_keys(hints[f.name]) if f.metadata.get("flat") else [f.name])
    return tuple(dict.fromkeys(keys))


def settings_section(cls: type, section: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of an ``anomaly`` section that ``cls`` reads: what a rule passes as ``params``."""
    missing = [k for k in config_keys(cls) if k not in section]
    if missing:
        raise ConfigError(
            f"missing key(s) {', '.join(f'anomaly.{k}' for k in missing)} "
            "(validate the config first: defaults come from the schema)"
        )
    return {k: section[k] for k in config_keys(cls)}


def _shaped(cls: type, section: Mapping[str, Any]) -> dict[str, Any]:
    """A flat section shaped as ``cls``'s fields: each flat group gets its keys as a sub-mapping."""
    hints = _hints(cls)
    return {
        f.name: _shaped(hints[f.name], section) if f.metadata.get("flat") else section[f.name]
        for f in dataclasses.fields(cls)
    }


def _from_section(cls: type[T], section: Mapping[str, Any]) -> T:
    """Build ``cls`` from a validated (flat) ``anomaly`` section; keys it does not read are ignored."""
    if not isinstance(section, Mapping):
        raise ConfigError(f"anomaly: expected a mapping, got {type(section).__name__}")
    return settings_from(cls, _shaped(cls, settings_section(cls, section)), "anomaly")


def _tuples(settings: object, *names: str) -> None:
    """Freeze the sequence fields ``names`` of a (frozen) settings instance as tuples."""
    for name in names:
        object.__setattr__(settings, name, tuple(getattr(settings, name)))


class _Group:
    """A settings group read from the flat ``anomaly`` section (keys it does not read are ignored)."""

    @classmethod
    def from_config(cls: type[T], section: Mapping[str, Any]) -> T:
        """From a validated ``anomaly`` section."""
        return _from_section(cls, section)


class _Methods(_Group):
    """A group with a primary ``method`` and the ``compare`` methods."""

    method: str
    compare: tuple[str, ...]

    def __post_init__(self) -> None:
        _tuples(self, "compare")

    @property
    def methods(self) -> tuple[str, ...]:
        """Methods with a model or ranked list: the primary ``method`` first, then ``compare``."""
        return tuple(dict.fromkeys([self.method, *self.compare]))


@dataclass(frozen=True)
class SpaceSettings(_Group):
    """How feature rows become the search space (:func:`skysift.anomaly.space.build_space`)."""

    transform: str
    feature_transforms: Mapping[str, str]
    per_band: bool
    per_source: bool


@dataclass(frozen=True)
class DetectorSettings(_Group):
    """Sizes and method parameters of the per-band detectors (:class:`~skysift.anomaly.detectors.BandDetector`)."""

    n_trees: int
    n_subsamples: int
    lof_neighbors: int
    gmm_components: int
    aad_prior_influence: float
    aad_budget: str | float
    pine_spare_trees: int


@dataclass(frozen=True)
class FreeAnswerSettings:
    """The ``anomaly.free_answers`` section (:mod:`skysift.anomaly.free`)."""

    enabled: bool
    classes: tuple[str, ...]
    max_sep_arcsec: float
    max_answers: int
    exclude_known: bool

    def __post_init__(self) -> None:
        _tuples(self, "classes")

    @classmethod
    def off(cls) -> FreeAnswerSettings:
        """No free answers (Python callers that do not pass any)."""
        return cls(enabled=False, classes=(), max_sep_arcsec=1.0, max_answers=0, exclude_known=False)


@dataclass(frozen=True)
class FitSettings(_Methods):
    """What the saved models depend on (rule ``fit_anomaly_model``); the expert labels are files."""

    method: str
    compare: tuple[str, ...]
    random_state: int
    fit_sample: int
    free_answers: FreeAnswerSettings
    space: SpaceSettings = field(metadata=_FLAT)
    detectors: DetectorSettings = field(metadata=_FLAT)


@dataclass(frozen=True)
class RankSettings(_Methods):
    """What the merged top-K tables depend on (rule ``rank_anomalies``) besides the per-batch scores."""

    method: str
    compare: tuple[str, ...]
    top_k: int
    top_n: int | None
    free_answers: FreeAnswerSettings


@dataclass(frozen=True)
class SearchSettings(_Methods):
    """What an in-memory search's ranked lists depend on (:func:`skysift.anomaly.rank_anomalies`)."""

    method: str
    compare: tuple[str, ...]
    random_state: int
    top_n: int | None
    space: SpaceSettings = field(metadata=_FLAT)
    detectors: DetectorSettings = field(metadata=_FLAT)


@dataclass(frozen=True)
class EvaluationSettings:
    """The ``anomaly.evaluation`` section: methods compared, budgets tabulated, seeds averaged over."""

    methods: tuple[str, ...]
    budgets: tuple[int, ...]
    seeds: tuple[int, ...]

    def __post_init__(self) -> None:
        _tuples(self, "methods", "budgets", "seeds")


@dataclass(frozen=True)
class OracleSettings(_Group):
    """What the oracle evaluation depends on (rule ``evaluate_anomalies``)."""

    anomaly_classes: tuple[str, ...]
    pool_size: int | None
    evaluation: EvaluationSettings
    free_answers: FreeAnswerSettings
    space: SpaceSettings = field(metadata=_FLAT)
    detectors: DetectorSettings = field(metadata=_FLAT)

    def __post_init__(self) -> None:
        _tuples(self, "anomaly_classes")


@dataclass(frozen=True)
class AnomalySettings:
    """The whole ``anomaly`` section: the search, the expert labels files, the candidate pool, the evaluation."""

    search: SearchSettings = field(metadata=_FLAT)
    fit: FitSettings = field(metadata=_FLAT)
    rank: RankSettings = field(metadata=_FLAT)
    labels: tuple[str, ...]
    pool_size: int | None
    anomaly_classes: tuple[str, ...]
    evaluation: EvaluationSettings
    free_answers: FreeAnswerSettings
    personal: bool

    def __post_init__(self) -> None:
        _tuples(self, "labels", "anomaly_classes")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> AnomalySettings:
        """From a validated ``anomaly`` section; every key of the section must be one it knows."""
        unknown = sorted(set(section) - set(config_keys(cls))) if isinstance(section, Mapping) else []
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(f'anomaly.{k}' for k in unknown)}")
        return _from_section(cls, section)

    @property
    def oracle(self) -> OracleSettings:
        """The settings of the oracle evaluation."""
        return OracleSettings(
            anomaly_classes=self.anomaly_classes,
            pool_size=self.pool_size,
            evaluation=self.evaluation,
            free_answers=self.free_answers,
            space=self.search.space,
            detectors=self.search.detectors,
        )
