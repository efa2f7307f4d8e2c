"""Generated HEALPix sky maps (tests, benchmarks, ``skysift skymap-demo``): flat or multi-order, from a density."""

from __future__ import annotations

import math

import astropy.units as u
import numpy as np
from astropy_healpix import level_ipix_to_uniq, uniq_to_level_ipix

from skysift.io import InputError
from skysift.skymap.maps import MAX_LEVEL, SkyMap

__all__ = ["gaussian_density", "make_flat_map", "make_multiorder_map", "ring_density"]


def _angular_distance(ra_deg, dec_deg, ra0: float, dec0: float) -> np.ndarray:
    """Great-circle distance in radians (haversine; stable for small and RA-wrapped separations)."""
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    ra0, dec0 = math.radians(ra0), math.radians(dec0)
    h = np.sin((dec - dec0) / 2) ** 2 + np.cos(dec) * math.cos(dec0) * np.sin((ra - ra0) / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def gaussian_density(ra0: float, dec0: float, sigma_deg: float):
    """Unnormalised density exp(-theta^2 / 2 sigma^2) around (ra0, dec0), as f(ra_deg, dec_deg)."""
    sigma = math.radians(sigma_deg)
    return lambda ra, dec: np.exp(-0.5 * (_angular_distance(ra, dec, ra0, dec0) / sigma) ** 2)


def ring_density(ra0: float, dec0: float, radius_deg: float, width_deg: float):
    """Unnormalised density of a ring of the given radius and Gaussian width around (ra0, dec0)."""
    radius, width = math.radians(radius_deg), math.radians(width_deg)
    return lambda ra, dec: np.exp(-0.5 * ((_angular_distance(ra, dec, ra0, dec0) - radius) / width) ** 2)


def _centres(level: int, ipix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nested pixel centres (degrees)."""
    from astropy_healpix import healpix_to_lonlat

    lon, lat = healpix_to_lonlat(ipix, 2**level, order="nested")
    return lon.to_value(u.deg), lat.to_value(u.deg)


def make_flat_map(
    density_fn,
    nside: int,
    *,
    nested: bool = True,
    event_mjd: float | None = None,
    name: str = "demo",
    distance_mpc: tuple[float, float] | None = None,
) -> SkyMap:
    """A flat map with PROB ∝ density at pixel centres (normalised), optionally a constant distance ansatz."""
    from astropy_healpix import healpix_to_lonlat

    ipix = np.arange(12 * nside * nside, dtype=np.int64)
    lon, lat = healpix_to_lonlat(ipix, nside, order="nested" if nested else "ring")
    prob = density_fn(lon.to_value(u.deg), lat.to_value(u.deg))
    prob = prob / prob.sum()
    sky = SkyMap(prob=prob, nside=nside, nested=nested, event_mjd=event_mjd, name=name)
    if distance_mpc is not None:
        sky.distance = _constant_distance(len(prob), *distance_mpc)
    return sky


def make_multiorder_map(
    density_fn,
    max_level: int,
    *,
    min_level: int = 3,
    refine_level: float = 0.999,
    event_mjd: float | None = None,
    name: str = "demo",
    distance_mpc: tuple[float, float] | None = None,
) -> SkyMap:
    """A multi-order map: start at ``min_level``, split the pixels of the ``refine_level`` credible
    region (by density at pixel centres) into four, down to ``max_level`` (BAYESTAR-like refinement)."""
    if not 0 <= min_level <= max_level <= MAX_LEVEL:
        raise InputError(f"multi-order levels need 0 <= min_level <= max_level <= {MAX_LEVEL}")
    kept_uniq: list[np.ndarray] = []
    kept_density: list[np.ndarray] = []
    level = min_level
    ipix = np.arange(12 * 4**level, dtype=np.int64)
    while True:
        density = density_fn(*_centres(level, ipix))
        if level == max_level:
            kept_uniq.append(level_ipix_to_uniq(level, ipix))
            kept_density.append(density)
            break
        area = 4 * np.pi / (12 * 4.0**level)
        order = np.argsort(-density, kind="stable")
        cum = np.cumsum(density[order]) * area
        n_refine = int(np.searchsorted(cum, refine_level * cum[-1], side="left")) + 1
        refine = np.zeros(len(ipix), bool)
        refine[order[:n_refine]] = True
        kept_uniq.append(level_ipix_to_uniq(level, ipix[~refine]))
        kept_density.append(density[~refine])
        ipix = (ipix[refine][:, None] * 4 + np.arange(4)).ravel()
        level += 1
    uniq = np.concatenate(kept_uniq).astype(np.int64)
    density = np.concatenate(kept_density)
    lv, _ = uniq_to_level_ipix(uniq)
    prob = density * 4 * np.pi / (12 * 4.0 ** np.asarray(lv))
    prob = prob / prob.sum()
    sky = SkyMap(prob=prob, uniq=uniq, event_mjd=event_mjd, name=name)
    if distance_mpc is not None:
        sky.distance = _constant_distance(len(prob), *distance_mpc)
    return sky


def _constant_distance(n: int, mu: float, sigma: float) -> dict[str, np.ndarray]:
    """A position-independent distance ansatz (DISTNORM from the Gaussian's r^2 moment)."""
    norm = 1.0 / (mu**2 + sigma**2)
    return {
        "DISTMU": np.full(n, float(mu)),
        "DISTSIGMA": np.full(n, float(sigma)),
        "DISTNORM": np.full(n, norm),
    }
