"""Cadence and photometry of the demo survey: nights, seasons, weather, limiting magnitudes, noise."""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
from scipy.signal import lfilter
from scipy.special import ndtri

from skysift.io import InputError
from skysift.simulate.geometry import field_centre
from skysift.simulate.variants import ALL_CLASSES, Variant

__all__ = [
    "BANDS",
    "Cadence",
    "weather",
    "field_cadence",
    "uneven_field_cadence",
    "downtime",
    "class_counts",
    "resolve_fractions",
    "observe",
    "list_array",
    "add_duplicates",
]

log = logging.getLogger(__name__)

_PALOMAR_MIDNIGHT = 0.3246  # UTC day fraction of local solar midnight at longitude -116.86
_SIGMA_SKY = 0.2  # sky noise in units of the 5-sigma limiting flux
_GAIN = 300.0  # source Poisson term: var = f / _GAIN in limit units
_FLOOR = 0.0105  # relative flux error floor (~0.0114 mag)
_LIMIT_OFFSET = np.array([0.25, 0.15, -0.35])  # dark-sky limit per band relative to limiting_mag
_MOON_COST = np.array([0.7, 0.4, 0.2])  # mag lost at full moon per band
_CLRCOEFF = np.array([-0.05, 0.09, -0.02])  # mean colour coefficient per band
BANDS = (1, 2, 3)

# --------------------------------------------------------------------------------------------------
# cadence


class Cadence:
    """A field's exposures: times, bands (0 g, 1 r, 2 i), nights, limiting mags, colour coefficients."""

    def __init__(self, t: np.ndarray, band: np.ndarray, lim: np.ndarray, clr: np.ndarray, cloudy: np.ndarray):
        """Store the exposures sorted by time."""
        order = np.argsort(t, kind="stable")
        self.t, self.band, self.lim = t[order], band[order], lim[order]
        self.clr, self.cloudy = clr[order], cloudy[order]


def _antisolar_ra(mjd: np.ndarray) -> np.ndarray:
    """Approximate RA (deg) of the anti-solar point on a date (mean solar longitude, obliquity 23.44)."""
    lam = np.radians(280.460 + 0.9856474 * (mjd - 51544.5))
    ra_sun = np.degrees(np.arctan2(np.cos(np.radians(23.44)) * np.sin(lam), np.cos(lam)))
    return (ra_sun + 180.0) % 360.0


def _moon_illumination(mjd: np.ndarray) -> np.ndarray:
    """Fraction of the Moon illuminated (mean synodic month from the new moon of MJD 51550.26)."""
    phase = np.mod((mjd - 51550.26) / 29.530589, 1.0)
    return 0.5 * (1 - np.cos(2 * np.pi * phase))


def weather(rng: np.random.Generator, nights: np.ndarray, loss: float) -> np.ndarray:
    """Clear-night mask of a site: AR(1) cloudiness (spells of ~3-4 nights), worse in winter."""
    rho = 0.7
    z = lfilter([np.sqrt(1 - rho**2)], [1, -rho], rng.standard_normal(nights.size))
    doy = np.mod(nights - 51544.5, 365.25)
    p_lost = np.clip(loss * (1 + 0.5 * np.cos(2 * np.pi * (doy - 15) / 365.25)), 0.0, 0.95)
    return z < ndtri(1 - p_lost)


class _Season(NamedTuple):
    """A field's hour angle at midnight (deg), its season taper (0-1) and the clear nights in season."""

    delta: np.ndarray
    taper: np.ndarray
    ok: np.ndarray


def _season(fieldid: int, nights: np.ndarray, clear: np.ndarray) -> _Season:
    """The season of a field over ``nights``, ``clear`` the nights the weather allows."""
    ra, dec = field_centre(fieldid)
    delta = np.mod(ra - _antisolar_ra(nights + _PALOMAR_MIDNIGHT) + 180.0, 360.0) - 180.0
    half = min(122.0 + 0.3 * max(dec - 20.0, 0.0), 160.0)
    taper = np.clip((half - np.abs(delta)) / 15.0, 0.0, 1.0)
    return _Season(delta, taper, clear & (taper > 0))


def _regular_visits(
    rng: np.random.Generator, fieldid: int, nights: np.ndarray, season: _Season, p: float
) -> tuple[np.ndarray, ...]:
    """A visit on ~every 2-3rd clear night, in g (90 %) and r (94 %, and wherever g is missing).

    Returns, per night (a slot for a visit): its night, its centre time, the i-band centre, and whether
    the slot has a g and an r exposure. ``fieldid`` is not used: both planners take the same arguments.
    """
    delta, taper, ok = season
    p_field = p * rng.uniform(0.85, 1.15)
    visit = ok & (rng.random(nights.size) < p_field * np.maximum(taper, 0.3))
    centre = (
        nights + _PALOMAR_MIDNIGHT + np.clip(delta / 360.0, -0.16, 0.16) + rng.normal(0, 0.02, nights.size)
    )
    has_g = visit & (rng.random(nights.size) < 0.9)
    has_r = visit & ((rng.random(nights.size) < 0.94) | ~has_g)
    return np.arange(nights.size), centre, centre, has_g, has_r


def _uneven_visits(
    rng: np.random.Generator, fieldid: int, nights: np.ndarray, season: _Season, p: float
) -> tuple[np.ndarray, ...]:
    """ZTF's uneven visits (see :func:`uneven_field_cadence`): as :func:`_regular_visits`, a slot per visit."""
    delta, taper, ok = season
    n = nights.size
    phase2 = np.arange(n) >= int(0.4 * n)
    p_night = p * np.where(phase2, 1.1, 0.7) * rng.uniform(0.7, 1.3) * (0.45 if fieldid >= 1000 else 1.0)
    n_vis = (ok & (rng.random(n) < np.clip(p_night, 0, 1) * np.maximum(taper, 0.3))).astype(int)
    if rng.random() < 0.4:
        start, length = int(rng.integers(0, n)), int(rng.integers(20, 91))
        campaign = ok & (np.arange(n) >= start) & (np.arange(n) < start + length)
        n_vis = np.where(campaign, rng.integers(2, 7, n), n_vis)
    night_idx = np.repeat(np.arange(n), n_vis)
    first = np.repeat(np.cumsum(n_vis) - n_vis, n_vis)
    k = np.arange(night_idx.size) - first
    offset = (k - (n_vis[night_idx] - 1) / 2) * 0.04  # visits ~1 h apart
    centre = (
        nights[night_idx]
        + _PALOMAR_MIDNIGHT
        + np.clip(delta[night_idx] / 360.0, -0.16, 0.16)
        + rng.normal(0, 0.02, night_idx.size)
        + offset
    )
    u = rng.random(night_idx.size)
    i_centre = nights + _PALOMAR_MIDNIGHT + np.clip(delta / 360.0, -0.16, 0.16)
    return night_idx, centre, i_centre, u < 0.75, (u < 0.6) | (u >= 0.75)


def field_cadence(
    rng: np.random.Generator,
    fieldid: int,
    nights: np.ndarray,
    clear: np.ndarray,
    i_window: tuple[float, float],
    visit_prob: float,
    limiting_mag: float,
    limmag_scatter: float,
    *,
    uneven: bool = False,
) -> Cadence:
    """Exposures of one field: season window, weather, g+r visits every ~2-3 nights, sparse i.

    ``uneven``: ZTF's uneven cadence instead (:func:`uneven_field_cadence`).
    """
    season = _season(fieldid, nights, clear)
    visits = _uneven_visits if uneven else _regular_visits
    night_idx, centre, i_centre, has_g, has_r = visits(rng, fieldid, nights, season, visit_prob)
    taper, ok = season.taper, season.ok
    t_g = centre - 0.012 + rng.normal(0, 0.002, centre.size)
    t_r = centre + 0.012 + rng.uniform(0, 0.012, centre.size)
    in_i = (nights >= i_window[0]) & (nights < i_window[1])
    has_i = ok & in_i & (rng.random(nights.size) < 0.25)
    t_i = i_centre + 0.035 + rng.uniform(0, 0.01, nights.size)
    t = np.concatenate([t_g[has_g], t_r[has_r], t_i[has_i]])
    band = np.concatenate([np.zeros(has_g.sum(), int), np.ones(has_r.sum(), int), np.full(has_i.sum(), 2)])
    exp_night = np.concatenate([night_idx[has_g], night_idx[has_r], np.flatnonzero(has_i)])
    night_term = rng.normal(0, 0.6 * limmag_scatter, nights.size)[exp_night]
    cloudy = rng.random(t.size) < 0.01
    lim = (
        limiting_mag
        + _LIMIT_OFFSET[band]
        - _MOON_COST[band] * _moon_illumination(t)
        - (0.4 if uneven else 0.0) * (1.0 - taper[exp_night])
        + night_term
        + rng.normal(0, 0.8 * limmag_scatter, t.size)
        - np.where(cloudy, rng.uniform(1.0, 2.5, t.size), 0.0)
    )
    clr = _CLRCOEFF[band] + rng.normal(0, 0.03, t.size)
    return Cadence(t, band, lim, clr, cloudy)


def downtime(rng: np.random.Generator, nights: np.ndarray) -> np.ndarray:
    """Site-wide technical downtime (hard variant): 1-3 blocks of 5-25 nights lost, as a mask of nights."""
    lost = np.zeros(nights.size, dtype=bool)
    for _ in range(int(rng.integers(1, 4))):
        start = int(rng.integers(0, max(nights.size - 5, 1)))
        lost[start : start + int(rng.integers(5, 26))] = True
    return lost


def uneven_field_cadence(*args: Any) -> Cadence:
    """Exposures of one field in the hard variant: ZTF's uneven cadence rather than a regular one.

    The arguments are :func:`field_cadence`'s. Seasons, weather and the sparse i band as there, plus: a
    ~3-night cadence in the first 40 % of the survey and a ~2-night one after (ZTF's public survey before
    and after Dec 2020), a per-field cadence factor 0.7-1.3, secondary-grid fields (id >= 1000) visited
    0.45x as often, a high-cadence campaign (2-6 visits per clear night for 20-90 nights) in 40 % of the
    fields, visits in g and r (60 %), r only (25 %) or g only (15 %), and limiting magnitudes up to 0.4 mag
    shallower at the season edges (high airmass).
    """
    return field_cadence(*args, uneven=True)


# --------------------------------------------------------------------------------------------------
# sources


def class_counts(n: int, fractions: dict[str, float]) -> dict[str, int]:
    """Integer counts per class by largest remainders; every class with a positive fraction gets >= 1.

    Classes are taken in :data:`~skysift.simulate.variants.ALL_CLASSES` order (absent ones have 0).
    """
    frac = np.array([fractions.get(c, 0.0) for c in ALL_CLASSES])
    raw = frac * n
    counts = np.floor(raw).astype(int)
    rest = n - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:rest]] += 1
    for k in np.flatnonzero((frac > 0) & (counts == 0)):
        big = int(np.argmax(counts))
        if counts[big] > 1:
            counts[big] -= 1
            counts[k] += 1
    return dict(zip(ALL_CLASSES, counts.tolist(), strict=True))


def resolve_fractions(class_fractions: dict[str, float] | None, kind: Variant) -> dict[str, float]:
    """The variant's mix updated by the overrides; the constant class (or, if given, all) absorbs the rest."""
    fr = kind.fraction_table()
    if not class_fractions:
        return fr
    unknown = sorted(set(class_fractions) - set(kind.classes))
    if unknown:
        raise InputError(
            f"demo.class_fractions: unknown class(es) {unknown} for demo.realism {kind.name!r}; "
            f"known: {list(kind.classes)}"
        )
    if any(float(v) < 0 for v in class_fractions.values()):
        raise InputError("demo.class_fractions: fractions must be >= 0")
    fr.update({k: float(v) for k, v in class_fractions.items()})
    if "constant" not in class_fractions:
        others = sum(v for k, v in fr.items() if k != "constant")
        if others > 1:
            raise InputError(f"demo.class_fractions: non-constant classes sum to {others:.3f} > 1")
        fr["constant"] = 1.0 - others
    total = sum(fr.values())
    if total <= 0:
        raise InputError("demo.class_fractions: fractions sum to zero")
    return {k: v / total for k, v in fr.items()}


# --------------------------------------------------------------------------------------------------
# photometry of one quadrant and band


def observe(
    m: np.ndarray,
    lim: np.ndarray,
    bad: np.ndarray,
    zp: np.ndarray,
    sat: np.ndarray,
    rng: np.random.Generator,
    flagged_epoch_fraction: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Noisy detections of true mags ``m`` (sources x epochs): detection mask, mag, magerr, catflags."""
    with np.errstate(over="ignore"):
        f = np.power(10.0, -0.4 * (m - lim[None, :]))
    var = _SIGMA_SKY**2 + f / _GAIN + (_FLOOR * f) ** 2
    fobs = f + np.sqrt(var) * rng.standard_normal(m.shape)
    det = (f > 0) & (fobs >= 5 * _SIGMA_SKY)
    fo = fobs[det]
    mag = lim[None, :].repeat(m.shape[0], 0)[det] - 2.5 * np.log10(fo)
    magerr = 1.0857 * np.sqrt(_SIGMA_SKY**2 + fo / _GAIN + (_FLOOR * fo) ** 2) / fo
    n_det = fo.size
    flags = np.zeros(n_det, dtype=np.int32)
    mtrue = m[det]
    satlim = np.broadcast_to(sat, m.shape)[det]
    saturated = mtrue < satlim
    mag = np.where(saturated, satlim - 0.35 * (satlim - mtrue) + rng.normal(0, 0.05, n_det), mag)
    magerr = np.where(saturated, np.maximum(magerr, 0.02), magerr)
    flags[saturated] |= 4
    badd = np.broadcast_to(bad, m.shape)[det]
    mag = np.where(badd, mag + np.broadcast_to(zp, m.shape)[det] + rng.normal(0, 0.1, n_det), mag)
    flags[badd] |= 32768
    u = rng.random(n_det)
    hit = u < flagged_epoch_fraction
    kind = rng.integers(0, 4, n_det)
    bits = np.array([1, 2, 3, 16], dtype=np.int32)[kind]
    bias = np.where(kind == 3, rng.uniform(0.1, 0.8, n_det), -rng.uniform(0.05, 0.6, n_det))
    mag = np.where(hit, mag + bias, mag)
    flags[hit] |= bits[hit]
    return det, mag, magerr, flags


def list_array(offsets: np.ndarray, values: np.ndarray, typ: pa.DataType) -> pa.ListArray:
    """An Arrow list column from int32 offsets and flat values."""
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values, type=typ))


def add_duplicates(
    rng: np.random.Generator, counts: np.ndarray, cols: dict[str, np.ndarray], fraction: float
) -> np.ndarray:
    """Duplicate one epoch in ``fraction`` of the light curves (in place in ``cols``); return new counts."""
    chosen = np.flatnonzero(rng.random(counts.size) < fraction)
    if chosen.size == 0:
        return counts
    offsets = np.concatenate([[0], np.cumsum(counts)])
    pos = offsets[chosen] + (rng.random(chosen.size) * counts[chosen]).astype(np.int64)
    remeasure = rng.random(chosen.size) < 0.5
    dup_mag = cols["mag"][pos] + np.where(remeasure, rng.normal(0, 1, chosen.size) * cols["magerr"][pos], 0.0)
    for name, arr in cols.items():
        cols[name] = np.insert(arr, pos + 1, dup_mag if name == "mag" else arr[pos])
    counts = counts.copy()
    counts[chosen] += 1
    return counts
