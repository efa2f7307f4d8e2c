"""Backend ``local``: a catalog file matched with a KD-tree on unit vectors (:mod:`skysift.crossmatch.match`).

A parquet catalog is read for the batch's declination band only (a filter pushed down to its row groups, five
columns), then cut to the padded cap around the batch's positions, so a per-batch job holds and indexes only
its own sky region (multi-million-row catalogs; sort a large file by dec to make the row groups bands).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from skysift.crossmatch.base import NAMED_COLUMNS, Backend
from skysift.crossmatch.catalogs import load_catalog
from skysift.crossmatch.match import match_sky, precut_catalog
from skysift.sky import radec_to_xyz

if TYPE_CHECKING:
    from skysift.crossmatch.spec import CatalogSpec

__all__ = ["BACKEND", "dec_band", "match_catalog", "match_file"]

log = logging.getLogger(__name__)


def match_catalog(
    positions: pd.DataFrame, catalog: pd.DataFrame, radius_arcsec: float, *, workers: int = 1
) -> pd.DataFrame:
    """Every catalog source (name, ra, dec, type[, mag]) within the radius of positions (key, ra, dec).

    Columns key, match_name, match_type, sep_arcsec, match_mag, match_ra, match_dec; nearest first per key.
    """
    obj_xyz = radec_to_xyz(positions["ra"].to_numpy(), positions["dec"].to_numpy())
    cat_xyz = radec_to_xyz(catalog["ra"].to_numpy(), catalog["dec"].to_numpy())
    inside = np.flatnonzero(precut_catalog(obj_xyz, cat_xyz, radius_arcsec))
    log.debug("pre-cut: %d of %d catalog rows near the objects", inside.size, len(catalog))
    m = match_sky(obj_xyz, cat_xyz[inside], radius_arcsec, workers=workers)
    rows = inside[m.cat]
    mags = catalog["mag"].to_numpy(np.float64) if "mag" in catalog else np.full(len(catalog), np.nan)
    return pd.DataFrame(
        {
            "key": positions["key"].to_numpy(np.int64)[m.obj],
            "match_name": catalog["name"].to_numpy(dtype=object)[rows],
            "match_type": catalog["type"].to_numpy(dtype=object)[rows],
            "sep_arcsec": m.sep_arcsec,
            "match_mag": mags[rows],
            "match_ra": catalog["ra"].to_numpy()[rows],
            "match_dec": catalog["dec"].to_numpy()[rows],
        }
    )


def dec_band(dec: np.ndarray, radius_arcsec: float) -> tuple[float, float] | None:
    """The declinations (degrees) a match within ``radius_arcsec`` of ``dec`` can have (1 arcsec spare);
    None without a finite position (no cut)."""
    dec = dec[np.isfinite(dec)]
    if not len(dec):
        return None
    pad = (radius_arcsec + 1.0) / 3600.0
    return max(float(dec.min()) - pad, -90.0), min(float(dec.max()) + pad, 90.0)


def match_file(
    positions: pd.DataFrame, spec: CatalogSpec, *, workers: int = 1, settings: Any = None
) -> pd.DataFrame:
    """Counterparts of positions in the catalog file of ``spec`` (the matcher of the local and tns backends)."""
    catalog = load_catalog(spec, dec_band(positions["dec"].to_numpy(np.float64), spec.radius_arcsec))
    m = match_catalog(positions, catalog, spec.radius_arcsec, workers=workers)
    log.info(
        "%s: %d of %d sources matched within %.2f arcsec (%d rows in catalog)",
        spec.name,
        m["key"].nunique(),
        len(positions),
        spec.radius_arcsec,
        len(catalog),
    )
    return m


BACKEND = Backend(
    name="local",
    match=match_file,
    requires={"path": "a local catalog needs a file (parquet/ECSV/FITS/VOTable/CSV)"},
    columns=NAMED_COLUMNS,
)
