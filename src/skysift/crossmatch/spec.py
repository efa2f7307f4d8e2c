"""Catalog specifications: one :class:`CatalogSpec` per ``crossmatch.catalogs.<name>`` config section.

A spec says which backend matches the catalog (:mod:`skysift.crossmatch.registry`), where the
catalog is (a file, a HATS catalog, a CDS table), which columns hold id/position/type/magnitude
(null = the backend's usual columns) and the match radius.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass

from skysift.config import SCHEMA_PATH, ConfigError, load_schema, settings_from, validate_config
from skysift.crossmatch.registry import get_backend
from skysift.io import InputError

__all__ = ["CatalogSpec", "resolve_catalogs"]


@functools.cache
def _catalog_schema() -> dict:
    """The schema of one ``crossmatch.catalogs.<name>`` section (its defaults included)."""
    schema = load_schema(SCHEMA_PATH)
    return schema["properties"]["crossmatch"]["properties"]["catalogs"]["additionalProperties"]


def _validated(name: str, section: Mapping) -> dict:
    """A catalog section checked against the schema, with its defaults filled in."""
    try:
        return validate_config(copy.deepcopy(dict(section)), _catalog_schema())
    except ConfigError as err:
        raise ConfigError(f"crossmatch.catalogs.{name}: {err}") from None


@dataclass(frozen=True)
class CatalogSpec:
    """One catalog: backend, location (file, HATS catalog or CDS table), columns and match radius."""

    name: str
    backend: str  # local | xmatch | tns | hats (skysift.crossmatch.registry)
    path: str | None  # catalog file (local, tns) or HATS catalog (hats)
    table: str | None  # CDS XMatch table (xmatch): simbad, vizier:B/vsx/vsx, ...
    id_column: str
    ra_column: str
    dec_column: str
    type_column: str
    mag_column: str | None  # copied to match_mag (NaN without one)
    radius_arcsec: float
    taxonomy: str | None  # taxonomy section; None = the catalog's name

    def __post_init__(self) -> None:
        """Check that the backend is known and has what it needs (a path, a table, a radius it allows)."""
        problems = get_backend(self.backend, f"crossmatch.catalogs.{self.name}").check(self)
        if problems:
            raise InputError("; ".join(problems))

    def column_keys(self) -> dict[str, str]:
        """Config key -> column name of the catalog's id, ra, dec, type and (when set) magnitude columns."""
        keys = {
            "id_column": self.id_column,
            "ra_column": self.ra_column,
            "dec_column": self.dec_column,
            "type_column": self.type_column,
        }
        return keys | ({"mag_column": self.mag_column} if self.mag_column else {})

    @classmethod
    def from_config(cls, name: str, section: Mapping) -> CatalogSpec:
        """From a ``crossmatch.catalogs.<name>`` section: schema defaults, then the backend's columns for nulls."""
        values = _validated(name, section)
        backend = get_backend(values["backend"], f"crossmatch.catalogs.{name}")
        for key, value in backend.columns.items():
            if values[key] is None:
                values[key] = value
        return settings_from(cls, {"name": name, **values}, f"crossmatch.catalogs.{name}")


def resolve_catalogs(
    configured: Mapping[str, Mapping], default: Mapping[str, Mapping], *, tns_path: str
) -> dict[str, dict]:
    """The run's catalog sections: the configured ones (else ``default``); a tns one without a path gets
    ``tns_path`` (``{name}`` filled in: where the workflow puts the downloaded catalog)."""
    out = {}
    for name, section in (configured or default).items():
        if name == "objects":
            raise InputError(
                "crossmatch.catalogs.objects: 'objects' is reserved (the batch input); rename it"
            )
        spec = _validated(name, section)
        if spec["backend"] == "tns" and not spec["path"]:
            spec["path"] = tns_path.format(name=name)
        out[name] = spec
    return out
