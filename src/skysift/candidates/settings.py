"""Typed settings of the ``candidates`` and ``publish`` config sections (frozen, no defaults).

The ``candidates`` section holds what changes the tables (:class:`CandidatesSettings`), what
changes only the plots (:class:`PlotSettings`) and an input path (``alert_names``); each
``section`` function picks one group's keys, so a workflow rule is given (and reruns on) only
the keys that change its outputs. Defaults come from the schema (:func:`skysift.config.default_config`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skysift.config import SectionSettings, own_keys, settings_from

__all__ = [
    "CandidatesSettings",
    "ListSpec",
    "PlotSettings",
    "PublishSettings",
    "plot_section",
    "table_section",
]


@dataclass(frozen=True)
class ListSpec:
    """One candidate list (``candidates.lists.<name>``): its selection and cuts."""

    select: str
    classes: Sequence[str] | None
    top_n: int | None
    min_score: float | None
    min_probability: float | None

    @classmethod
    def from_config(cls, section: Mapping[str, Any], name: str) -> ListSpec:
        """From the validated ``candidates.lists.<name>`` entry."""
        return settings_from(cls, section, f"candidates.lists.{name}")


@dataclass(frozen=True)
class CandidatesSettings:
    """The candidate tables: rows of the ranked anomaly table, the named lists, the transient classes."""

    top_n: int | None
    lists: Mapping[str, ListSpec]
    transient_classes: Sequence[str]
    links: Mapping[str, str]  # broker link templates with {ztf_name}: alerce, fink

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> CandidatesSettings:
        """From the validated ``candidates`` section (its plotting and input keys are ignored)."""
        settings = settings_from(cls, table_section(section), "candidates")
        lists = {name: ListSpec.from_config(spec, name) for name, spec in settings.lists.items()}
        return dataclasses.replace(settings, lists=lists)


@dataclass(frozen=True)
class PlotSettings(SectionSettings):
    """The candidate plots: how many light curves, and when a light curve is folded."""

    max_plots: int
    fold_min_snr: float

    config_key = "candidates"
    shared_section = True  # the rest of the section is other settings' keys


@dataclass(frozen=True)
class PublishSettings(SectionSettings):
    """The published bundle (``publish``): name, version, and whether to write a tarball."""

    name: str
    version: str
    tarball: bool

    config_key = "publish"


def table_section(candidates: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a ``candidates`` section that change the tables (what :class:`CandidatesSettings` holds)."""
    return own_keys(CandidatesSettings, candidates)


def plot_section(candidates: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a ``candidates`` section that change only the plots (:class:`PlotSettings`)."""
    return own_keys(PlotSettings, candidates)
