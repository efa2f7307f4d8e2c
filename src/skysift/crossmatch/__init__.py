"""Cross-match survey objects with catalogs: the ``local`` backend (catalog files, astropy matching).

Each catalog is a file (parquet, ECSV, FITS, VOTable or CSV) described by a
:class:`CatalogSpec` (column names for id, position and type). Objects are matched to the
nearest catalog source within ``radius_arcsec`` (astropy's KD-tree
``match_to_catalog_sky``); the catalog type is mapped to a classifier class with the
taxonomy (``taxonomy.yaml`` beside this module, or a user file of the same shape).

Output columns (one row per object and catalog with a match): objectid, catalog,
match_name, match_type, sep_arcsec, label (empty string when the type maps to no class).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
import pyarrow as pa
import yaml
from astropy.coordinates import SkyCoord
from astropy.table import Table

from skysift.io import InputError, write_parquet

__all__ = [
    "CatalogSpec",
    "XMATCH_SCHEMA",
    "load_taxonomy",
    "map_type",
    "load_catalog",
    "crossmatch_catalog",
    "crossmatch_objects",
    "read_objects",
]

log = logging.getLogger(__name__)

XMATCH_SCHEMA = pa.schema(
    [
        pa.field("objectid", pa.int64()),
        pa.field("catalog", pa.string()),
        pa.field("match_name", pa.string()),
        pa.field("match_type", pa.string()),
        pa.field("sep_arcsec", pa.float64()),
        pa.field("label", pa.string()),
    ]
)


@dataclass(frozen=True)
class CatalogSpec:
    """One local catalog: where it is, which columns hold id/ra/dec/type, and the match radius."""

    name: str
    path: str
    id_column: str = "name"
    ra_column: str = "ra"
    dec_column: str = "dec"
    type_column: str = "type"
    radius_arcsec: float = 1.0
    taxonomy: str | None = None  # taxonomy section to use; defaults to ``name``

    @classmethod
    def from_config(cls, name: str, section: Mapping) -> CatalogSpec:
        """Build from the ``crossmatch.catalogs.<name>`` config section."""
        unknown = set(section) - set(cls.__dataclass_fields__) - {"name"}
        if unknown:
            raise ValueError(f"crossmatch.catalogs.{name}: unknown key(s) {sorted(unknown)}")
        return cls(name=name, **{k: v for k, v in section.items() if k != "name"})


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
    """Read a catalog file into a DataFrame with columns name, ra, dec, type (degrees)."""
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
        }
    )
    bad = ~(np.isfinite(out["ra"]) & np.isfinite(out["dec"]))
    if bad.any():
        log.warning("%s: %d rows without a valid position skipped", path, int(bad.sum()))
        out = out[~bad].reset_index(drop=True)
    return out


def crossmatch_catalog(
    objects: pd.DataFrame,
    catalog: pd.DataFrame,
    *,
    catalog_name: str,
    radius_arcsec: float,
    mapping: Mapping[str, str | None],
) -> pd.DataFrame:
    """Nearest catalog source within ``radius_arcsec`` of every object (columns objectid, ra, dec)."""
    if len(objects) == 0 or len(catalog) == 0:
        return pd.DataFrame({f.name: pd.Series(dtype=f.type.to_pandas_dtype()) for f in XMATCH_SCHEMA})
    obj = SkyCoord(objects["ra"].to_numpy(np.float64) * u.deg, objects["dec"].to_numpy(np.float64) * u.deg)
    cat = SkyCoord(catalog["ra"].to_numpy() * u.deg, catalog["dec"].to_numpy() * u.deg)
    idx, sep, _ = obj.match_to_catalog_sky(cat)
    sep_arcsec = sep.to_value(u.arcsec)
    hit = sep_arcsec <= radius_arcsec
    matched = catalog.iloc[idx[hit]]
    types = matched["type"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "objectid": objects["objectid"].to_numpy(np.int64)[hit],
            "catalog": catalog_name,
            "match_name": matched["name"].to_numpy(dtype=object),
            "match_type": types,
            "sep_arcsec": sep_arcsec[hit],
            "label": [map_type(t, mapping) for t in types],
        }
    )


def crossmatch_objects(
    objects: pd.DataFrame,
    catalogs: Iterable[CatalogSpec],
    output: str | Path | None = None,
    taxonomy: str | Path | None = None,
) -> pd.DataFrame:
    """Match objects against every catalog; write parquet (XMATCH_SCHEMA) if ``output`` is given."""
    tax = load_taxonomy(taxonomy)
    parts = []
    for spec in catalogs:
        mapping = tax.get(spec.taxonomy or spec.name, {})
        if not mapping:
            log.warning(
                "no taxonomy section %r: matches to %s get no label", spec.taxonomy or spec.name, spec.name
            )
        catalog = load_catalog(spec)
        part = crossmatch_catalog(
            objects, catalog, catalog_name=spec.name, radius_arcsec=spec.radius_arcsec, mapping=mapping
        )
        n_labelled = int((part["label"] != "").sum())
        log.info(
            "%s: %d of %d objects matched within %.2f arcsec (%d rows in catalog), %d with a class label",
            spec.name,
            len(part),
            len(objects),
            spec.radius_arcsec,
            len(catalog),
            n_labelled,
        )
        parts.append(part)
    result = (
        pd.concat(parts, ignore_index=True)
        if parts
        else crossmatch_catalog(
            objects.iloc[:0], pd.DataFrame(), catalog_name="", radius_arcsec=0, mapping={}
        )
    )
    result = result.sort_values(["objectid", "catalog"], kind="stable").reset_index(drop=True)
    if output is not None:
        write_parquet(pa.Table.from_pandas(result, schema=XMATCH_SCHEMA, preserve_index=False), output)
    return result


def read_objects(path: str | Path) -> pd.DataFrame:
    """Objects to match from a cleaned batch: objectid, ra, dec (degrees, float64)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["objectid", "objra", "objdec"])
    return pd.DataFrame(
        {
            "objectid": table.column("objectid").to_numpy(),
            "ra": table.column("objra").to_numpy().astype(np.float64),
            "dec": table.column("objdec").to_numpy().astype(np.float64),
        }
    )
