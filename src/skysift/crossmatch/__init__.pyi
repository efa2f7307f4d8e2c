"""Type stub of :mod:`skysift.crossmatch`: what the package exports, and from where (read lazily, see __init__.py)."""

from .base import Backend
from .catalogs import load_catalog
from .local import match_catalog
from .registry import BACKENDS, get_backend
from .run import (
    all_matches,
    crossmatch_objects,
    read_objects,
    run_crossmatch,
    run_query_xmatch,
    xmatch_objects,
)
from .spec import CatalogSpec, resolve_catalogs
from .tables import ALL_MATCHES_COLUMNS, XMATCH_SCHEMA
from .taxonomy import load_taxonomy, map_type, map_types

__all__ = [
    "ALL_MATCHES_COLUMNS",
    "BACKENDS",
    "XMATCH_SCHEMA",
    "Backend",
    "CatalogSpec",
    "all_matches",
    "crossmatch_objects",
    "get_backend",
    "load_catalog",
    "load_taxonomy",
    "map_type",
    "map_types",
    "match_catalog",
    "read_objects",
    "resolve_catalogs",
    "run_crossmatch",
    "run_query_xmatch",
    "xmatch_objects",
]
