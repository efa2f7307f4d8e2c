"""GW sky-map counterpart search: candidates inside a HEALPix credible region and a time window.

:mod:`skysift.skymap.maps` reads flat (``PROB``, NESTED/RING) and multi-order (``UNIQ``,
``PROBDENSITY``) BAYESTAR maps and computes credible levels; :mod:`skysift.skymap.counterparts`
searches the candidate lists with light curves from :mod:`skysift.lightcurves.epochs`;
:mod:`skysift.skymap.plot` draws the region.
:func:`select_skymap_counterparts` is the workflow stage (rule ``select_skymap_counterparts``)
and :func:`write_demo_skymap` the ``skysift skymap-demo`` command.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd
from astropy.table import Table

from skysift.io import InputError, atomic_path, spreadsheet_safe
from skysift.skymap.counterparts import search_counterparts
from skysift.skymap.maps import (
    SkyMap,
    gaussian_density,
    make_flat_map,
    make_multiorder_map,
    read_skymap,
    ring_density,
    write_skymap,
)
from skysift.skymap.plot import plot_region

__all__ = [
    "SkyMap",
    "gaussian_density",
    "make_flat_map",
    "make_multiorder_map",
    "read_skymap",
    "ring_density",
    "search_counterparts",
    "select_skymap_counterparts",
    "write_demo_skymap",
    "write_skymap",
]

log = logging.getLogger(__name__)


def select_skymap_counterparts(
    skymap_path: str | Path,
    list_paths: Mapping[str, str | Path],
    dr_files: Iterable[str | Path],
    outputs: Mapping[str, str | Path],
    *,
    name: str,
    clean: Mapping | None = None,
    credible_level: float = 0.9,
    window_days: tuple[float, float] = (0.0, 14.0),
    event_mjd: float | None = None,
) -> Table:
    """Search the candidate lists for counterparts of one map; write ``outputs`` ecsv, csv, png, summary.

    ``dr_files`` hold the light curves (DR layout; see :func:`skysift.lightcurves.manifest_files`).
    """
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
        with atomic_path(outputs[key]) as tmp:  # CSV: catalog strings cannot run as spreadsheet formulas
            (spreadsheet_safe(table) if key == "csv" else table).write(tmp, format=fmt, overwrite=True)
    t2 = time.perf_counter()
    plot_region(sky, table, outputs["png"], credible_level=credible_level)
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
    with atomic_path(outputs["summary"]) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    log.info("sky map %s: %d counterparts; %s", name, len(table), summary["seconds"])
    return table


def write_demo_skymap(
    path: str | Path,
    ra: float,
    dec: float,
    *,
    event_mjd: float,
    sigma_deg: float = 2.0,
    multiorder: bool = False,
    nside: int = 256,
    nested: bool = True,
    max_order: int = 10,
    distance_mpc: tuple[float, float] | None = (40.0, 10.0),
    name: str = "demo",
) -> SkyMap:
    """Write a Gaussian-blob sky map centred on (ra, dec) with an event time (flat or multi-order FITS)."""
    if not -90 <= dec <= 90:
        raise InputError(f"skymap-demo: dec = {dec} is outside [-90, 90]")
    if sigma_deg <= 0:
        raise InputError(f"skymap-demo: sigma = {sigma_deg} must be > 0 degrees")
    density = gaussian_density(ra % 360, dec, sigma_deg)
    if multiorder:
        sky = make_multiorder_map(
            density, max_order, event_mjd=event_mjd, name=name, distance_mpc=distance_mpc
        )
    else:
        sky = make_flat_map(
            density, nside, nested=nested, event_mjd=event_mjd, name=name, distance_mpc=distance_mpc
        )
    write_skymap(sky, path)
    return sky


def position_of(table_path: str | Path, objectid: int) -> tuple[float, float]:
    """RA, Dec of an objectid in a table with objectid, ra, dec (candidate ECSV/CSV or parquet, e.g. truth)."""
    path = Path(table_path)
    df = pd.read_parquet(path) if path.suffix == ".parquet" else Table.read(path).to_pandas()
    for col in ("objectid", "ra", "dec"):
        if col not in df.columns:
            raise InputError(f"{path}: no column {col!r}; need objectid, ra, dec")
    row = df[df["objectid"] == int(objectid)]
    if row.empty:
        raise InputError(f"{path}: objectid {objectid} not found")
    return float(row["ra"].iloc[0]), float(row["dec"].iloc[0])
