"""Cross-match survey objects with catalogs: ``local`` files, CDS ``xmatch``, the ``tns`` bulk CSV and ``hats``.

- :mod:`~skysift.crossmatch.spec`: a catalog's configuration (:class:`CatalogSpec`).
- :mod:`~skysift.crossmatch.registry`: the backends by name, one module each:
  :mod:`~skysift.crossmatch.local` (a catalog file, KD-tree on unit vectors, :mod:`~skysift.crossmatch.match`),
  :mod:`~skysift.crossmatch.xmatch` (CDS XMatch through astroquery),
  :mod:`~skysift.crossmatch.tns` (the TNS public-objects CSV, downloaded once, then matched like a file),
  :mod:`~skysift.crossmatch.hats` (a HATS catalog through lsdb, optional extra ``skysift[hats]``).
- :mod:`~skysift.crossmatch.catalogs`: catalog files read into one shape.
- :mod:`~skysift.crossmatch.taxonomy`: catalog types to classifier classes (``taxonomy.yaml``).
- :mod:`~skysift.crossmatch.run`: the stage (per sky source, nearest and all matches, labels).
- :mod:`~skysift.crossmatch.tables`: the output tables' columns.
"""

from skysift.crossmatch.base import Backend
from skysift.crossmatch.catalogs import load_catalog
from skysift.crossmatch.local import match_catalog
from skysift.crossmatch.registry import BACKENDS, get_backend
from skysift.crossmatch.run import (
    all_matches,
    crossmatch_objects,
    read_objects,
    run_crossmatch,
    run_query_xmatch,
    xmatch_objects,
)
from skysift.crossmatch.spec import CatalogSpec, resolve_catalogs
from skysift.crossmatch.tables import ALL_MATCHES_COLUMNS, XMATCH_SCHEMA
from skysift.crossmatch.taxonomy import load_taxonomy, map_type, map_types

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
