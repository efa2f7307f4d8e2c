"""The light-curve sources by name: adding one is a module defining ``SOURCE`` plus one line here (and the
value in the schema's ``source`` enum).

Modules are imported when a source is asked for, so an optional dependency of one source (lsdb for
``hats``) never burdens the others.
"""

from __future__ import annotations

import importlib

from skysift.config import ConfigError
from skysift.sources.base import LightCurveSource

__all__ = ["SOURCES", "get_source"]

#: Source name (the config's ``source``) -> the module that defines its ``SOURCE``.
SOURCES: dict[str, str] = {
    "demo": "skysift.sources.demo",
    "local": "skysift.sources.local",
    "irsa_bulk": "skysift.sources.irsa_bulk",
    "irsa_api": "skysift.sources.irsa_api",
    "snad": "skysift.sources.snad",
    "hats": "skysift.sources.hats",
    "table": "skysift.sources.table",
}


def get_source(name: str) -> LightCurveSource:
    """The registered source ``name``; an unknown name is a ConfigError listing the known ones."""
    try:
        module = SOURCES[name]
    except KeyError:
        raise ConfigError(f"source: unknown source {name!r}; known: {', '.join(SOURCES)}") from None
    source = importlib.import_module(module).SOURCE
    if source.name != name:
        raise ConfigError(f"source {name!r}: {module}.SOURCE is named {source.name!r}; fix the registry line")
    return source
