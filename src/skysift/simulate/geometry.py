"""Sky geometry of the demo survey: the field grid, CCD quadrant centres and DR object ids."""

from __future__ import annotations

import logging

import numpy as np

from skysift.io import InputError

__all__ = ["QUAD_HALF", "field_centre", "quadrant_centre", "make_objectid"]

log = logging.getLogger(__name__)

_ROW_STEP = 7.2  # deg between field rows
_CELL = 7.5  # deg, target field width along RA
_CCD_PITCH = 1.78  # deg between CCD centres
QUAD_HALF = 0.43  # deg, half-size of a quadrant's source patch

# --------------------------------------------------------------------------------------------------
# sky geometry


def _grid_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Declinations, field counts and first 0-based index of each row of the field grid."""
    decs = -86.4 + _ROW_STEP * np.arange(25)
    counts = np.maximum(1, np.ceil(360.0 * np.cos(np.radians(decs)) / _CELL)).astype(int)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return decs, counts, first


def field_centre(fieldid: int) -> tuple[float, float]:
    """Deterministic (RA, Dec) in degrees of a field: row k at Dec -86.4 + 7.2 k, fields numbered from RA 0.

    Field ids 1..N fill the primary grid row by row (N ~ 770 fields; larger ids wrap around); ids >= 1000
    form the secondary grid, the same rows shifted by half a field in RA and Dec, as in ZTF's two grids.
    """
    if fieldid < 1:
        raise InputError(f"field id {fieldid}: ZTF field ids start at 1")
    decs, counts, first = _grid_rows()
    secondary = fieldid >= 1000
    k = (fieldid - (1000 if secondary else 1)) % int(counts.sum())
    row = int(np.searchsorted(first, k, side="right") - 1)
    ra = ((k - first[row] + 0.5 + 0.5 * secondary) * 360.0 / counts[row]) % 360.0
    dec = decs[row] + (0.5 * _ROW_STEP if secondary else 0.0)
    return float(ra), float(min(dec, 88.0))


def quadrant_centre(fieldid: int, ccdid: int, qid: int) -> tuple[float, float]:
    """(RA, Dec) of a CCD quadrant's centre: CCDs on a 4x4 grid, quadrants 1-4 = NE, NW, SW, SE of the CCD."""
    ra0, dec0 = field_centre(fieldid)
    col, row = (ccdid - 1) % 4, (ccdid - 1) // 4
    x = (1.5 - col) * _CCD_PITCH + (0.5 if qid in (1, 4) else -0.5) * 2 * (QUAD_HALF + 0.005)
    y = (row - 1.5) * _CCD_PITCH + (0.5 if qid in (1, 2) else -0.5) * 2 * (QUAD_HALF + 0.005)
    dec = dec0 + y
    return float((ra0 + x / np.cos(np.radians(dec))) % 360.0), float(dec)


def make_objectid(fieldid: int, filterid: int, ccdid: int, qid: int, counter: np.ndarray) -> np.ndarray:
    """ZTF DR object ids: field*1e12 + filter*1e11 + ccdid*1e9 + qid*1e8 + counter (8 digits)."""
    counter = np.asarray(counter, dtype=np.int64)
    if counter.size and (counter.min() < 0 or counter.max() >= 10**8):
        raise ValueError("objectid counters must fit in 8 digits")
    return (
        np.int64(fieldid) * 10**12
        + np.int64(filterid) * 10**11
        + np.int64(ccdid) * 10**9
        + np.int64(qid) * 10**8
        + counter
    )
