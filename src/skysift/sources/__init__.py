"""Stage 1, fetch: where light curves come from (demo survey, local mirror) and which batches exist.

A batch is one ZTF field. ``resolve_fields`` decides the batches from the config at
workflow-parse time; ``skysift.sources.local`` verifies a batch's files and writes its manifest.
"""

from __future__ import annotations

from pathlib import Path

from skysift.io import InputError

__all__ = ["resolve_fields", "demo_catalog_specs", "DEMO_CATALOG_COLUMNS"]

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
    raise InputError(f"source: unknown source {config['source']!r}")
