"""Typed settings of the ``skymap`` config section (frozen, no defaults; defaults are in the schema)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skysift.config import SectionSettings, own_keys

__all__ = ["CounterpartSettings", "counterpart_section"]


@dataclass(frozen=True)
class CounterpartSettings(SectionSettings):
    """The counterpart search of every map: credible region and time window after the event."""

    credible_level: float
    window_days: Sequence[float]

    config_key = "skymap"
    shared_section = True  # the rest of the section is other settings' keys


def counterpart_section(skymap: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a ``skymap`` section that change every map's search (what :class:`CounterpartSettings` holds)."""
    return own_keys(CounterpartSettings, skymap)
