"""What the sources read from the config: the ``fetch`` section (and its ``table``/``hats`` parts) as frozen
dataclasses, and :class:`SourceSettings` bundling them with ``source``, ``dr`` and the ``demo`` section.

Defaults live in the schema only; build these from a validated config (``skysift.config.default_config()``
gives every default to a Python user).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skysift.config import SectionSettings
from skysift.simulate.settings import DemoSettings

__all__ = ["TableSettings", "HatsSettings", "FetchSettings", "SourceSettings"]


@dataclass(frozen=True)
class TableSettings:
    """Source ``table``: the long-format file, its column mapping and the placement of non-ZTF ids."""

    path: str | None
    columns: Mapping[str, str | None]
    fieldid: int | None
    rcid: int
    time_offset: float


@dataclass(frozen=True)
class HatsSettings:
    """Source ``hats``: the catalog, one optional sky region (cone, box or polygon) and an epoch cut."""

    path: str | None
    cone: Mapping[str, float] | None
    box: Mapping[str, list[float]] | None
    polygon: list[list[float]] | None
    min_nepochs: int

    def region(self) -> dict[str, Any]:
        """The region keys as :func:`skysift.sources.hats.fetch_hats` takes them."""
        return {"cone": self.cone, "box": self.box, "polygon": self.polygon}


@dataclass(frozen=True)
class FetchSettings(SectionSettings):
    """The ``fetch`` section (see config/README.md for every key's meaning and default).

    ``http`` is handed to the HTTP client as it is.
    """

    fields: list[int]
    verify: str
    local_path: str | None
    filters: list[str]
    ccds: list[int]
    cache_dir: str
    bulk_url: str
    api_url: str
    snad_url: str
    ids_file: str | None
    cones_file: str | None
    cone_radius_arcsec: float
    batch_size: int
    http: Mapping[str, Any]
    table: TableSettings
    hats: HatsSettings

    config_key = "fetch"


@dataclass(frozen=True)
class SourceSettings:
    """Everything a light-curve source may read: its name, the release, the fetch and demo sections."""

    source: str
    dr: str
    fetch: FetchSettings
    demo: DemoSettings

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SourceSettings:
        """Build from a validated config (``skysift.config.validate_config`` or ``load_config``)."""
        return cls(
            source=config["source"],
            dr=config["dr"],
            fetch=FetchSettings.from_config(config["fetch"]),
            demo=DemoSettings.from_config(config["demo"]),
        )
