"""Sky geometry shared by every stage: unit vectors, separations, and g/r/i source association.

Positions become unit vectors (x, y, z); a cone of angle theta is a ball of chord radius
``2 sin(theta / 2)`` around the vector, so a KD-tree finds neighbours with no special case for RA
wrap-around at 0/360 deg or the poles, and separations use the stable ``atan2(|a x b|, a . b)``.

ZTF DR object ids are per filter and field, so one star has up to three objectids. Objects of
the same field closer than ``radius_arcsec`` and in *different* filters are linked, and the
connected groups become sources. A source's id is the smallest objectid in it (stable across
runs and unique), its position the mean of its members' unit vectors. Cross-matching, colours,
transient fits and per-source scores work per source.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from skysift.io import InputError

__all__ = [
    "ARCSEC",
    "radec_to_xyz",
    "chord_radius",
    "separation_xyz_arcsec",
    "angular_separation_arcsec",
    "associate_sources",
    "source_positions",
]

log = logging.getLogger(__name__)

#: One arcsecond in radians.
ARCSEC = np.pi / (180.0 * 3600.0)


def radec_to_xyz(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Unit vectors (n, 3) of positions in degrees; the representation the KD-tree needs."""
    ra = np.radians(np.asarray(ra_deg, dtype=np.float64))
    dec = np.radians(np.asarray(dec_deg, dtype=np.float64))
    cos_dec = np.cos(dec)
    return np.column_stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)])


def chord_radius(radius_arcsec: float) -> float:
    """Chord length of an angular radius: 2 sin(theta / 2), monotonic in theta up to 180 deg."""
    return 2.0 * np.sin(min(float(radius_arcsec) * ARCSEC, np.pi) / 2.0)


def separation_xyz_arcsec(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between unit vectors row by row, atan2(|a x b|, a . b): accurate at 0 and 180 deg."""
    cross = np.cross(a, b)
    return np.arctan2(np.sqrt(np.einsum("ij,ij->i", cross, cross)), np.einsum("ij,ij->i", a, b)) / ARCSEC


def angular_separation_arcsec(
    ra1: np.ndarray, dec1: np.ndarray, ra2: np.ndarray, dec2: np.ndarray
) -> np.ndarray:
    """Angular separation in arcsec of two position arrays (degrees), with the stable formula."""
    return separation_xyz_arcsec(radec_to_xyz(ra1, dec1), radec_to_xyz(ra2, dec2))


_FIELD_DIV = 10**12
_FILTER_DIV = 10**11


def _field_and_filter(objects: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Field and filter ids from the columns, else decoded from the DR objectid layout."""
    oid = objects["objectid"].to_numpy(np.int64)
    field = objects["fieldid"].to_numpy(np.int64) if "fieldid" in objects else oid // _FIELD_DIV
    filt = objects["filterid"].to_numpy(np.int64) if "filterid" in objects else (oid // _FILTER_DIV) % 10
    return field, filt


def associate_sources(objects_df: pd.DataFrame, radius_arcsec: float = 1.0) -> pd.DataFrame:
    """Add ``source_id`` to objects (objectid, ra, dec[, fieldid, filterid]) by same-field proximity.

    Returns a copy with the column ``source_id`` (int64, the smallest objectid of the source).
    Objects of the same filter are never linked directly (two g objects 0.8" apart are two
    sources); a chain g1-r-g2 still joins all three, which is the safe choice for labels.
    """
    missing = [c for c in ("objectid", "ra", "dec") if c not in objects_df.columns]
    if missing:
        raise InputError(f"associate_sources: objects table lacks column(s) {missing}")
    out = objects_df.copy()
    n = len(out)
    oid = out["objectid"].to_numpy(np.int64)
    if n == 0:
        out["source_id"] = np.empty(0, np.int64)
        return out
    field, filt = _field_and_filter(out)
    xyz = radec_to_xyz(out["ra"].to_numpy(), out["dec"].to_numpy())
    chord = chord_radius(radius_arcsec)
    rows_i, rows_j = [], []
    for f in np.unique(field):
        rows = np.flatnonzero(field == f)
        if rows.size < 2:
            continue
        pairs = cKDTree(xyz[rows]).query_pairs(chord, output_type="ndarray")
        if len(pairs) == 0:
            continue
        i, j = rows[pairs[:, 0]], rows[pairs[:, 1]]
        cross_band = filt[i] != filt[j]
        rows_i.append(i[cross_band])
        rows_j.append(j[cross_band])
    i = np.concatenate(rows_i) if rows_i else np.empty(0, np.int64)
    j = np.concatenate(rows_j) if rows_j else np.empty(0, np.int64)
    graph = coo_matrix((np.ones(i.size, dtype=np.int8), (i, j)), shape=(n, n))
    n_comp, comp = connected_components(graph, directed=False)
    smallest = np.full(n_comp, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, comp, oid)
    out["source_id"] = smallest[comp]
    sizes = np.bincount(comp)
    log.info(
        "associated %d objects into %d sources within %.2f arcsec (%d multi-band, %d with > 3 members)",
        n,
        n_comp,
        radius_arcsec,
        int((sizes > 1).sum()),
        int((sizes > 3).sum()),
    )
    return out


def source_positions(objects_df: pd.DataFrame) -> pd.DataFrame:
    """One row per source_id with the mean position (ra, dec in degrees) of its objects."""
    xyz = radec_to_xyz(objects_df["ra"].to_numpy(), objects_df["dec"].to_numpy())
    codes, uniques = pd.factorize(objects_df["source_id"].to_numpy(np.int64), sort=True)
    sums = np.zeros((len(uniques), 3))
    np.add.at(sums, codes, xyz)
    sums /= np.linalg.norm(sums, axis=1, keepdims=True)
    ra = np.degrees(np.arctan2(sums[:, 1], sums[:, 0])) % 360.0
    dec = np.degrees(np.arcsin(np.clip(sums[:, 2], -1.0, 1.0)))
    return pd.DataFrame({"source_id": np.asarray(uniques, np.int64), "ra": ra, "dec": dec})
