"""A sky map's credible region as an IVOA MOC (mocpy), so Aladin and TOPCAT can overlay and query it."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from astropy_healpix.core import ring_to_nested
from mocpy import MOC

from skysift.io import atomic_path
from skysift.skymap.maps import SkyMap

__all__ = ["credible_moc", "write_moc"]

log = logging.getLogger(__name__)


def credible_moc(sky: SkyMap, level: float) -> MOC:
    """The ``level`` credible region of ``sky`` as a MOC at the map's own resolution (no pixel lost or added)."""
    inside = sky.region_mask(level)
    if sky.multiorder:
        depth = sky.levels()[inside]
        ipix = sky.uniq[inside] - 4 * 4**depth  # NUNIQ = 4 * 4**order + nested ipix
        max_depth = int(depth.max()) if depth.size else 0
    else:
        order = int(np.log2(sky.nside))
        ipix = np.flatnonzero(inside).astype(np.int64)
        if not sky.nested:
            ipix = np.asarray(ring_to_nested(ipix, sky.nside), np.int64)
        depth = np.full(ipix.shape, order, np.int64)
        max_depth = order
    return MOC.from_healpix_cells(ipix.astype(np.uint64), depth.astype(np.uint8), max_depth=max_depth)


def write_moc(sky: SkyMap, level: float, path: str | Path) -> Path:
    """Write the ``level`` credible region of ``sky`` as a MOC FITS file (IVOA MOC 2.0), atomically."""
    moc = credible_moc(sky, level)
    with atomic_path(path) as tmp:
        moc.save(str(tmp), format="fits", overwrite=True)
    log.info("wrote %s: %.0f%% credible region, %.1f deg2", path, 100 * level, moc.sky_fraction * 41252.96)
    return Path(path)
