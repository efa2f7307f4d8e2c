"""The demo survey's settings: the ``demo`` config section as a frozen dataclass (defaults live in the schema)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from skysift.config import SectionSettings, default_config

__all__ = ["DemoSettings", "resolve_settings"]


@dataclass(frozen=True)
class DemoSettings(SectionSettings):
    """What the simulator draws (the ``demo`` section; see config/README.md for each key's meaning and default)."""

    realism: str
    seed: int
    n_objects: int
    fields: list[int]
    ccds: list[int]
    quadrants: list[int]
    start_mjd: float
    n_years: float
    i_band_fraction: float
    class_fractions: dict[str, float] | None
    limiting_mag: float
    limmag_scatter: float
    weather_loss: float
    visit_prob: float
    saturation_mag: float
    bad_image_fraction: float
    missing_image_fraction: float
    flagged_epoch_fraction: float
    duplicate_fraction: float
    catalog_scatter_arcsec: float

    config_key = "demo"

    @classmethod
    def default(cls) -> DemoSettings:
        """The schema's defaults: the demo of a run with an empty config file."""
        return cls.from_config(default_config()["demo"])


def resolve_settings(
    settings: DemoSettings | None, overrides: Mapping[str, Any], caller: str
) -> DemoSettings:
    """``settings`` (None = the schema's defaults) with some fields replaced, for library callers.

    Overrides are not validated against the schema here; the simulator checks every value it uses.
    """
    base = DemoSettings.default() if settings is None else settings
    known = {f.name for f in fields(DemoSettings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"{caller}: unknown parameter(s) {unknown}; the demo settings are {sorted(known)}")
    return replace(base, **overrides)
