"""Stage 1, fetch: where light curves come from and which batches exist.

Sources: ``demo`` (simulated), ``local`` (a mirror), ``irsa_bulk`` (IRSA's DR parquet files),
``irsa_api`` (IRSA nph_light_curves), ``snad`` (SNAD ZTF DR API), ``hats`` (a HATS catalog read
with lsdb, the optional extra ``skysift[hats]``) and ``table`` (a long-format CSV/parquet file with a
column mapping). A batch is one ZTF field.
``resolve_fields`` decides the batches from the config at workflow-parse time without any network
access; ``release_parent`` says where each source's DR tree lives.
"""

from __future__ import annotations

from pathlib import Path

from skysift.io import InputError

__all__ = [
    "resolve_fields",
    "release_parent",
    "demo_catalog_specs",
    "DEMO_CATALOG_COLUMNS",
    "ONLINE_SOURCES",
    "CONVERTED_SOURCES",
]

#: Sources that fetch over the network (their download rules are local rules).
ONLINE_SOURCES = ("irsa_bulk", "irsa_api", "snad", "hats")
#: Sources whose data skysift converts to the DR layout under <cache_dir>/<source>/<dr>/ in one job.
CONVERTED_SOURCES = ("irsa_api", "snad", "hats", "table")


def release_parent(config: dict, demo_root: str = "results/demo") -> str:
    """The directory holding the ``<dr>/`` release tree of the configured source."""
    source = config["source"]
    if source == "demo":
        return demo_root
    if source == "local":
        return config["fetch"]["local_path"] or ""
    if source == "irsa_bulk":
        return config["fetch"]["cache_dir"]
    # API answers are converted files, never byte-identical to IRSA's: keep them apart.
    return f"{config['fetch']['cache_dir'].rstrip('/')}/{source}"


#: Column names of the demo survey's catalog files, as the real services name them.
DEMO_CATALOG_COLUMNS: dict[str, dict] = {
    "simbad": {
        "id_column": "main_id",
        "ra_column": "ra",
        "dec_column": "dec",
        "type_column": "otype",
        "radius_arcsec": 1.0,
    },
    "vsx": {
        "id_column": "name",
        "ra_column": "ra",
        "dec_column": "dec",
        "type_column": "vtype",
        "radius_arcsec": 1.0,
    },
    "tns": {
        "id_column": "name",
        "ra_column": "ra",
        "dec_column": "declination",
        "type_column": "type",
        "radius_arcsec": 1.5,
    },
}


def demo_catalog_specs(demo_root: str | Path) -> dict[str, dict]:
    """Cross-match catalog config for the demo survey's simulated SIMBAD, VSX and TNS files."""
    root = Path(demo_root)
    return {
        name: {"path": str(root / "catalogs" / f"{name}.parquet"), **columns}
        for name, columns in DEMO_CATALOG_COLUMNS.items()
    }


def resolve_fields(config: dict) -> list[int]:
    """The ZTF fields (batches) of a run: fetch.fields, else demo.fields or every field of the mirror."""
    requested = [int(f) for f in config["fetch"]["fields"]]
    if config["source"] == "demo":
        available = [int(f) for f in config["demo"]["fields"]]
        missing = sorted(set(requested) - set(available))
        if missing:
            raise InputError(f"fetch.fields {missing} are not simulated; add them to demo.fields")
        return sorted(set(requested or available))
    if config["source"] == "local":
        from skysift.sources.local import release_fields

        parent = config["fetch"]["local_path"]
        if not parent:
            raise InputError("source is 'local' but fetch.local_path is not set: point it at your DR mirror")
        available = release_fields(Path(parent) / config["dr"])
        if not available:
            raise InputError(f"{Path(parent) / config['dr']}: no ZTF DR light-curve files found")
        missing = sorted(set(requested) - set(available))
        if missing:
            raise InputError(f"fetch.fields {missing} are not in the mirror {Path(parent) / config['dr']}")
        return sorted(set(requested or available))
    if config["source"] == "irsa_bulk":
        if not requested:
            raise InputError(
                "source is 'irsa_bulk' but fetch.fields is empty: list the ZTF fields to download "
                "(e.g. fetch: {fields: [633]}); a whole DR is ~250k files"
            )
        return sorted(set(requested))
    if config["source"] == "table":
        from skysift.sources.table import table_fields

        table = config["fetch"]["table"]
        if not table["path"]:
            raise InputError(
                "source is 'table' but fetch.table.path is not set: point it at your CSV/parquet file"
            )
        if requested:
            return sorted(set(requested))
        return table_fields(table["path"], table["columns"], fieldid=table["fieldid"])
    if config["source"] == "hats":
        if not config["fetch"]["hats"]["path"]:
            raise InputError(
                "source is 'hats' but fetch.hats.path is not set: the HATS catalog's directory or URL"
            )
        if not requested:
            raise InputError(
                "source is 'hats': set fetch.fields (the ZTF fields to keep; only those become batches, and the "
                "catalog is not opened while the workflow is planned)"
            )
        return sorted(set(requested))
    if config["source"] in ("irsa_api", "snad"):
        fetch = config["fetch"]
        if not fetch["ids_file"] and not fetch["cones_file"]:
            raise InputError(f"source is {config['source']!r}: set fetch.ids_file and/or fetch.cones_file")
        if requested:
            return sorted(set(requested))
        if fetch["cones_file"]:
            raise InputError(
                "fetch.cones_file needs fetch.fields: the ZTF fields covering the cones (only those become batches)"
            )
        from skysift.sources.convert import fields_of_objectids, read_ids

        return fields_of_objectids(read_ids(fetch["ids_file"]))
    raise InputError(f"source: unknown source {config['source']!r}")
