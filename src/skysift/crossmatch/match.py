"""Positional matching on the sphere at scale: unit vectors in a KD-tree, exact separations.

Positions become unit vectors (x, y, z); a cone of angle theta is a ball of chord radius
``2 sin(theta / 2)`` around the vector, so ``scipy.spatial.cKDTree`` finds neighbours with no
special case for RA wrap-around at 0/360 deg or the poles. The tree only proposes candidates
(with a tiny padding of the chord radius); every reported separation is recomputed with the
stable ``atan2(|a x b|, a . b)`` formula and cut at the radius exactly.

Per-batch jobs never index a whole catalog: :func:`precut_catalog` keeps only the catalog rows
inside a padded cap around the batch's objects (a ZTF field is ~7 deg across, so a 2M-row
all-sky catalog shrinks ~1000x before the tree is built). It costs one dot product per row.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree

from skysift.sky import ARCSEC, chord_radius, separation_xyz_arcsec

__all__ = [
    "Matches",
    "precut_catalog",
    "match_sky",
    "nearest_only",
]

log = logging.getLogger(__name__)

#: Relative + absolute padding of the tree's search radius; the exact cut happens afterwards.
_PAD_REL = 1e-9
_PAD_ABS = 1e-14


class Matches(NamedTuple):
    """Index pairs (object row, catalog row) with their separation in arcsec."""

    obj: np.ndarray
    cat: np.ndarray
    sep_arcsec: np.ndarray


def precut_catalog(obj_xyz: np.ndarray, cat_xyz: np.ndarray, radius_arcsec: float) -> np.ndarray:
    """Mask of catalog rows inside the bounding cap of the objects, padded by the match radius.

    The cap's centre is the normalised mean object vector, its radius the largest object angle
    from it plus ``radius_arcsec`` (and a 1 arcsec safety margin). When the objects cover more
    than a hemisphere the cut keeps everything.
    """
    if len(obj_xyz) == 0:
        return np.zeros(len(cat_xyz), dtype=bool)
    centre = obj_xyz.sum(axis=0)
    norm = np.linalg.norm(centre)
    if norm < 1e-9 * len(obj_xyz):
        return np.ones(len(cat_xyz), dtype=bool)
    centre /= norm
    cos_obj = np.clip(obj_xyz @ centre, -1.0, 1.0)
    cap = np.arccos(cos_obj.min()) + (radius_arcsec + 1.0) * ARCSEC
    if cap >= np.pi / 2:
        return np.ones(len(cat_xyz), dtype=bool)
    return cat_xyz @ centre >= np.cos(cap)


def match_sky(
    obj_xyz: np.ndarray,
    cat_xyz: np.ndarray,
    radius_arcsec: float,
    *,
    workers: int = 1,
    k: int = 4,
) -> Matches:
    """Every (object, catalog) pair within ``radius_arcsec``, sorted by object then separation.

    One vectorised k-nearest query (``k`` neighbours, bounded by the radius) covers almost every
    object; the few objects whose ``k``-th neighbour is still inside the radius are re-queried
    with a ball search, so the result is complete. The first pair of each object is its nearest.
    """
    empty = Matches(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if len(obj_xyz) == 0 or len(cat_xyz) == 0:
        return empty
    if not 0 < radius_arcsec <= 180 * 3600:
        raise ValueError(f"radius_arcsec must be in (0, 648000], got {radius_arcsec}")
    chord = chord_radius(radius_arcsec)
    bound = chord * (1 + _PAD_REL) + _PAD_ABS
    tree = cKDTree(cat_xyz, balanced_tree=False, compact_nodes=False)
    k = max(1, min(k, len(cat_xyz)))
    dist, idx = tree.query(obj_xyz, k=k, distance_upper_bound=bound, workers=workers)
    dist = dist.reshape(len(obj_xyz), k)
    idx = idx.reshape(len(obj_xyz), k)
    found = np.isfinite(dist)
    overflow = found[:, -1] if k < len(cat_xyz) else np.zeros(len(obj_xyz), dtype=bool)
    keep = found & ~overflow[:, None]
    obj = np.broadcast_to(np.arange(len(obj_xyz))[:, None], idx.shape)[keep]
    cat = idx[keep]
    if overflow.any():
        rows = np.flatnonzero(overflow)
        log.debug("%d objects have >= %d neighbours within the radius: ball search", rows.size, k)
        balls = tree.query_ball_point(obj_xyz[rows], r=bound, workers=workers)
        counts = np.fromiter((len(b) for b in balls), dtype=np.int64, count=len(balls))
        obj = np.concatenate([obj, np.repeat(rows, counts)])
        cat = np.concatenate([cat, np.fromiter((j for b in balls for j in b), np.int64, counts.sum())])
    obj = obj.astype(np.int64)
    cat = cat.astype(np.int64)
    sep = separation_xyz_arcsec(obj_xyz[obj], cat_xyz[cat])
    inside = sep <= radius_arcsec
    obj, cat, sep = obj[inside], cat[inside], sep[inside]
    order = np.lexsort((cat, sep, obj))
    return Matches(obj[order], cat[order], sep[order])


def nearest_only(matches: Matches) -> Matches:
    """The first (nearest) pair of each object of a sorted :class:`Matches`."""
    if len(matches.obj) == 0:
        return matches
    first = np.r_[True, matches.obj[1:] != matches.obj[:-1]]
    return Matches(matches.obj[first], matches.cat[first], matches.sep_arcsec[first])
