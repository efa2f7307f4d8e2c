"""Typed settings of the ``skymap`` config section (frozen, no defaults; defaults are in the schema)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skysift.config import settings_from

__all__ = ["CounterpartSettings", "counterpart_section"]


@dataclass(frozen=True)
class CounterpartSettings:
    """The counterpart search of every map: credible region and time window after the event."""

    credible_level: float
    window_days: Sequence[float]

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> CounterpartSettings:
        """From the validated ``skymap`` section (its ``maps`` and ``lists`` are the rule file's)."""
        return settings_from(cls, counterpart_section(section), "skymap")


def counterpart_section(skymap: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a ``skymap`` section that change every map's search (what :class:`CounterpartSettings` holds)."""
    return {f.name: skymap[f.name] for f in dataclasses.fields(CounterpartSettings) if f.name in skymap}
