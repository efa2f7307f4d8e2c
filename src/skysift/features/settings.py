"""Typed settings of the feature stage: the ``features`` config section as a frozen dataclass.

Defaults live in the config schema only; :meth:`FeatureSettings.from_config` validates a (partial)
section against it, so a Python user may give only what differs::

    FeatureSettings.from_config({"names": "cheap"})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skysift.config import ConfigError, settings_from, validate_section
from skysift.features.catalogue import periodogram_kwargs, required_min_points, resolve_feature_names
from skysift.features.fit_catalogue import PER_BAND_FITS, per_band_fit_extractor, resolve_transient_fits

__all__ = ["FeatureSettings"]


@dataclass(frozen=True)
class FeatureSettings:
    """The ``features`` section (meanings in config/README.md); checked on construction, errors name the key."""

    names: str | list[str]
    min_points: int
    n_jobs: int
    rows_per_task: int
    periodogram: dict[str, Any] | None
    method: str
    transient_fits: bool | list[str]
    transient_fit_algorithm: str
    colours: bool

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> FeatureSettings:
        """From a ``features`` config section, validated against the schema; keys it leaves out take the
        schema's defaults, and a wrong or unknown key raises a ConfigError naming ``features.<key>``."""
        return settings_from(cls, validate_section("features", section), "features")

    def __post_init__(self) -> None:
        """Fail early, where the config is read, with the config key in the message."""
        try:
            resolve_feature_names(self.names)
            periodogram_kwargs(self.periodogram)
            for fit in self.fits:
                if fit in PER_BAND_FITS:
                    per_band_fit_extractor(fit, self.transient_fit_algorithm)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if self.method not in ("arrow", "owned"):
            raise ConfigError(f"features.method must be 'arrow' or 'owned' (got {self.method!r})")
        for key, low in (("min_points", 0), ("n_jobs", 1), ("rows_per_task", 1)):
            if int(getattr(self, key)) < low:
                raise ConfigError(f"features.{key} must be an integer >= {low} (got {getattr(self, key)!r})")

    @property
    def fits(self) -> list[str]:
        """The transient fits asked for, in canonical order (bazin, villar, rainbow)."""
        return resolve_transient_fits(self.transient_fits)

    @property
    def per_band_fits(self) -> list[str]:
        """The fits run per band inside the feature tasks."""
        return [f for f in self.fits if f in PER_BAND_FITS]

    @property
    def floor(self) -> int:
        """Fewest points a light curve needs for features: min_points, raised to what the features need."""
        return max(int(self.min_points), required_min_points(self.names))

    def as_dict(self) -> dict[str, Any]:
        """The section as plain data (for provenance)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
