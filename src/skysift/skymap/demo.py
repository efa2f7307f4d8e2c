"""The ``skysift skymap-demo`` command's library: a Gaussian-blob sky map around a position or an object."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from astropy.table import Table

from skysift.io import InputError
from skysift.skymap.generate import gaussian_density, make_flat_map, make_multiorder_map
from skysift.skymap.maps import SkyMap, write_skymap

__all__ = ["position_of", "write_demo_skymap"]


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
