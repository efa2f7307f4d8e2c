"""Source ``demo``: the embedded survey simulated by :mod:`skysift.simulate` (deterministic, offline).

The release, its truth table and its SIMBAD/VSX/TNS catalogs are written together by
:func:`skysift.simulate.simulate_release` into the directory the workflow gives the demo; the batches
are the simulated fields and are verified like a local mirror.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from skysift.io import InputError
from skysift.simulate import simulate_release
from skysift.sources.base import LightCurveSource, Preparation, chosen_fields
from skysift.sources.local import verify_batch
from skysift.sources.settings import SourceSettings

__all__ = ["DEMO_CATALOG_COLUMNS", "demo_catalog_specs", "demo_fields", "simulate", "SOURCE"]

log = logging.getLogger(__name__)

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


def demo_fields(settings: SourceSettings) -> list[int]:
    """fetch.fields (which must be simulated) or every field of demo.fields."""
    available = [int(f) for f in settings.demo.fields]
    return chosen_fields(settings, available, "are not simulated; add them to demo.fields")


def demo_parent(settings: SourceSettings, default_parent: str) -> str:
    """The demo lives where the workflow puts it."""
    return default_parent


def simulate(settings: SourceSettings, release_root: Path) -> dict:
    """Simulate the demo release into ``release_root`` (= ``<parent>/<dr>``), its truth and catalogs beside it."""
    release_root = Path(release_root)
    if release_root.name != settings.dr:
        raise InputError(f"{release_root}: the demo release directory must be named after dr ({settings.dr})")
    summary = simulate_release(release_root.parent, settings.demo, dr=settings.dr)
    log.info("summary: %s", json.dumps(summary, default=str))
    return summary


SOURCE = LightCurveSource(
    name="demo",
    preparation=Preparation.SIMULATE,
    online=False,
    release_keys=("demo",),
    batch_keys=(),
    fields=demo_fields,
    release_parent=demo_parent,
    fetch_batch=verify_batch,
    prepare=simulate,
    prepare_rule="simulate_survey",
    catalogs=demo_catalog_specs,
)
