"""Cross-match survey objects with catalogs: ``local`` files, CDS ``xmatch``, the ``tns`` bulk CSV and ``hats``.

Each catalog is described by a :class:`CatalogSpec`: its backend, where it is (a file, a CDS
XMatch table), which columns hold id/position/type, and the match radius.

- ``local``: a parquet, ECSV, FITS, VOTable or CSV file, matched with a KD-tree on unit vectors
  (:mod:`skysift.crossmatch.match`; fast for multi-million-row catalogs). The catalog is first cut
  to a padded cap around the batch's objects, so a per-batch job indexes only its sky region.
- ``xmatch``: CDS XMatch through astroquery (:mod:`skysift.crossmatch.xmatch`).
- ``tns``: the TNS public-objects CSV, downloaded once (:mod:`skysift.crossmatch.tns`), then local.
- ``hats``: a HATS catalog (a directory or URL) matched with lsdb (:mod:`skysift.crossmatch.hats`,
  optional extra ``skysift[hats]``); only the catalog partitions overlapping the batch are read.

Matching is per sky source, not per objectid: the g/r/i objectids of one source are associated
by position first (:func:`skysift.crossmatch.associate.associate_sources`), each source is
matched once and its matches are copied to every objectid of the source (with the separation
recomputed from that objectid's own position).

Outputs. :func:`crossmatch_objects` returns (and writes) the nearest match per object and
catalog: objectid, catalog, match_name, match_type, sep_arcsec, match_mag (the catalog's
``mag_column`` if the spec names one, else NaN), label (empty string when the type maps to no class). ``all_matches_output`` also writes every catalog source within the
radius (same columns, ordered by objectid, catalog, separation). Catalog types map to classes
through the taxonomy (``taxonomy.yaml`` beside this module, or a user file of the same shape);
conflicts between catalogs are resolved downstream by :func:`skysift.classify.labels.best_crossmatch`
(a labelled row first, then catalog priority tns > vsx > simbad, then separation).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml
from astropy.table import Table

from skysift.crossmatch.match import match_sky, nearest_only, precut_catalog
from skysift.io import InputError, write_parquet
from skysift.sky import angular_separation_arcsec, associate_sources, radec_to_xyz, source_positions

__all__ = [
    "BACKENDS",
    "CatalogSpec",
    "XMATCH_SCHEMA",
    "ALL_MATCHES_COLUMNS",
    "load_taxonomy",
    "map_type",
    "load_catalog",
    "match_catalog",
    "crossmatch_catalog",
    "all_matches",
    "xmatch_objects",
    "crossmatch_objects",
    "read_objects",
    "resolve_catalogs",
    "catalog_inputs",
]

log = logging.getLogger(__name__)

XMATCH_SCHEMA = pa.schema(
    [
        pa.field("objectid", pa.int64()),
        pa.field("catalog", pa.string()),
        pa.field("match_name", pa.string()),
        pa.field("match_type", pa.string()),
        pa.field("sep_arcsec", pa.float64()),
        pa.field("match_mag", pa.float64()),
        pa.field("label", pa.string()),
    ]
)

#: Columns of an all-matches table before labelling (what the per-batch xmatch files hold).
ALL_MATCHES_COLUMNS: tuple[str, ...] = (
    "objectid",
    "catalog",
    "match_name",
    "match_type",
    "sep_arcsec",
    "match_mag",
)

#: Backends a catalog can use.
BACKENDS: tuple[str, ...] = ("local", "xmatch", "tns", "hats")

#: Column defaults per backend when the config leaves them null (TNS CSV names its dec column so).
_BACKEND_COLUMNS: dict[str, dict[str, str]] = {
    "tns": {"id_column": "name", "ra_column": "ra", "dec_column": "declination", "type_column": "type"},
}

#: Where the workflow puts the parquet copy of a downloaded TNS catalog and per-batch XMatch results.
TNS_CATALOG_PATH = "results/crossmatch/catalogs/{name}.parquet"
XMATCH_RESULT_PATH = "results/crossmatch/xmatch/{name}/{batch}.parquet"


@dataclass(frozen=True)
class CatalogSpec:
    """One catalog: backend, location (file, HATS catalog or CDS table), id/ra/dec/type/mag columns and radius."""

    name: str
    path: str | None = None
    id_column: str = "name"
    ra_column: str = "ra"
    dec_column: str = "dec"
    type_column: str = "type"
    mag_column: str | None = None  # a magnitude column, copied to match_mag (NaN without one)
    radius_arcsec: float = 1.0
    taxonomy: str | None = None  # taxonomy section to use; defaults to ``name``
    backend: str = "local"  # local | xmatch | tns | hats
    table: str | None = None  # CDS XMatch table for backend xmatch: simbad, vizier:B/vsx/vsx, ...

    def __post_init__(self) -> None:
        """Check that the backend is known and has what it needs (a path, a table)."""
        where = f"crossmatch.catalogs.{self.name}"
        if self.backend not in BACKENDS:
            raise InputError(f"{where}.backend: {self.backend!r} is not one of {list(BACKENDS)}")
        if self.backend == "local" and not self.path:
            raise InputError(f"{where}.path: a local catalog needs a file (parquet/ECSV/FITS/VOTable/CSV)")
        if self.backend == "hats" and not self.path:
            raise InputError(f"{where}.path: a hats catalog needs the HATS catalog's directory or URL")
        if self.backend == "xmatch" and not self.table:
            raise InputError(
                f"{where}.table: an xmatch catalog needs a CDS table, e.g. simbad or vizier:B/vsx/vsx"
            )
        if self.backend == "xmatch" and not 0 < self.radius_arcsec <= 180:
            raise InputError(f"{where}.radius_arcsec: CDS XMatch allows at most 180 arcsec")

    @classmethod
    def from_config(cls, name: str, section: Mapping) -> CatalogSpec:
        """Build from the ``crossmatch.catalogs.<name>`` config section (null values = defaults)."""
        unknown = set(section) - set(cls.__dataclass_fields__) - {"name"}
        if unknown:
            raise ValueError(f"crossmatch.catalogs.{name}: unknown key(s) {sorted(unknown)}")
        values = {k: v for k, v in section.items() if k != "name" and v is not None}
        for key, default in _BACKEND_COLUMNS.get(values.get("backend", "local"), {}).items():
            values.setdefault(key, default)
        if values.get("backend") == "xmatch":
            for key in ("id_column", "type_column", "ra_column", "dec_column"):
                values.setdefault(key, "")  # "" = the table's known columns (see xmatch.KNOWN_TABLE_COLUMNS)
        return cls(name=name, **values)


def load_taxonomy(path: str | Path | None = None) -> dict[str, dict[str, str | None]]:
    """Read a taxonomy YAML ({catalog: {type: class or null}}); the packaged one by default."""
    if path is None:
        text = resources.files("skysift.crossmatch").joinpath("taxonomy.yaml").read_text()
        source = "skysift/crossmatch/taxonomy.yaml"
    else:
        text = Path(path).read_text()
        source = str(path)
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InputError(f"{source}: a taxonomy is a mapping {{catalog: {{type: class}}}}")
    return {cat: {str(k): v for k, v in types.items()} for cat, types in data.items()}


def map_type(catalog_type: str | None, mapping: Mapping[str, str | None]) -> str:
    """Class for a catalog type: exact match, else the first component of a compound/uncertain type.

    VSX writes compound types ("EA/DM", "RRAB|RRC") and uncertain ones ("EW:"); SIMBAD
    sometimes appends "?" for candidates ("RR*?"), which we do not trust as labels.
    """
    if catalog_type is None:
        return ""
    text = str(catalog_type).strip()
    if not text or text.endswith("?"):
        return ""
    if text in mapping:
        return mapping[text] or ""
    head = text.rstrip(":").replace("|", "/").replace("+", "/").split("/")[0].strip().rstrip(":")
    return (mapping.get(head) or "") if head else ""


def load_catalog(spec: CatalogSpec) -> pd.DataFrame:
    """Read a catalog file into a DataFrame with columns name, ra, dec, type (degrees), mag (NaN if none)."""
    path = Path(spec.path)
    if not path.exists():
        raise InputError(f"{path}: catalog file for crossmatch.catalogs.{spec.name} not found")
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
    else:
        fmt = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv", ".vot": "votable", ".xml": "votable"}.get(
            path.suffix
        )
        df = Table.read(path, format=fmt).to_pandas() if fmt else Table.read(path).to_pandas()
    wanted = {
        "id_column": spec.id_column,
        "ra_column": spec.ra_column,
        "dec_column": spec.dec_column,
        "type_column": spec.type_column,
    }
    if spec.mag_column:
        wanted["mag_column"] = spec.mag_column
    missing = {key: col for key, col in wanted.items() if col not in df.columns}
    if missing:
        keys = ", ".join(f"crossmatch.catalogs.{spec.name}.{k}={v!r}" for k, v in missing.items())
        raise InputError(f"{path}: column(s) not found ({keys}); the file has {list(df.columns)}")
    out = pd.DataFrame(
        {
            "name": df[spec.id_column].astype("string").fillna("").to_numpy(dtype=object),
            "ra": pd.to_numeric(df[spec.ra_column], errors="coerce").to_numpy(np.float64),
            "dec": pd.to_numeric(df[spec.dec_column], errors="coerce").to_numpy(np.float64),
            "type": df[spec.type_column].astype("string").fillna("").to_numpy(dtype=object),
            "mag": (
                pd.to_numeric(df[spec.mag_column], errors="coerce").to_numpy(np.float64)
                if spec.mag_column
                else np.full(len(df), np.nan)
            ),
        }
    )
    bad = ~(np.isfinite(out["ra"]) & np.isfinite(out["dec"]))
    if bad.any():
        log.warning("%s: %d rows without a valid position skipped", path, int(bad.sum()))
        out = out[~bad].reset_index(drop=True)
    return out


def _labels(types: np.ndarray, mapping: Mapping[str, str | None]) -> np.ndarray:
    """Vectorised :func:`map_type` (types repeat a lot: map each distinct one once)."""
    codes, uniques = pd.factorize(pd.Series(types, dtype=object).fillna(""), sort=False)
    mapped = np.array([map_type(t, mapping) for t in uniques], dtype=object)
    return mapped[codes] if len(codes) else np.empty(0, dtype=object)


def match_catalog(
    positions: pd.DataFrame, catalog: pd.DataFrame, radius_arcsec: float, *, workers: int = 1
) -> pd.DataFrame:
    """Every catalog source within the radius of positions (key, ra, dec), nearest first per key.

    Columns key, match_name, match_type, sep_arcsec, match_mag, match_ra, match_dec.

    The catalog (name, ra, dec, type) is first cut to the padded cap around the positions, so only
    the batch's sky region is indexed.
    """
    obj_xyz = radec_to_xyz(positions["ra"].to_numpy(), positions["dec"].to_numpy())
    cat_xyz = radec_to_xyz(catalog["ra"].to_numpy(), catalog["dec"].to_numpy())
    inside = np.flatnonzero(precut_catalog(obj_xyz, cat_xyz, radius_arcsec))
    log.debug("pre-cut: %d of %d catalog rows near the objects", inside.size, len(catalog))
    m = match_sky(obj_xyz, cat_xyz[inside], radius_arcsec, workers=workers)
    rows = inside[m.cat]
    return pd.DataFrame(
        {
            "key": positions["key"].to_numpy(np.int64)[m.obj],
            "match_name": catalog["name"].to_numpy(dtype=object)[rows],
            "match_type": catalog["type"].to_numpy(dtype=object)[rows],
            "sep_arcsec": m.sep_arcsec,
            "match_mag": _mags(catalog)[rows],
            "match_ra": catalog["ra"].to_numpy()[rows],
            "match_dec": catalog["dec"].to_numpy()[rows],
        }
    )


def crossmatch_catalog(
    objects: pd.DataFrame,
    catalog: pd.DataFrame,
    *,
    catalog_name: str,
    radius_arcsec: float,
    mapping: Mapping[str, str | None],
    workers: int = 1,
) -> pd.DataFrame:
    """Nearest catalog source within ``radius_arcsec`` of every object (columns objectid, ra, dec)."""
    if len(objects) == 0 or len(catalog) == 0:
        return _empty()
    obj_xyz = radec_to_xyz(objects["ra"].to_numpy(), objects["dec"].to_numpy())
    cat_xyz = radec_to_xyz(catalog["ra"].to_numpy(), catalog["dec"].to_numpy())
    inside = np.flatnonzero(precut_catalog(obj_xyz, cat_xyz, radius_arcsec))
    m = nearest_only(match_sky(obj_xyz, cat_xyz[inside], radius_arcsec, workers=workers))
    rows = inside[m.cat]
    types = catalog["type"].to_numpy(dtype=object)[rows]
    return pd.DataFrame(
        {
            "objectid": objects["objectid"].to_numpy(np.int64)[m.obj],
            "catalog": catalog_name,
            "match_name": catalog["name"].to_numpy(dtype=object)[rows],
            "match_type": types,
            "sep_arcsec": m.sep_arcsec,
            "match_mag": _mags(catalog)[rows],
            "label": _labels(types, mapping),
        }
    )


def _mags(catalog: pd.DataFrame) -> np.ndarray:
    """The catalog's magnitudes as float64 (NaN where a catalog has no magnitude column)."""
    if "mag" in catalog:
        return catalog["mag"].to_numpy(np.float64)
    return np.full(len(catalog), np.nan)


def _empty(columns: Iterable[str] = XMATCH_SCHEMA.names) -> pd.DataFrame:
    """An empty cross-match table with the schema's dtypes."""
    dtypes = {"objectid": np.int64, "sep_arcsec": np.float64, "match_mag": np.float64}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, object)) for c in columns})


def _sources(
    objects: pd.DataFrame, associate_radius_arcsec: float | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Objects with a source_id (association, or one source per object) and the source positions."""
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
    settings=None,
    *,
    associate_radius_arcsec: float | None = 1.0,
) -> pd.DataFrame:
    """All CDS XMatch counterparts of objects (per associated source, then per objectid); ALL_MATCHES_COLUMNS."""
    from skysift.crossmatch.xmatch import query_xmatch

    objects, positions = _sources(objects, associate_radius_arcsec)
    matches = query_xmatch(
        positions,
        spec.table,
        spec.radius_arcsec,
        settings,
        id_column=spec.id_column or None,
        type_column=spec.type_column or None,
    )
    return _expand(matches, objects, spec.name)


def all_matches(
    objects: pd.DataFrame,
    catalogs: Iterable[CatalogSpec],
    *,
    associate_radius_arcsec: float | None = 1.0,
    xmatch_settings=None,
    precomputed: Mapping[str, pd.DataFrame] | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Every catalog source within each catalog's radius of every object (ALL_MATCHES_COLUMNS).

    ``precomputed`` holds ready results by catalog name (the workflow's per-batch XMatch files);
    an xmatch catalog without one is queried online here.
    """
    precomputed = precomputed or {}
    objects, positions = _sources(objects, associate_radius_arcsec)
    parts = []
    for spec in catalogs:
        if spec.name in precomputed:
            # per-batch XMatch files predate match_mag (CDS answers carry no magnitude we map): NaN
            part = precomputed[spec.name]
            if "match_mag" not in part:
                part = part.assign(match_mag=np.nan)
            part = part.loc[:, list(ALL_MATCHES_COLUMNS)]
        elif spec.backend == "xmatch":
            part = xmatch_objects(objects, spec, xmatch_settings, associate_radius_arcsec=None)
        elif spec.backend == "hats":
            from skysift.crossmatch.hats import match_hats

            m = match_hats(positions, spec, workers=workers)
            part = _expand(m, objects, spec.name)
            log.info(
                "%s: %d of %d sources matched (HATS catalog %s)",
                spec.name,
                m["key"].nunique(),
                len(positions),
                spec.path,
            )
        else:
            catalog = load_catalog(spec)
            m = match_catalog(positions, catalog, spec.radius_arcsec, workers=workers)
            part = _expand(m, objects, spec.name)
            log.info(
                "%s: %d of %d sources matched within %.2f arcsec (%d rows in catalog)",
                spec.name,
                m["key"].nunique(),
                len(positions),
                spec.radius_arcsec,
                len(catalog),
            )
        parts.append(part)
    if not parts:
        return _empty(ALL_MATCHES_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["objectid", "catalog", "sep_arcsec"], kind="stable").reset_index(drop=True)


def crossmatch_objects(
    objects: pd.DataFrame,
    catalogs: Iterable[CatalogSpec],
    output: str | Path | None = None,
    taxonomy: str | Path | None = None,
    *,
    all_matches_output: str | Path | None = None,
    associate_radius_arcsec: float | None = 1.0,
    xmatch_settings=None,
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
        every.loc[rows, "label"] = _labels(every.loc[rows, "match_type"].to_numpy(dtype=object), mapping)
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
        write_parquet(_to_arrow(nearest), output)
    if all_matches_output is not None:
        write_parquet(_to_arrow(every), all_matches_output)
    return nearest


def _to_arrow(df: pd.DataFrame) -> pa.Table:
    """A cross-match DataFrame as an Arrow table with XMATCH_SCHEMA."""
    df = df.reindex(columns=XMATCH_SCHEMA.names)
    for col in ("catalog", "match_name", "match_type", "label"):
        df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
    return pa.Table.from_pandas(df, schema=XMATCH_SCHEMA, preserve_index=False)


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


def resolve_catalogs(configured: Mapping[str, Mapping], default: Mapping[str, Mapping]) -> dict[str, dict]:
    """The workflow's catalogs: the configured ones (else ``default``), tns ones given their download path."""
    out = {}
    for name, section in (configured or default).items():
        if name == "objects":
            raise InputError(
                "crossmatch.catalogs.objects: 'objects' is reserved (the batch input); rename it"
            )
        spec = dict(section)
        spec.setdefault("backend", "local")
        if spec["backend"] == "tns" and not spec.get("path"):
            spec["path"] = TNS_CATALOG_PATH.format(name=name)
        out[name] = spec
    return out


def catalog_inputs(catalogs: Mapping[str, Mapping], batch: str) -> dict[str, str]:
    """Input files of one batch's cross-match, by catalog name: catalog files or per-batch XMatch results.

    A hats catalog at a URL (s3://, https://) is no file Snakemake can track, so it has no input.
    """
    return {
        name: (
            XMATCH_RESULT_PATH.format(name=name, batch=batch)
            if spec.get("backend") == "xmatch"
            else spec["path"]
        )
        for name, spec in catalogs.items()
        if not (spec.get("backend") == "hats" and "://" in str(spec.get("path")))
    }
