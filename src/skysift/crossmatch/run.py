"""The cross-match stage: a batch's objects against every catalog, per sky source, labelled.

Matching is per sky source, not per objectid: the g/r/i objectids of one source are associated
by position first (:func:`skysift.sky.associate_sources`), each source is matched once by its
catalog's backend (:mod:`skysift.crossmatch.registry`) and its matches are copied to every
objectid of the source (with the separation recomputed from that objectid's own position where
the backend gives the counterpart's position).

Outputs. :func:`crossmatch_objects` returns (and writes) the nearest match per object and catalog
(:data:`~skysift.crossmatch.tables.XMATCH_SCHEMA`): objectid, catalog, match_name, match_type (both
stripped of padding), sep_arcsec, match_mag (the catalog's ``mag_column``, else NaN), label (empty
when the type maps to no class). ``all_matches_output`` also gets every catalog source within the
radius (same columns, ordered by objectid, catalog, separation). Conflicts between catalogs are
resolved downstream (skysift.classify: a labelled row first, then tns > vsx > simbad, then separation).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from skysift.crossmatch.base import strip_strings
from skysift.crossmatch.registry import get_backend
from skysift.crossmatch.spec import CatalogSpec
from skysift.crossmatch.tables import ALL_MATCHES_COLUMNS, empty_table, to_arrow
from skysift.crossmatch.taxonomy import load_taxonomy, map_types
from skysift.crossmatch.xmatch import XMatchSettings
from skysift.io import write_parquet
from skysift.sky import angular_separation_arcsec, associate_sources, source_positions

__all__ = [
    "all_matches",
    "crossmatch_objects",
    "read_objects",
    "run_crossmatch",
    "run_query_xmatch",
    "xmatch_objects",
]

log = logging.getLogger(__name__)


def read_objects(path: str | Path) -> pd.DataFrame:
    """Objects to match from a cleaned batch: objectid, ra, dec (degrees, float64), fieldid, filterid."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    extra = [c for c in ("fieldid", "filterid") if c in names]
    table = pq.read_table(path, columns=["objectid", "objra", "objdec", *extra])
    out = pd.DataFrame(
        {
            "objectid": table.column("objectid").to_numpy(),
            "ra": table.column("objra").to_numpy().astype(np.float64),
            "dec": table.column("objdec").to_numpy().astype(np.float64),
        }
    )
    for col in extra:
        out[col] = table.column(col).to_numpy().astype(np.int64)
    return out


def _sources(
    objects: pd.DataFrame, associate_radius_arcsec: float | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Objects with a source_id (association, or one source per object) and the source positions (key, ra, dec)."""
    if associate_radius_arcsec:
        objects = associate_sources(objects, associate_radius_arcsec)
        positions = source_positions(objects).rename(columns={"source_id": "key"})
    else:
        objects = objects.assign(source_id=objects["objectid"].to_numpy(np.int64))
        positions = objects[["source_id", "ra", "dec"]].rename(columns={"source_id": "key"})
    return objects, positions


def _expand(matches: pd.DataFrame, objects: pd.DataFrame, catalog_name: str) -> pd.DataFrame:
    """Source-level matches (key = source_id) copied to every objectid of the source."""
    members = objects[["objectid", "source_id", "ra", "dec"]].rename(
        columns={"source_id": "key", "ra": "_ra", "dec": "_dec"}
    )
    out = members.merge(matches, on="key", how="inner", sort=False)
    if "match_ra" in out and len(out):
        out["sep_arcsec"] = angular_separation_arcsec(
            out["_ra"], out["_dec"], out["match_ra"], out["match_dec"]
        )
    out["catalog"] = catalog_name
    if "match_mag" not in out:
        out["match_mag"] = np.nan
    return out.loc[:, list(ALL_MATCHES_COLUMNS)]


def xmatch_objects(
    objects: pd.DataFrame,
    spec: CatalogSpec,
    settings: XMatchSettings,
    *,
    associate_radius_arcsec: float | None = 1.0,
) -> pd.DataFrame:
    """All CDS XMatch counterparts of objects (per associated source, then per objectid); ALL_MATCHES_COLUMNS."""
    return all_matches(
        objects, [spec], associate_radius_arcsec=associate_radius_arcsec, xmatch_settings=settings
    )


def all_matches(
    objects: pd.DataFrame,
    catalogs: Iterable[CatalogSpec],
    *,
    associate_radius_arcsec: float | None = 1.0,
    xmatch_settings: XMatchSettings | None = None,
    precomputed: Mapping[str, pd.DataFrame] | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Every catalog source within each catalog's radius of every object (ALL_MATCHES_COLUMNS).

    ``precomputed`` holds ready results by catalog name (the workflow's per-batch XMatch files);
    an xmatch catalog without one is queried online here (with ``xmatch_settings``).
    """
    precomputed = precomputed or {}
    settings = {"xmatch": xmatch_settings}
    objects, positions = _sources(objects, associate_radius_arcsec)
    parts = []
    for spec in catalogs:
        if spec.name in precomputed:
            # per-batch XMatch files carry no magnitude (CDS answers have none we map): NaN
            part = precomputed[spec.name]
            if "match_mag" not in part:
                part = part.assign(match_mag=np.nan)
            part = part.loc[:, list(ALL_MATCHES_COLUMNS)]
        else:
            backend = get_backend(spec.backend, f"crossmatch.catalogs.{spec.name}")
            matches = backend.match(positions, spec, workers=workers, settings=settings.get(backend.name))
            part = _expand(matches, objects, spec.name)
        parts.append(part)
    if not parts:
        return empty_table(ALL_MATCHES_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    for col in ("match_name", "match_type"):
        out[col] = strip_strings(out[col])
    return out.sort_values(["objectid", "catalog", "sep_arcsec"], kind="stable").reset_index(drop=True)


def crossmatch_objects(
    objects: pd.DataFrame,
    catalogs: Iterable[CatalogSpec],
    output: str | Path | None = None,
    taxonomy: str | Path | None = None,
    *,
    all_matches_output: str | Path | None = None,
    associate_radius_arcsec: float | None = 1.0,
    xmatch_settings: XMatchSettings | None = None,
    precomputed: Mapping[str, pd.DataFrame] | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Nearest match per object and catalog, labelled; write parquet (XMATCH_SCHEMA) if ``output`` is given."""
    catalogs = list(catalogs)
    tax = load_taxonomy(taxonomy)
    every = all_matches(
        objects,
        catalogs,
        associate_radius_arcsec=associate_radius_arcsec,
        xmatch_settings=xmatch_settings,
        precomputed=precomputed,
        workers=workers,
    )
    every["label"] = np.empty(len(every), dtype=object)
    for spec in catalogs:
        section = spec.taxonomy or spec.name
        mapping = tax.get(section, {})
        if not mapping:
            log.warning("no taxonomy section %r: matches to %s get no label", section, spec.name)
        rows = (every["catalog"] == spec.name).to_numpy()
        every.loc[rows, "label"] = map_types(every.loc[rows, "match_type"].to_numpy(dtype=object), mapping)
    every["label"] = every["label"].fillna("")
    nearest = every.drop_duplicates(["objectid", "catalog"], keep="first").reset_index(drop=True)
    for spec in catalogs:
        part = nearest[nearest["catalog"] == spec.name]
        log.info(
            "%s: %d of %d objects matched (%d matches in all), %d with a class label",
            spec.name,
            len(part),
            len(objects),
            int((every["catalog"] == spec.name).sum()),
            int((part["label"] != "").sum()),
        )
    if output is not None:
        write_parquet(to_arrow(nearest), output)
    if all_matches_output is not None:
        write_parquet(to_arrow(every), all_matches_output)
    return nearest


def run_crossmatch(
    objects_path: str | Path,
    catalogs: Mapping[str, Mapping],
    output: str | Path,
    *,
    taxonomy: str | Path | None,
    associate_radius_arcsec: float | None,
    xmatch_results: Mapping[str, str | Path],
    all_matches_output: str | Path | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """The workflow's per-batch cross-match: ``catalogs`` are config sections by name; the xmatch ones
    arrive as per-batch result files (``xmatch_results``, by catalog name), so this job needs no network."""
    specs = [CatalogSpec.from_config(name, section) for name, section in catalogs.items()]
    precomputed = {s.name: pd.read_parquet(xmatch_results[s.name]) for s in specs if s.backend == "xmatch"}
    return crossmatch_objects(
        read_objects(objects_path),
        specs,
        output,
        taxonomy=taxonomy,
        all_matches_output=all_matches_output,
        associate_radius_arcsec=associate_radius_arcsec,
        precomputed=precomputed,
        workers=workers,
    )


def run_query_xmatch(
    objects_path: str | Path,
    name: str,
    catalog: Mapping,
    output: str | Path,
    *,
    xmatch: Mapping,
    cache_dir: str | Path,
    associate_radius_arcsec: float | None,
) -> pd.DataFrame:
    """The workflow's CDS XMatch query of one batch and catalog: every match, written to ``output``.

    ``catalog`` is the ``crossmatch.catalogs.<name>`` section, ``xmatch`` the ``crossmatch.xmatch``
    section; astroquery's cache goes to ``cache_dir/xmatch``.
    """
    spec = CatalogSpec.from_config(name, catalog)
    settings = XMatchSettings.from_config(xmatch, Path(cache_dir) / "xmatch")
    matches = xmatch_objects(
        read_objects(objects_path), spec, settings, associate_radius_arcsec=associate_radius_arcsec
    )
    write_parquet(pa.Table.from_pandas(matches, preserve_index=False), output)
    return matches
