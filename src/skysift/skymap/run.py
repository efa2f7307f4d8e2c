"""The sky-map stage: candidates of the configured lists inside one map's credible region and time window.

:func:`run_counterparts` is the workflow rule ``select_skymap_counterparts``;
:func:`select_skymap_counterparts` the same search on DR files given directly.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from astropy.table import Table

from skysift.io import PathLike, atomic_path, spreadsheet_safe
from skysift.lightcurves import manifest_files
from skysift.skymap.counterparts import search_counterparts
from skysift.skymap.maps import read_skymap
from skysift.skymap.moc import write_moc
from skysift.skymap.plot import plot_region
from skysift.skymap.settings import CounterpartSettings

__all__ = ["CounterpartOutputs", "run_counterparts", "select_skymap_counterparts"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CounterpartOutputs:
    """Files of one map's search: the counterparts (ECSV, CSV), the sky plot, a JSON summary and the
    credible region as a MOC FITS file (optional)."""

    ecsv: PathLike
    csv: PathLike
    png: PathLike
    summary: PathLike
    moc: PathLike | None = None


def run_counterparts(
    skymap_path: PathLike,
    list_paths: Mapping[str, PathLike],
    manifests: Sequence[PathLike],
    outputs: CounterpartOutputs,
    settings: CounterpartSettings,
    *,
    name: str,
    clean: Mapping[str, Any],
    requested: Sequence[str] = (),
) -> Table:
    """The rule's stage: light curves from the fetch ``manifests``' DR files (a kilonova has too few epochs
    for the cleaned tables); ``requested`` lists (skymap.lists) that are not among ``list_paths`` are logged."""
    missing = [n for n in requested if n not in list_paths]
    if missing:
        log.warning("skymap.lists %s are not in candidates.lists: skipped", missing)
    return select_skymap_counterparts(
        skymap_path, list_paths, manifest_files(manifests), outputs, settings, name=name, clean=clean
    )


def select_skymap_counterparts(
    skymap_path: PathLike,
    list_paths: Mapping[str, PathLike],
    dr_files: Iterable[PathLike],
    outputs: CounterpartOutputs,
    settings: CounterpartSettings,
    *,
    name: str,
    clean: Mapping[str, Any] | None = None,
    event_mjd: float | None = None,
) -> Table:
    """Search the candidate lists for counterparts of one map; write the ``outputs``; return the table.

    ``dr_files`` hold the light curves (DR layout; see :func:`skysift.lightcurves.manifest_files`);
    ``clean`` is the clean section whose epoch cuts apply.
    """
    credible_level, window_days = settings.credible_level, tuple(settings.window_days)
    t0 = time.perf_counter()
    sky = read_skymap(skymap_path, name=name)
    t_read = time.perf_counter() - t0
    tables = {list_name: Table.read(path, format="ascii.ecsv") for list_name, path in list_paths.items()}
    t1 = time.perf_counter()
    table = search_counterparts(
        sky,
        tables,
        list(dr_files),
        clean=clean,
        credible_level=credible_level,
        window_days=window_days,
        event_mjd=event_mjd,
    )
    t_search = time.perf_counter() - t1
    for key, fmt in (("ecsv", "ascii.ecsv"), ("csv", "ascii.csv")):
        with atomic_path(getattr(outputs, key)) as tmp:  # CSV: catalog strings cannot run as formulas
            (spreadsheet_safe(table) if key == "csv" else table).write(tmp, format=fmt, overwrite=True)
    if outputs.moc is not None:
        write_moc(sky, credible_level, outputs.moc)
    t2 = time.perf_counter()
    plot_region(sky, table, outputs.png, credible_level=credible_level)
    summary = {
        "skymap": name,
        "path": str(skymap_path),
        "format": "multi-order"
        if sky.multiorder
        else f"flat NSIDE {sky.nside} {'NESTED' if sky.nested else 'RING'}",
        "pixels": sky.npix,
        "max_order": sky.max_level(),
        "event_mjd": table.meta["event_mjd"],
        "credible_level": credible_level,
        "region_area_deg2": table.meta["region_area_deg2"],
        "window_days": list(window_days),
        "lists": list(list_paths),
        "candidates_searched": int(sum(len(t) for t in tables.values())),
        "counterparts": len(table),
        "seconds": {
            "read": round(t_read, 3),
            "search": round(t_search, 3),
            "plot": round(time.perf_counter() - t2, 3),
        },
    }
    with atomic_path(outputs.summary) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    log.info("sky map %s: %d counterparts; %s", name, len(table), summary["seconds"])
    return table
