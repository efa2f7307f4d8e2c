"""HEALPix sky maps of gravitational-wave events: read, write, look up, credible levels (generated maps:
:mod:`skysift.skymap.generate`).

A :class:`SkyMap` holds either a *flat* map (every pixel of one NSIDE, ``NESTED`` or ``RING``
ordering, a ``PROB`` column = probability per pixel) or a *multi-order* map (``UNIQ`` pixel ids
of mixed orders with a ``PROBDENSITY`` column in sr^-1), plus the optional BAYESTAR distance
ansatz columns ``DISTMU``/``DISTSIGMA`` (Mpc) and ``DISTNORM`` (Mpc^-2), and the event time from
``MJD-OBS`` or ``DATE-OBS``. Both are read with astropy.io.fits and located with astropy-healpix.

The c credible region is the set of highest-probability-*density* pixels whose summed
probability first reaches c (for flat maps density and probability order the pixels alike). The
credible level of a position (ligo.skymap's "searched probability") is the probability of all
pixels at least as dense as the pixel holding it: the smallest credible region containing it.
:meth:`SkyMap.credible_levels` sorts the map once (``O(n log n)``, vectorised; a flat NSIDE 2048 map
sorts its 50M probabilities without an index array) and answers any number of positions with a
binary search.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.time import Time
from astropy_healpix import (
    lonlat_to_healpix,
    nside_to_level,
    nside_to_pixel_area,
    uniq_to_level_ipix,
)

from skysift.io import InputError, atomic_path

__all__ = ["SkyMap", "read_skymap", "write_skymap"]

log = logging.getLogger(__name__)

DIST_COLUMNS = ("DISTMU", "DISTSIGMA", "DISTNORM")
MAX_LEVEL = 29  # HEALPix orders representable in int64 nested indices


@dataclass
class SkyMap:
    """A flat (``nside`` set) or multi-order (``uniq`` set) HEALPix probability sky map."""

    prob: np.ndarray  # probability per pixel (sums to 1)
    nside: int | None = None  # flat maps
    nested: bool = True  # flat maps: NESTED (True) or RING ordering
    uniq: np.ndarray | None = None  # multi-order maps: NUNIQ pixel ids
    distance: dict[str, np.ndarray] = field(default_factory=dict)
    event_mjd: float | None = None
    name: str = ""
    _sorted: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _lookup: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _levels: np.ndarray | None = field(default=None, repr=False)

    @property
    def multiorder(self) -> bool:
        """True for a multi-order (UNIQ) map."""
        return self.uniq is not None

    @property
    def npix(self) -> int:
        """Number of pixels (rows) of the map."""
        return len(self.prob)

    def pixel_area(self) -> np.ndarray | float:
        """Pixel area(s) in steradians (a scalar for flat maps)."""
        if not self.multiorder:
            return float(nside_to_pixel_area(self.nside).to_value(u.sr))
        return 4 * np.pi / (12 * 4.0 ** self.levels())

    def levels(self) -> np.ndarray:
        """HEALPix order of every pixel of a multi-order map (computed once)."""
        if self._levels is None:
            self._levels = np.asarray(uniq_to_level_ipix(self.uniq)[0], np.int64)
        return self._levels

    def density(self) -> np.ndarray:
        """Probability density per pixel in sr^-1."""
        return self.prob / self.pixel_area()

    def max_level(self) -> int:
        """The finest HEALPix order of the map."""
        if not self.multiorder:
            return int(nside_to_level(self.nside))
        return int(self.levels().max())

    # -- positions -> pixels ------------------------------------------------------------------
    def pixel_of(self, ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
        """Row index of the pixel holding each position (degrees, ICRS); -1 where a multi-order map has a hole."""
        ra = np.asarray(ra_deg, np.float64) % 360.0
        dec = np.asarray(dec_deg, np.float64)
        if np.any(np.abs(dec) > 90) or not np.all(np.isfinite(ra)):
            raise InputError("sky-map lookup: positions need finite ra and |dec| <= 90 degrees")
        lon, lat = ra * u.deg, dec * u.deg
        if not self.multiorder:
            return np.asarray(
                lonlat_to_healpix(lon, lat, self.nside, order="nested" if self.nested else "ring"), np.int64
            )
        starts, ends, rows = self._ranges()
        level = self.max_level()
        fine = np.asarray(lonlat_to_healpix(lon, lat, 2**level, order="nested"), np.int64)
        at = np.searchsorted(starts, fine, side="right") - 1
        ok = (at >= 0) & (fine < ends[np.clip(at, 0, None)])
        return np.where(ok, rows[np.clip(at, 0, None)], -1)

    def _ranges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Multi-order pixels as sorted, disjoint nested-index ranges at the finest order."""
        if self._lookup is None:
            level = self.levels()
            ipix = self.uniq - 4 * (np.int64(1) << (2 * level))  # NUNIQ = 4 * 4^level + ipix
            shift = 2 * (self.max_level() - level)
            starts = np.asarray(ipix, np.int64) << shift
            ends = (np.asarray(ipix, np.int64) + 1) << shift
            order = np.argsort(starts, kind="stable")
            starts, ends = starts[order], ends[order]
            if np.any(starts[1:] < ends[:-1]):
                raise InputError(f"sky map {self.name}: multi-order pixels overlap (UNIQ ids nest)")
            self._lookup = (starts, ends, order)
        return self._lookup

    # -- credible levels ------------------------------------------------------------------------
    def _sorted_levels(self) -> tuple[np.ndarray, np.ndarray]:
        """(sort keys ascending, cumulative probability of the densest pixels first), computed once.

        The key is the density of multi-order maps and the probability of flat maps (equal areas:
        the same order without a 50M-entry index array). ``cum[j]`` is the probability of the
        ``j + 1`` densest pixels, normalised to the map's total.
        """
        if self._sorted is None:
            if not self.multiorder:
                keys = np.sort(self.prob)
                cum = np.cumsum(keys[::-1])
            else:
                density = self.density()
                order = np.argsort(density, kind="stable")
                keys = density[order]
                cum = np.cumsum(self.prob[order][::-1])
            total = float(cum[-1]) if len(cum) else 0.0
            if not math.isclose(total, 1.0, rel_tol=1e-3):
                log.warning(
                    "sky map %s: probabilities sum to %.6f, not 1; levels use the sum", self.name, total
                )
            if total > 0:
                cum /= total
            self._sorted = (keys, cum)
        return self._sorted

    def levels_of_rows(self, rows: np.ndarray) -> np.ndarray:
        """The searched probability of map rows (probability of all pixels at least as dense); -1 rows give 1."""
        rows = np.asarray(rows, np.int64)
        keys, cum = self._sorted_levels()
        safe = np.clip(rows, 0, None)
        # the exact stored key (flat: prob, multi-order: density), so tied pixels stay tied
        key = self.prob[safe] if not self.multiorder else self.density()[safe]
        n_at_least = len(keys) - np.searchsorted(keys, key, side="left")
        levels = np.where(n_at_least > 0, cum[np.clip(n_at_least - 1, 0, None)], 0.0)
        return np.where(rows >= 0, levels, 1.0)

    def credible_levels(self, ra_deg: np.ndarray, dec_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probability density in sr^-1, credible level) at each position; a hole gives (0, 1)."""
        rows = self.pixel_of(ra_deg, dec_deg)
        area = self.pixel_area()
        area_rows = area[np.clip(rows, 0, None)] if self.multiorder else area
        density = np.where(rows >= 0, self.prob[np.clip(rows, 0, None)] / area_rows, 0.0)
        return density, self.levels_of_rows(rows)

    def region_mask(self, level: float) -> np.ndarray:
        """Boolean mask of the pixels of the ``level`` credible region (the densest pixels reaching ``level``)."""
        if not 0 < level <= 1:
            raise InputError(f"credible level must be in (0, 1], got {level}")
        keys, cum = self._sorted_levels()
        k = min(int(np.searchsorted(cum, level, side="left")), len(keys) - 1)  # k + 1 densest pixels
        return (self.prob if not self.multiorder else self.density()) >= keys[len(keys) - 1 - k]

    def region_area_deg2(self, level: float) -> float:
        """Area of the ``level`` credible region in square degrees."""
        inside = self.region_mask(level)
        area = self.pixel_area()
        sr = float(np.sum(area[inside])) if self.multiorder else float(inside.sum()) * area
        return sr * (180 / np.pi) ** 2

    def distance_at(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The distance-ansatz columns at the given rows (NaN for holes), if the map has them."""
        rows = np.asarray(rows)
        return {
            name: np.where(rows >= 0, values[np.clip(rows, 0, None)], np.nan)
            for name, values in self.distance.items()
        }


# -- reading and writing -------------------------------------------------------------------------
def _event_mjd(header: fits.Header, path: Path) -> float | None:
    """The event time from MJD-OBS, else DATE-OBS (ISO, UTC); None if neither is there."""
    if header.get("MJD-OBS") not in (None, ""):
        return float(header["MJD-OBS"])
    if header.get("DATE-OBS"):
        try:
            return float(Time(str(header["DATE-OBS"]), format="isot", scale="utc").mjd)
        except ValueError as exc:
            raise InputError(f"{path}: DATE-OBS {header['DATE-OBS']!r} is not an ISO time") from exc
    return None


def _column(data: fits.FITS_rec, name: str) -> np.ndarray:
    """A table column as a flat float64/int64 array (old HEALPix files store 1024 pixels per row)."""
    return np.asarray(data[name]).ravel()


def read_skymap(path: str | Path, name: str | None = None) -> SkyMap:
    """Read a flat (PROB, NESTED/RING) or multi-order (UNIQ, PROBDENSITY) HEALPix FITS sky map."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"sky map {path} does not exist (skymap.maps)")
    with fits.open(path, memmap=True) as hdul:
        hdu = next((h for h in hdul[1:] if isinstance(h, fits.BinTableHDU)), None)
        if hdu is None:
            raise InputError(f"{path}: no binary table HDU; expected a HEALPix sky map")
        header = hdu.header
        cols = [c.upper() for c in hdu.columns.names]
        data = hdu.data
        event = _event_mjd(header, path)
        if event is None:
            event = _event_mjd(hdul[0].header, path)
        dist = {c: _column(data, c).astype(np.float64) for c in DIST_COLUMNS if c in cols}
        sky = SkyMap(prob=np.empty(0), distance=dist, event_mjd=event, name=name or path.stem)
        if "UNIQ" in cols:
            if "PROBDENSITY" not in cols:
                raise InputError(f"{path}: multi-order map without a PROBDENSITY column (columns {cols})")
            sky.uniq = _column(data, "UNIQ").astype(np.int64)
            density = _column(data, "PROBDENSITY").astype(np.float64)
            sky.prob = density * sky.pixel_area()
        elif "PROB" in cols or len(cols) >= 1:
            if header.get("INDXSCHM", "IMPLICIT").upper() == "EXPLICIT":
                raise InputError(
                    f"{path}: partial (INDXSCHM=EXPLICIT) maps are not supported; give a full map"
                )
            column = "PROB" if "PROB" in cols else hdu.columns.names[0]
            prob = _column(data, column).astype(np.float64)
            ordering = str(header.get("ORDERING", "")).upper()
            if ordering not in ("NESTED", "RING"):
                raise InputError(
                    f"{path}: ORDERING = {ordering!r}; expected NESTED or RING (or a UNIQ column)"
                )
            npix = len(prob)
            nside = int(round(math.sqrt(npix / 12)))
            if 12 * nside * nside != npix or nside & (nside - 1):
                raise InputError(
                    f"{path}: {npix} pixels is not a full HEALPix map (12 NSIDE^2, NSIDE a power of 2)"
                )
            if header.get("NSIDE") not in (None, nside):
                raise InputError(f"{path}: NSIDE header {header['NSIDE']} disagrees with {npix} pixels")
            sky.prob, sky.nside, sky.nested = prob, nside, ordering == "NESTED"
    if not np.all(np.isfinite(sky.prob)) or np.any(sky.prob < 0):
        raise InputError(f"{path}: probabilities must be finite and >= 0")
    log.info(
        "%s: %s map, %d pixels, max order %d, event MJD %s, distance %s",
        path,
        "multi-order" if sky.multiorder else f"flat NSIDE {sky.nside} {'NESTED' if sky.nested else 'RING'}",
        sky.npix,
        sky.max_level(),
        sky.event_mjd,
        "yes" if sky.distance else "no",
    )
    return sky


def write_skymap(sky: SkyMap, path: str | Path) -> Path:
    """Write a sky map as BAYESTAR-like FITS (flat: PROB [pix-1]; multi-order: UNIQ, PROBDENSITY [sr-1])."""
    if sky.multiorder:
        cols = [
            fits.Column("UNIQ", "K", array=sky.uniq),
            fits.Column("PROBDENSITY", "D", unit="sr-1", array=sky.density()),
        ]
    else:
        cols = [fits.Column("PROB", "D", unit="pix-1", array=sky.prob)]
    units = {"DISTMU": "Mpc", "DISTSIGMA": "Mpc", "DISTNORM": "Mpc-2"}
    cols += [fits.Column(k, "D", unit=units[k], array=v) for k, v in sky.distance.items()]
    hdu = fits.BinTableHDU.from_columns(cols)
    hdu.header["PIXTYPE"] = "HEALPIX"
    if sky.multiorder:
        hdu.header["ORDERING"] = "NUNIQ"
        hdu.header["MOCORDER"] = sky.max_level()
    else:
        hdu.header["ORDERING"] = "NESTED" if sky.nested else "RING"
        hdu.header["NSIDE"] = sky.nside
        hdu.header["INDXSCHM"] = "IMPLICIT"
    hdu.header["COORDSYS"] = "C"
    if sky.event_mjd is not None:
        hdu.header["MJD-OBS"] = sky.event_mjd
        hdu.header["DATE-OBS"] = Time(sky.event_mjd, format="mjd", scale="utc").isot
    hdu.header["OBJECT"] = sky.name or "skysift-demo"
    with atomic_path(path) as tmp:
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp, overwrite=True)
    return Path(path)
