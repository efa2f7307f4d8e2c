"""The demo survey: a deterministic, vectorised ZTF-like simulator that writes the exact DR layout.

``simulate_release(root, ...)`` writes::

    <root>/<dr>/{field//1000}/field{FFFFFF}/ztf_{FFFFFF}_{zg|zr|zi}_c{CC}_q{Q}_<dr>.parquet
    <root>/<dr>/checksum.md5
    <root>/truth.parquet                      one row per objectid (see TRUTH_COLUMNS)
    <root>/catalogs/{simbad,vsx,tns}.parquet  catalogs labelling part of the sky sources

so that the offline default run exercises every stage on data shaped like a real release. The same
arguments give byte-identical parquet files and checksum.md5 (every random stream is seeded from
``seed`` plus the field/CCD/quadrant/band it belongs to, so results do not depend on loop order).

Object ids. Real ZTF DR object ids are per filter and encode where the object lives. A public helper
that decodes them (``OIDParts`` in the LINCC ``load_ztfdr_for_tape`` code) and real ids such as
633207400004730 and 695211200075348 agree on the layout, read right to left: an 8-digit running
counter, 1 digit CCD quadrant (qid), 2 digits CCD (ccdid), 1 digit filter (1 g, 2 r, 3 i), then the
field::

    objectid = field * 10**12 + filterid * 10**11 + ccdid * 10**9 + qid * 10**8 + counter

(633207400004730 = field 633, r, CCD 07, quadrant 4, source 4730; field 1721 gives 16 digits.) The
demo does exactly this; counters increase with declination inside a quadrant with random gaps, and
the g, r and i object ids of one sky source are unrelated numbers (as in real releases), linked only in
``truth.parquet`` through ``source_id``.

Sky geometry. Field centres come from a simple equal-area-ish grid (documented in ``field_centre``):
rows of constant declination 7.2 deg apart from -86.4 to +86.4, each row holding
ceil(360 cos(dec) / 7.5) fields numbered from RA 0; ids >= 1000 form the secondary grid, shifted by
half a field in both axes, like ZTF's. It is not ZTF's real field list, only plausible and stable.
The 16 CCDs sit on a 4x4 grid 1.78 deg apart; each CCD quadrant is a 0.86 x 0.86 deg sub-patch
(q1 NE, q2 NW, q3 SW, q4 SE of its CCD centre) and its sources are spread uniformly inside it.

Cadence. One Palomar-like site: nights start at ``start_mjd``; weather is one site-wide AR(1)
process over nights (correlated clear/cloudy spells, worse in winter), losing ``weather_loss`` of the
nights on average. A field is observable while its RA is within ~122-135 deg of the anti-solar RA
(a ~3-4 month seasonal gap, shorter for high declinations), with lower visit odds near the
season edges. On a clear night in season a field is visited with probability ``visit_prob`` (a
~2-3 night cadence): a g exposure and, ~30 min later, an r exposure (each sometimes missing). i-band
exposures happen only in one ~150-day window, on ~1 clear night in 4. Exposures are timed around the
field's transit (hmjd fractions ~0.15-0.5, the Palomar night in UTC). All quadrants of a field share
its exposures, except ~1.5 % of (exposure, quadrant) images that are missing.

Photometry. Each exposure has a 5-sigma limiting magnitude (dark-sky limit, brighter moon costs up to
0.7 mag in g, night-to-night and exposure scatter ``limmag_scatter``, ~1 % cloudy exposures 1-2.5 mag
shallower). Fluxes in units of the limit, f = 10**(-0.4 (m - lim)), get noise
sigma_f**2 = 0.2**2 + f / 300 + (0.0105 f)**2 (sky-limited at the faint end, ~0.012 mag floor at the
bright end, ~0.2 mag at the limit); an epoch is a detection when the noisy flux is >= 5 sigma_sky,
so DR light curves only hold detections (with the Eddington bias near the limit). ``magerr`` is the
same model evaluated at the measured flux. Sources brighter than ``saturation_mag`` saturate: the
epoch gets catflags bit 4 and a too-faint magnitude.

Flags (catflags, int32). 32768 (bit 15) is the image-quality bit that ZTF documentation and users
mask (``catflags < 32768`` keeps good epochs); it is set on every detection of a bad
(exposure, quadrant) image (``bad_image_fraction``), whose photometry is off by a random zero-point
error of ~0.3 mag. The low bits follow SExtractor-style source flags (1 neighbours, 2 blended,
4 saturated, 16 aperture data incomplete); ``flagged_epoch_fraction`` of detections get 1, 2, 3 or 16
with a matching bias (neighbour light brighter, truncated aperture fainter). About 3 % of detections
are flagged overall.

Duplicates. ``duplicate_fraction`` of light curves carry one duplicated epoch: the same hmjd twice,
adjacent in the lists (hmjd is therefore non-decreasing, strictly increasing elsewhere); half of the
duplicates repeat the measurement exactly, half re-measure the magnitude (noise of magerr), like
overlapping processing of one image.

Classes. See ``skysift.sources._lightcurve_models`` for the physics of the 18 classes and the meaning
of the truth parameters. Transients are host-less (no detections outside the event) with their r-band
peaks placed on observed epochs inside seasons, so most have a sampled rise and decline; sources with
no detection in a band have no object id (and no truth row) in that band. (Real DR object ids come
from reference-image detections, so a host-less transient would not have one; the demo keeps them so
that transient classifiers have data.)

i band. i-band light curves exist only in CCD quadrants with an i-band reference image: a fraction
``i_band_fraction`` of the simulated quadrants (at least one when > 0), so about that fraction of
sources also has an i-band object id.

Catalogs (one row per sky source they know, positions scattered ~``catalog_scatter_arcsec`` per axis,
~5 % wrong types, plus unrelated rows inside and outside the footprint):
SIMBAD (main_id, ra, dec, otype with current SIMBAD short codes), VSX (name, ra, dec, vtype, period
with ~0.1 % scatter and some aliases) and TNS (name, name_prefix, ra, declination, type, redshift,
discoverydate). ``CATALOG_TYPES`` lists every type string each catalog can emit.
"""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.signal import lfilter
from scipy.special import ndtri

from skysift.io import InputError, write_parquet
from skysift.layout import DR_SCHEMA, dr_file_path, write_checksums
from skysift.sources._lightcurve_models import (
    CLASSES,
    DEFAULT_CLASS_FRACTIONS,
    MODELS,
    Params,
    SampleContext,
)

__all__ = [
    "CLASSES",
    "DEFAULT_CLASS_FRACTIONS",
    "CATALOG_TYPES",
    "TRUTH_COLUMNS",
    "simulate_release",
    "simulate_lightcurves",
    "load_truth",
    "plot_examples",
    "field_centre",
    "quadrant_centre",
    "make_objectid",
]

log = logging.getLogger(__name__)

#: Columns of truth.parquet, in order.
TRUTH_COLUMNS: tuple[str, ...] = (
    "objectid",
    "source_id",
    "fieldid",
    "rcid",
    "filterid",
    "ra",
    "dec",
    "class",
    "subclass",
    "period",
    "t0",
    "amplitude",
    "mean_mag",
    "redshift",
)

_ROW_STEP = 7.2  # deg between field rows
_CELL = 7.5  # deg, target field width along RA
_CCD_PITCH = 1.78  # deg between CCD centres
_QUAD_HALF = 0.43  # deg, half-size of a quadrant's source patch
_PALOMAR_MIDNIGHT = 0.3246  # UTC day fraction of local solar midnight at longitude -116.86
_SIGMA_SKY = 0.2  # sky noise in units of the 5-sigma limiting flux
_GAIN = 300.0  # source Poisson term: var = f / _GAIN in limit units
_FLOOR = 0.0105  # relative flux error floor (~0.0114 mag)
_LIMIT_OFFSET = np.array([0.25, 0.15, -0.35])  # dark-sky limit per band relative to limiting_mag
_MOON_COST = np.array([0.7, 0.4, 0.2])  # mag lost at full moon per band
_CLRCOEFF = np.array([-0.05, 0.09, -0.02])  # mean colour coefficient per band
_BANDS = (1, 2, 3)

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
    x = (1.5 - col) * _CCD_PITCH + (0.5 if qid in (1, 4) else -0.5) * 2 * (_QUAD_HALF + 0.005)
    y = (row - 1.5) * _CCD_PITCH + (0.5 if qid in (1, 2) else -0.5) * 2 * (_QUAD_HALF + 0.005)
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


# --------------------------------------------------------------------------------------------------
# cadence


class _Cadence:
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


def _weather(rng: np.random.Generator, nights: np.ndarray, loss: float) -> np.ndarray:
    """Clear-night mask of a site: AR(1) cloudiness (spells of ~3-4 nights), worse in winter."""
    rho = 0.7
    z = lfilter([np.sqrt(1 - rho**2)], [1, -rho], rng.standard_normal(nights.size))
    doy = np.mod(nights - 51544.5, 365.25)
    p_lost = np.clip(loss * (1 + 0.5 * np.cos(2 * np.pi * (doy - 15) / 365.25)), 0.0, 0.95)
    return z < ndtri(1 - p_lost)


def _field_cadence(
    rng: np.random.Generator,
    fieldid: int,
    nights: np.ndarray,
    clear: np.ndarray,
    i_window: tuple[float, float],
    visit_prob: float,
    limiting_mag: float,
    limmag_scatter: float,
) -> _Cadence:
    """Exposures of one field: season window, weather, g+r visits every ~2-3 nights, sparse i."""
    ra, dec = field_centre(fieldid)
    delta = np.mod(ra - _antisolar_ra(nights + _PALOMAR_MIDNIGHT) + 180.0, 360.0) - 180.0
    half = min(122.0 + 0.3 * max(dec - 20.0, 0.0), 160.0)
    taper = np.clip((half - np.abs(delta)) / 15.0, 0.0, 1.0)
    ok = clear & (taper > 0)
    p_field = visit_prob * rng.uniform(0.85, 1.15)
    visit = ok & (rng.random(nights.size) < p_field * np.maximum(taper, 0.3))
    centre = (
        nights + _PALOMAR_MIDNIGHT + np.clip(delta / 360.0, -0.16, 0.16) + rng.normal(0, 0.02, nights.size)
    )
    has_g = visit & (rng.random(nights.size) < 0.9)
    has_r = visit & ((rng.random(nights.size) < 0.94) | ~has_g)
    t_g = centre - 0.012 + rng.normal(0, 0.002, nights.size)
    t_r = centre + 0.012 + rng.uniform(0, 0.012, nights.size)
    in_i = (nights >= i_window[0]) & (nights < i_window[1])
    has_i = ok & in_i & (rng.random(nights.size) < 0.25)
    t_i = centre + 0.035 + rng.uniform(0, 0.01, nights.size)
    t = np.concatenate([t_g[has_g], t_r[has_r], t_i[has_i]])
    band = np.concatenate([np.zeros(has_g.sum(), int), np.ones(has_r.sum(), int), np.full(has_i.sum(), 2)])
    night_idx = np.concatenate([np.flatnonzero(has_g), np.flatnonzero(has_r), np.flatnonzero(has_i)])
    night_term = rng.normal(0, 0.6 * limmag_scatter, nights.size)[night_idx]
    cloudy = rng.random(t.size) < 0.01
    lim = (
        limiting_mag
        + _LIMIT_OFFSET[band]
        - _MOON_COST[band] * _moon_illumination(t)
        + night_term
        + rng.normal(0, 0.8 * limmag_scatter, t.size)
        - np.where(cloudy, rng.uniform(1.0, 2.5, t.size), 0.0)
    )
    clr = _CLRCOEFF[band] + rng.normal(0, 0.03, t.size)
    return _Cadence(t, band, lim, clr, cloudy)


# --------------------------------------------------------------------------------------------------
# sources


def _class_counts(n: int, fractions: dict[str, float]) -> dict[str, int]:
    """Integer counts per class by largest remainders; every class with a positive fraction gets >= 1."""
    frac = np.array([fractions[c] for c in CLASSES])
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
    return dict(zip(CLASSES, counts.tolist(), strict=True))


def _resolve_fractions(class_fractions: dict[str, float] | None) -> dict[str, float]:
    """Built-in fractions updated by the overrides; the constant class (or, if given, all) absorbs the rest."""
    fr = dict(DEFAULT_CLASS_FRACTIONS)
    if not class_fractions:
        return fr
    unknown = sorted(set(class_fractions) - set(CLASSES))
    if unknown:
        raise InputError(f"demo.class_fractions: unknown class(es) {unknown}; known: {list(CLASSES)}")
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


def _observe(
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


def _list_array(offsets: np.ndarray, values: np.ndarray, typ: pa.DataType) -> pa.ListArray:
    """An Arrow list column from int32 offsets and flat values."""
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values, type=typ))


def _add_duplicates(
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


# --------------------------------------------------------------------------------------------------
# the release


def simulate_release(
    root: str | Path,
    *,
    dr: str = "dr24",
    seed: int = 42,
    n_objects: int = 20000,
    fields: tuple[int, ...] | list[int] = (633, 634, 1721),
    ccds: tuple[int, ...] | list[int] = (1, 2),
    quadrants: tuple[int, ...] | list[int] = (1, 2, 3, 4),
    start_mjd: float = 58288.0,
    n_years: float = 2.5,
    i_band_fraction: float = 0.15,
    class_fractions: dict[str, float] | None = None,
    limiting_mag: float = 20.5,
    limmag_scatter: float = 0.3,
    weather_loss: float = 0.25,
    visit_prob: float = 0.45,
    saturation_mag: float = 12.8,
    bad_image_fraction: float = 0.015,
    missing_image_fraction: float = 0.015,
    flagged_epoch_fraction: float = 0.012,
    duplicate_fraction: float = 0.003,
    catalog_scatter_arcsec: float = 0.3,
) -> dict:
    """Simulate a ZTF-like data release into ``root`` (DR files, checksum.md5, truth, catalogs).

    Parameters (keyword names = ``demo`` config keys):
        dr: release name, the directory under ``root`` and the file-name suffix.
        seed: random seed (>= 0); the same arguments give byte-identical files.
        n_objects: number of sky sources (each has g and r light curves where detected, some also i).
        fields, ccds, quadrants: ZTF field ids, CCD ids (1-16) and quadrant ids (1-4) to simulate.
        start_mjd, n_years: first night (MJD) and length of the survey.
        i_band_fraction: fraction of CCD quadrants (so roughly of sources) with i-band light curves.
        class_fractions: class -> fraction overrides of DEFAULT_CLASS_FRACTIONS; ``constant`` absorbs
            the remainder unless given, then everything is normalised.
        limiting_mag: typical 5-sigma limiting magnitude in r (g ~0.1 deeper, i ~0.5 shallower).
        limmag_scatter: scatter (mag) of the per-exposure limiting magnitude.
        weather_loss: mean fraction of nights lost to weather (correlated, worse in winter).
        visit_prob: chance a field is visited on a clear night in its season (cadence ~1/visit_prob).
        saturation_mag: brighter epochs saturate (catflags 4, magnitude too faint).
        bad_image_fraction: (exposure, quadrant) images with the 32768 quality bit and bad zero points.
        missing_image_fraction: (exposure, quadrant) images missing from the release.
        flagged_epoch_fraction: detections with SExtractor-style flags (1, 2, 3, 16) and biased mags.
        duplicate_fraction: light curves carrying one duplicated epoch (same hmjd twice).
        catalog_scatter_arcsec: Gaussian position error per axis of the SIMBAD/VSX rows (TNS x1.3).

    Returns a summary: sources per class (drawn and detected), light curves, detections, files
    written (relative to the release directory), i-band quadrants and rows per catalog.
    """
    root = Path(root)
    fields = [int(f) for f in fields]
    ccds, quadrants = [int(c) for c in ccds], [int(q) for q in quadrants]
    _check_args(dr, seed, n_objects, fields, ccds, quadrants, n_years, i_band_fraction)
    for key, value in {
        "weather_loss": weather_loss,
        "visit_prob": visit_prob,
        "bad_image_fraction": bad_image_fraction,
        "missing_image_fraction": missing_image_fraction,
        "flagged_epoch_fraction": flagged_epoch_fraction,
        "duplicate_fraction": duplicate_fraction,
    }.items():
        if not 0 <= value <= 1:
            raise InputError(f"demo.{key} = {value}: must be within [0, 1]")
    fractions = _resolve_fractions(class_fractions)
    counts = _class_counts(n_objects, fractions)
    ss = np.random.SeedSequence(seed)
    rng_src = np.random.default_rng(ss.spawn(1)[0])

    # cadence: one site-wide weather history, one exposure list per field
    n_nights = int(round(n_years * 365.25))
    nights = np.floor(start_mjd) + np.arange(n_nights)
    rng_site = np.random.default_rng([seed, 1])
    clear = _weather(rng_site, nights, weather_loss)
    i_start = nights[0] + rng_site.uniform(0.25, 0.75) * max(n_nights - 150, 0)
    cadences = {
        f: _field_cadence(
            np.random.default_rng([seed, 2, f]),
            f,
            nights,
            clear,
            (i_start, i_start + 150),
            visit_prob,
            limiting_mag,
            limmag_scatter,
        )
        for f in fields
    }
    ctx = SampleContext(
        start=float(nights[0]),
        end=float(nights[-1] + 1),
        epochs={f: c.t[c.band == 1] for f, c in cadences.items()},
    )

    # sources: quadrant, position, class, parameters
    quads = [(f, c, q) for f in fields for c in ccds for q in quadrants]
    weights = rng_src.dirichlet(np.full(len(quads), 20.0))
    n_per_quad = rng_src.multinomial(n_objects, weights)
    quad_of = np.repeat(np.arange(len(quads)), n_per_quad)
    cls_of = rng_src.permutation(np.repeat(np.arange(len(CLASSES)), [counts[c] for c in CLASSES]))
    centres = np.array([quadrant_centre(*qd) for qd in quads])
    dy = rng_src.uniform(-_QUAD_HALF, _QUAD_HALF, n_objects)
    dx = rng_src.uniform(-_QUAD_HALF, _QUAD_HALF, n_objects)
    dec = centres[quad_of, 1] + dy
    ra = np.mod(centres[quad_of, 0] + dx / np.cos(np.radians(dec)), 360.0)
    field_of = (
        np.array([quads[k][0] for k in quad_of], dtype=np.int64) if n_objects else np.zeros(0, np.int64)
    )
    params: dict[int, Params] = {}
    pos_in_class = np.zeros(n_objects, dtype=np.int64)
    for k, name in enumerate(CLASSES):
        members = np.flatnonzero(cls_of == k)
        pos_in_class[members] = np.arange(members.size)
        sampler = MODELS[name][0]
        params[k] = sampler(np.random.default_rng([seed, 3, k]), field_of[members], ctx)

    n_quads = len(quads)
    n_i = 0 if i_band_fraction <= 0 else max(1, int(round(i_band_fraction * n_quads)))
    i_quads = (
        set(np.random.default_rng([seed, 4]).choice(n_quads, n_i, replace=False).tolist()) if n_i else set()
    )

    release = root / dr
    truth_parts: list[pd.DataFrame] = []
    first_det = np.full(n_objects, np.inf)
    files: list[str] = []
    n_lc = n_det = 0
    for qk, (f, ccd, qid) in enumerate(quads):
        cad = cadences[f]
        rows = np.flatnonzero(quad_of == qk)
        rows = rows[np.argsort(dec[rows], kind="stable")]
        rng_q = np.random.default_rng([seed, 5, f, ccd, qid])
        n_u = cad.t.size
        present = rng_q.random(n_u) >= missing_image_fraction
        bad = (rng_q.random(n_u) < bad_image_fraction) | (cad.cloudy & (rng_q.random(n_u) < 0.5))
        lim = cad.lim + rng_q.normal(0, 0.05)
        zp = rng_q.normal(0, 0.3, n_u)
        clr = cad.clr + rng_q.normal(0, 0.005, n_u)
        sat = saturation_mag + rng_q.normal(0, 0.1, n_u)
        true_mag = np.empty((rows.size, n_u))
        for k in np.unique(cls_of[rows]):
            sel = cls_of[rows] == k
            p = params[int(k)].take(pos_in_class[rows[sel]])
            true_mag[sel] = MODELS[CLASSES[int(k)]][1](
                p, cad.t, cad.band, np.random.default_rng([seed, 6, f, ccd, qid, int(k)])
            )
        rcid = 4 * (ccd - 1) + (qid - 1)
        for b in (0, 1, 2):
            if b == 2 and qk not in i_quads:
                continue
            filterid = _BANDS[b]
            cols = np.flatnonzero((cad.band == b) & present)
            rng_b = np.random.default_rng([seed, 7, f, ccd, qid, filterid])
            counter = np.cumsum(rng_b.integers(1, 25, rows.size))
            oid_all = make_objectid(f, filterid, ccd, qid, counter)
            det, mag, magerr, flags = _observe(
                true_mag[:, cols], lim[cols], bad[cols], zp[cols], sat[cols], rng_b, flagged_epoch_fraction
            )
            per_row = det.sum(axis=1)
            keep = per_row > 0
            shape = det.shape
            data = {
                "hmjd": np.broadcast_to(cad.t[cols], shape)[det],
                "mag": mag,
                "magerr": magerr,
                "clrcoeff": np.broadcast_to(clr[cols], shape)[det],
                "catflags": flags,
            }
            lc_counts = _add_duplicates(rng_b, per_row[keep], data, duplicate_fraction)
            offsets = np.concatenate([[0], np.cumsum(lc_counts)]).astype(np.int64)
            src = rows[keep]
            nk = src.size
            if nk == 0:
                continue
            jitter = rng_b.normal(0, 0.05 / 3600, (2, nk))
            table = pa.Table.from_arrays(
                [
                    pa.array(oid_all[keep], pa.int64()),
                    pa.array(np.full(nk, filterid), pa.int8()),
                    pa.array(np.full(nk, f), pa.int16()),
                    pa.array(np.full(nk, rcid), pa.int8()),
                    pa.array((ra[src] + jitter[0] / np.cos(np.radians(dec[src]))).astype(np.float32)),
                    pa.array((dec[src] + jitter[1]).astype(np.float32)),
                    pa.array(lc_counts.astype(np.int64)),
                    _list_array(offsets, data["hmjd"], pa.float64()),
                    _list_array(offsets, data["mag"].astype(np.float32), pa.float32()),
                    _list_array(offsets, data["magerr"].astype(np.float32), pa.float32()),
                    _list_array(offsets, data["clrcoeff"].astype(np.float32), pa.float32()),
                    _list_array(offsets, data["catflags"].astype(np.int32), pa.int32()),
                ],
                schema=DR_SCHEMA,
            )
            rel = dr_file_path(dr, f, filterid, ccd, qid)
            write_parquet(table, release / rel, use_dictionary=False)  # dictionaries of floats: slow, larger
            files.append(rel)
            n_lc += nk
            n_det += int(offsets[-1])
            np.minimum.at(first_det, src, data["hmjd"][offsets[:-1]])
            truth_parts.append(
                _truth_rows(oid_all[keep], src, f, rcid, filterid, b, ra, dec, cls_of, pos_in_class, params)
            )
    write_checksums(release)

    truth = pd.concat(truth_parts, ignore_index=True) if truth_parts else _empty_truth()
    truth = truth.sort_values("objectid", kind="stable").reset_index(drop=True)
    write_parquet(pa.Table.from_pandas(truth, preserve_index=False), root / "truth.parquet")

    sources = pd.DataFrame(
        {
            "source_id": np.arange(n_objects, dtype=np.int64),
            "fieldid": field_of,
            "ra": ra,
            "dec": dec,
            "class": np.array(CLASSES, dtype=object)[cls_of] if n_objects else np.array([], dtype=object),
            "subclass": _per_source(cls_of, pos_in_class, params, "subclass"),
            "period": _per_source(cls_of, pos_in_class, params, "period"),
            "redshift": _per_source(cls_of, pos_in_class, params, "redshift"),
            "mean_r": _per_source(cls_of, pos_in_class, params, "mean_r"),
            "first_detection": first_det,
        }
    )
    cat_rows = _write_catalogs(
        root / "catalogs", sources, np.random.default_rng([seed, 8]), quads, ctx, catalog_scatter_arcsec
    )
    detected = np.isfinite(first_det)
    summary = {
        "root": str(root),
        "dr": dr,
        "seed": seed,
        "n_sources": n_objects,
        "n_sources_detected": int(detected.sum()),
        "class_counts": counts,
        "class_counts_detected": {c: int(np.sum(detected & (cls_of == k))) for k, c in enumerate(CLASSES)},
        "n_lightcurves": n_lc,
        "n_detections": n_det,
        "n_files": len(files),
        "files": files,
        "i_band_quadrants": sorted(f"{quads[k][0]}:c{quads[k][1]:02d}q{quads[k][2]}" for k in i_quads),
        "catalog_rows": cat_rows,
    }
    log.info("demo release %s: %d sources, %d light curves, %d files", release, n_objects, n_lc, len(files))
    return summary


def simulate_lightcurves(
    counts: dict[str, int],
    *,
    seed: int = 0,
    fieldid: int = 633,
    start_mjd: float = 58288.0,
    n_years: float = 2.5,
    limiting_mag: float = 20.5,
    limmag_scatter: float = 0.3,
    weather_loss: float = 0.25,
    visit_prob: float = 0.45,
    saturation_mag: float = 12.8,
) -> pd.DataFrame:
    """g and r detections of ``counts[class]`` simulated sources in one field, in memory (no files).

    The same cadence, light-curve models and photometry as :func:`simulate_release` (without bad
    images, flags or duplicates), for training sets such as the kilonova classifier's; deterministic
    for a seed. Returns one row per detection: source_id, class, filterid (1 g, 2 r), hmjd, mag, magerr.
    """
    unknown = sorted(set(counts) - set(CLASSES))
    if unknown:
        raise InputError(f"simulate_lightcurves: unknown class(es) {unknown}; known: {list(CLASSES)}")
    n_nights = int(round(n_years * 365.25))
    nights = np.floor(start_mjd) + np.arange(n_nights)
    clear = _weather(np.random.default_rng([seed, 1]), nights, weather_loss)
    cad = _field_cadence(
        np.random.default_rng([seed, 2, fieldid]),
        fieldid,
        nights,
        clear,
        (nights[0], nights[0]),  # no i-band window
        visit_prob,
        limiting_mag,
        limmag_scatter,
    )
    ctx = SampleContext(
        start=float(nights[0]), end=float(nights[-1] + 1), epochs={fieldid: cad.t[cad.band == 1]}
    )
    frames = []
    first_id = 0
    for k, name in enumerate(CLASSES):
        n = int(counts.get(name, 0))
        if n <= 0:
            continue
        sampler, evaluate = MODELS[name]
        params = sampler(np.random.default_rng([seed, 3, k]), np.full(n, fieldid, dtype=np.int64), ctx)
        true_mag = evaluate(params, cad.t, cad.band, np.random.default_rng([seed, 6, k]))
        for b in (0, 1):
            cols = np.flatnonzero(cad.band == b)
            rng_b = np.random.default_rng([seed, 7, k, b])
            sat = saturation_mag + rng_b.normal(0, 0.1, cols.size)
            none = np.zeros(cols.size, dtype=bool)
            det, mag, magerr, _ = _observe(
                true_mag[:, cols], cad.lim[cols], none, np.zeros(cols.size), sat, rng_b, 0.0
            )
            src, epoch = np.nonzero(det)
            frames.append(
                pd.DataFrame(
                    {
                        "source_id": (first_id + src).astype(np.int64),
                        "class": name,
                        "filterid": np.int8(_BANDS[b]),
                        "hmjd": cad.t[cols][epoch],
                        "mag": mag,
                        "magerr": magerr,
                    }
                )
            )
        first_id += n
    if not frames:
        raise InputError("simulate_lightcurves: counts asks for no sources")
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["source_id", "filterid", "hmjd"], kind="stable").reset_index(drop=True)


def _check_args(
    dr: str,
    seed: int,
    n_objects: int,
    fields: list[int],
    ccds: list[int],
    quadrants: list[int],
    n_years: float,
    i_frac: float,
) -> None:
    """Reject arguments that cannot make a valid release, naming the offending config key."""
    import re

    if not re.fullmatch(r"dr\d+", dr):
        raise InputError(f"dr {dr!r}: expected 'dr' followed by digits, e.g. dr24")
    if int(seed) != seed or seed < 0:
        raise InputError(f"demo.seed {seed!r}: must be an integer >= 0")
    if n_objects < 1:
        raise InputError("demo.n_objects must be >= 1")
    if not fields or any(f < 1 or f > 1999 for f in fields) or len(set(fields)) != len(fields):
        raise InputError(f"demo.fields {fields}: need distinct field ids in 1..1999")
    if not ccds or any(c < 1 or c > 16 for c in ccds) or len(set(ccds)) != len(ccds):
        raise InputError(f"demo.ccds {ccds}: need distinct CCD ids in 1..16")
    if not quadrants or any(q < 1 or q > 4 for q in quadrants) or len(set(quadrants)) != len(quadrants):
        raise InputError(f"demo.quadrants {quadrants}: need distinct quadrant ids in 1..4")
    if n_years * 365.25 < 1:
        raise InputError(f"demo.n_years {n_years}: the survey must last at least one night")
    if not 0 <= i_frac <= 1:
        raise InputError("demo.i_band_fraction must be within [0, 1]")


def _per_source(cls_of: np.ndarray, pos: np.ndarray, params: dict[int, Params], what: str) -> np.ndarray:
    """One per-source parameter gathered from the class parameter tables."""
    out = np.empty(cls_of.size, dtype=object if what == "subclass" else float)
    for k, p in params.items():
        rows = cls_of == k
        vals = p.mean[:, 1] if what == "mean_r" else getattr(p, what)
        out[rows] = vals[pos[rows]]
    return out


def _truth_rows(
    oid: np.ndarray,
    src: np.ndarray,
    fieldid: int,
    rcid: int,
    filterid: int,
    b: int,
    ra: np.ndarray,
    dec: np.ndarray,
    cls_of: np.ndarray,
    pos: np.ndarray,
    params: dict[int, Params],
) -> pd.DataFrame:
    """Truth rows of one DR file's object ids."""
    n = src.size
    cols = {k: np.full(n, np.nan) for k in ("period", "t0", "amplitude", "mean_mag", "redshift")}
    sub = np.empty(n, dtype=object)
    for k in np.unique(cls_of[src]):
        sel = cls_of[src] == k
        p = params[int(k)]
        i = pos[src[sel]]
        cols["period"][sel] = p.period[i]
        cols["t0"][sel] = p.t0[i]
        cols["amplitude"][sel] = p.amp[i, b]
        cols["mean_mag"][sel] = p.mean[i, b]
        cols["redshift"][sel] = p.redshift[i]
        sub[sel] = p.subclass[i]
    return pd.DataFrame(
        {
            "objectid": oid.astype(np.int64),
            "source_id": src.astype(np.int64),
            "fieldid": np.full(n, fieldid, np.int16),
            "rcid": np.full(n, rcid, np.int8),
            "filterid": np.full(n, filterid, np.int8),
            "ra": ra[src],
            "dec": dec[src],
            "class": np.array(CLASSES, dtype=object)[cls_of[src]],
            "subclass": sub,
            **cols,
        }
    )


def _empty_truth() -> pd.DataFrame:
    """A truth table with no rows and the right dtypes."""
    return _truth_rows(
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        1,
        0,
        1,
        0,
        np.zeros(0),
        np.zeros(0),
        np.zeros(0, int),
        np.zeros(0, int),
        {},
    )


def load_truth(root: str | Path) -> pd.DataFrame:
    """Read a demo release's truth table (one row per objectid; see TRUTH_COLUMNS)."""
    path = Path(root) / "truth.parquet"
    if not path.exists():
        raise InputError(f"{path}: no truth table; simulate the demo release first (skysift simulate)")
    return pd.read_parquet(path)


# --------------------------------------------------------------------------------------------------
# a picture for humans

_PERIODIC = {"rrlyrae", "cepheid", "eclipsing_binary", "delta_scuti"}
_WINDOW = {"snia": (-40, 120), "snii": (-30, 200), "snibc": (-30, 100), "slsn": (-120, 300), "tde": (-80, 300),
           "kilonova": (-5, 10), "microlensing": (-150, 150)}  # fmt: skip
_COLOURS = {1: ("tab:green", "o"), 2: ("tab:red", "o"), 3: ("#6b3e1f", "s")}


def _find_release(root: Path, dr: str | None) -> Path:
    """The release directory under a demo root (the only ``drNN`` directory unless ``dr`` is given)."""
    if dr is not None:
        return root / dr
    found = sorted(p for p in root.glob("dr*") if p.is_dir() and (p / "checksum.md5").exists())
    if len(found) != 1:
        raise InputError(
            f"{root}: expected one release directory drNN with checksum.md5, found {[p.name for p in found]}"
        )
    return found[0]


def plot_examples(
    root: str | Path,
    out_png: str | Path,
    per_class: int = 2,
    *,
    classes: list[str] | tuple[str, ...] | None = None,
    dr: str | None = None,
    seed: int = 0,
) -> Path:
    """Draw light curves of ``per_class`` objects per class into a grid PNG (g green, r red, i brown).

    Periodic classes are phase-folded on their true period; transients are zoomed on their peak.
    Flagged epochs (catflags != 0) are drawn as x markers. The objects are drawn at random (``seed``)
    from the better-sampled half of each class; ``classes`` restricts the plot to some classes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = Path(root)
    truth = load_truth(root)
    release = _find_release(root, dr)
    paths = sorted(release.glob("*/field*/ztf_*.parquet"))
    table = pa.concat_tables([pq.read_table(p) for p in paths])
    nep = dict(zip(table["objectid"].to_numpy(), table["nepochs"].to_numpy(), strict=True))
    truth["nepochs"] = truth["objectid"].map(nep).fillna(0)
    per_src = truth.groupby("source_id")["nepochs"].sum()
    rng = np.random.default_rng(seed)
    chosen: list[tuple[str, int]] = []
    for cls in classes or CLASSES:
        srcs = truth.loc[truth["class"] == cls, "source_id"].unique()
        if srcs.size == 0:
            continue
        good = srcs[per_src.loc[srcs].to_numpy() >= np.quantile(per_src.loc[srcs].to_numpy(), 0.5)]
        pick = rng.choice(good, min(per_class, good.size), replace=False)
        chosen += [(cls, int(s)) for s in sorted(pick)]
    wanted = truth[truth["source_id"].isin([s for _, s in chosen])]
    sub = table.filter(pc.is_in(table["objectid"], value_set=pa.array(wanted["objectid"].to_numpy())))
    lcs = {int(o): i for i, o in enumerate(sub["objectid"].to_numpy())}
    ncols = 4
    nrows = max(1, int(np.ceil(len(chosen) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.6 * nrows), squeeze=False)
    for ax, (cls, s) in zip(axes.ravel(), chosen, strict=False):
        rows = wanted[wanted["source_id"] == s]
        first = rows.iloc[0]
        for _, row in rows.iterrows():
            i = lcs.get(int(row["objectid"]))
            if i is None:
                continue
            t = np.asarray(sub["hmjd"][i].as_py())
            m = np.asarray(sub["mag"][i].as_py())
            e = np.asarray(sub["magerr"][i].as_py())
            fl = np.asarray(sub["catflags"][i].as_py())
            x = t
            if cls in _PERIODIC:
                x = np.mod((t - row["t0"]) / row["period"] + 0.25, 1.0) - 0.25
            c, marker = _COLOURS[int(row["filterid"])]
            good = fl == 0
            ax.errorbar(x[good], m[good], e[good], fmt=marker, ms=2, lw=0.6, color=c, alpha=0.8)
            ax.plot(x[~good], m[~good], "x", ms=4, color=c, alpha=0.9)
        if cls in _WINDOW and np.isfinite(first["t0"]):
            lo, hi = _WINDOW[cls]
            ax.set_xlim(first["t0"] + lo, first["t0"] + hi)
        ax.invert_yaxis()
        label = f"{cls} ({first['subclass']})"
        if cls in _PERIODIC:
            label += f" P={first['period']:.3g} d, folded"
        elif np.isfinite(first["redshift"]):
            label += f" z={first['redshift']:.3f}"
        ax.set_title(f"{label}\nsource {s}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(chosen) :]:
        ax.set_visible(False)
    fig.tight_layout()
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def _iso(mjd: np.ndarray) -> list[str]:
    """MJD -> 'YYYY-MM-DD HH:MM:SS.sss' (the TNS discoverydate format)."""
    base = _dt.datetime(1858, 11, 17)
    return [(base + _dt.timedelta(days=float(x))).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] for x in mjd]


# --------------------------------------------------------------------------------------------------
# catalogs: SIMBAD, VSX and TNS as they would label the survey's sky sources

Options = list[tuple[str, float]]

#: class -> probability SIMBAD knows a source, otype options (per subclass where it matters).
_SIMBAD: dict[str, tuple[float, dict[str, Options]]] = {
    "constant": (0.0, {"*": [("*", 0.93), ("PM*", 0.04), ("**", 0.03)]}),  # known fraction depends on mag
    "rrlyrae": (0.65, {"*": [("RR*", 0.6), ("V*", 0.3), ("Pu*", 0.1)]}),
    "cepheid": (
        0.7,
        {
            "DCEP": [("cC*", 0.45), ("Ce*", 0.25), ("V*", 0.3)],
            "CW": [("WV*", 0.5), ("Ce*", 0.2), ("V*", 0.3)],
        },
    ),
    "eclipsing_binary": (0.55, {"*": [("EB*", 0.65), ("V*", 0.3), ("SB*", 0.05)]}),
    "delta_scuti": (0.5, {"*": [("dS*", 0.55), ("V*", 0.35), ("Pu*", 0.1)]}),
    "lpv": (
        0.75,
        {"mira": [("Mi*", 0.6), ("LP*", 0.2), ("V*", 0.2)], "*": [("LP*", 0.6), ("V*", 0.3), ("AB*", 0.1)]},
    ),
    "agn": (
        0.85,
        {"QSO": [("QSO", 0.8), ("AGN", 0.1), ("Bla", 0.1)], "Sy1": [("Sy1", 0.5), ("AGN", 0.4), ("G", 0.1)]},
    ),
    "yso": (0.5, {"*": [("Y*O", 0.5), ("TT*", 0.3), ("Or*", 0.1), ("V*", 0.1)]}),
    "snia": (0.2, {"*": [("SN*", 1.0)]}),
    "snii": (0.2, {"*": [("SN*", 1.0)]}),
    "snibc": (0.2, {"*": [("SN*", 1.0)]}),
    "slsn": (0.2, {"*": [("SN*", 1.0)]}),
    "tde": (0.3, {"*": [("ev", 0.7), ("SN*", 0.3)]}),
    "kilonova": (0.0, {"*": [("ev", 1.0)]}),
    "microlensing": (0.3, {"*": [("Lev", 0.4), ("*", 0.6)]}),
    "flare": (0.45, {"*": [("Er*", 0.4), ("LM*", 0.3), ("*", 0.3)]}),
    "cv": (0.7, {"*": [("CV*", 0.8), ("V*", 0.2)]}),
    "artefact": (0.3, {"*": [("*", 1.0)]}),
}
_SIMBAD_EXTRA: Options = [("*", 0.7), ("G", 0.2), ("V*", 0.05), ("QSO", 0.05)]

#: class -> probability VSX knows a source, vtype options.
_VSX: dict[str, tuple[float, dict[str, Options]]] = {
    "constant": (0.002, {"*": [("VAR", 0.5), ("MISC", 0.5)]}),
    "rrlyrae": (0.7, {"RRab": [("RRAB", 1.0)], "RRc": [("RRC", 1.0)]}),
    "cepheid": (0.7, {"DCEP": [("DCEP", 0.9), ("CEP", 0.1)], "CW": [("CWA", 0.5), ("CWB", 0.5)]}),
    "eclipsing_binary": (0.6, {"EA": [("EA", 1.0)], "EW": [("EW", 1.0)], "EB": [("EB", 1.0)]}),
    "delta_scuti": (0.5, {"DSCT": [("DSCT", 0.8), ("DSCTC", 0.2)], "HADS": [("HADS", 1.0)]}),
    "lpv": (
        0.8,
        {
            "mira": [("M", 1.0)],
            "SR": [("SR", 0.4), ("SRA", 0.2), ("SRB", 0.4)],
            "L": [("L", 0.6), ("LB", 0.4)],
        },
    ),
    "agn": (0.15, {"*": [("AGN", 0.6), ("QSO", 0.3), ("BLLAC", 0.1)]}),
    "yso": (
        0.45,
        {
            "dipper": [("YSO", 0.4), ("UXOR", 0.3), ("INST", 0.3)],
            "burster": [("YSO", 0.4), ("EXOR", 0.3), ("INST", 0.3)],
            "irregular": [("YSO", 0.5), ("INST", 0.3), ("TTS", 0.2)],
        },
    ),
    "cv": (0.6, {"UG": [("UG", 0.5), ("UGSS", 0.5)], "UGSU": [("UGSU", 1.0)]}),
    "flare": (0.3, {"*": [("UV", 1.0)]}),
    "artefact": (0.03, {"*": [("VAR", 0.5), ("MISC", 0.5)]}),
}
_VSX_PERIODIC = {"rrlyrae", "cepheid", "eclipsing_binary", "delta_scuti", "lpv"}

#: class -> probability TNS has a report, type options ("" = unclassified AT).
_TNS: dict[str, tuple[float, dict[str, Options]]] = {
    "snia": (0.6, {"*": [("SN Ia", 0.9), ("SN Ia-91T-like", 0.07), ("SN Ia-pec", 0.03)]}),
    "snii": (0.5, {"IIP": [("SN II", 0.5), ("SN IIP", 0.5)], "IIL": [("SN II", 0.7), ("SN IIL", 0.3)]}),
    "snibc": (
        0.5,
        {
            "Ib": [("SN Ib", 0.8), ("SN Ib/c", 0.2)],
            "Ic": [("SN Ic", 0.8), ("SN Ib/c", 0.2)],
            "Ic-BL": [("SN Ic-BL", 1.0)],
        },
    ),
    "slsn": (0.6, {"SLSN-I": [("SLSN-I", 1.0)], "SLSN-II": [("SLSN-II", 1.0)]}),
    "tde": (0.6, {"*": [("TDE", 1.0)]}),
    "kilonova": (0.5, {"*": [("", 1.0)]}),  # at most one gets "Kilonova", see _tns_rows
    "cv": (0.25, {"*": [("CV", 0.5), ("", 0.5)]}),
    "flare": (0.08, {"*": [("M dwarf", 0.5), ("", 0.5)]}),
    "microlensing": (0.2, {"*": [("", 0.7), ("Other", 0.3)]}),
    "agn": (0.03, {"*": [("AGN", 0.5), ("", 0.5)]}),
    "lpv": (0.01, {"*": [("Varstar", 1.0)]}),
}
_TNS_SN = {"snia", "snii", "snibc", "slsn", "tde", "kilonova"}
_TNS_EXTRA: Options = [("SN Ia", 0.35), ("SN II", 0.15), ("", 0.4), ("SN Ic", 0.05), ("CV", 0.05)]


def _vocab(table: dict[str, tuple[float, dict[str, Options]]], extra: Options = ()) -> list[str]:
    """Every type string a catalog rule table can emit, sorted."""
    names = {name for _, opts in table.values() for o in opts.values() for name, _ in o}
    return sorted(names | {name for name, _ in extra})


#: Every type string each demo catalog can emit (VSX types may also carry a trailing ':' = uncertain).
CATALOG_TYPES: dict[str, list[str]] = {
    "simbad": _vocab(_SIMBAD, _SIMBAD_EXTRA),
    "vsx": _vocab(_VSX),
    "tns": sorted(set(_vocab(_TNS, _TNS_EXTRA)) | {"Kilonova"}),
}

_CONSTELLATIONS = ("And", "Psc", "Ari", "Tau", "Ori", "Gem", "Cnc", "Leo", "Sex", "Vir", "Com", "Boo",
                   "CrB", "Her", "Oph", "Sct", "Aql", "Sge", "Vul", "Cyg", "Lac", "Peg", "Cas", "Per")  # fmt: skip


def _choose(rng: np.random.Generator, options: Options, n: int) -> np.ndarray:
    """n draws from weighted (value, weight) options."""
    names = np.array([o[0] for o in options], dtype=object)
    w = np.array([o[1] for o in options], dtype=float)
    return names[rng.choice(len(names), n, p=w / w.sum())]


def _label(
    rng: np.random.Generator,
    table: dict[str, tuple[float, dict[str, Options]]],
    src: pd.DataFrame,
    known_override: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which sources a catalog knows and the type it gives them (vectorised per class and subclass)."""
    n = len(src)
    known = np.zeros(n, bool)
    types = np.full(n, "", dtype=object)
    u = rng.random(n)
    for cls, (p_known, opts) in table.items():
        rows = (src["class"] == cls).to_numpy()
        p = known_override[rows] if (known_override is not None and cls == "constant") else p_known
        known[rows] = u[rows] < p
        subs = src["subclass"].to_numpy()
        for sub, o in opts.items():
            sel = rows & ((subs == sub) if sub != "*" else np.ones(n, bool))
            if sub == "*":
                sel &= ~np.isin(subs, [s for s in opts if s != "*"])
            types[sel] = _choose(rng, o, int(sel.sum()))
    return known, types


def _mistype(
    rng: np.random.Generator, types: np.ndarray, vocab: list[str], fraction: float = 0.05
) -> np.ndarray:
    """Replace ~``fraction`` of the types by another type of the catalog's vocabulary."""
    types = types.copy()
    wrong = np.flatnonzero(rng.random(types.size) < fraction)
    for i, j in zip(wrong, rng.integers(0, len(vocab) - 1, wrong.size), strict=True):
        others = [v for v in vocab if v != types[i]]
        types[i] = others[j % len(others)]
    return types


def _scatter(
    rng: np.random.Generator, ra: np.ndarray, dec: np.ndarray, arcsec: float
) -> tuple[np.ndarray, np.ndarray]:
    """Positions with Gaussian errors of ``arcsec`` per axis."""
    d = dec + rng.normal(0, arcsec / 3600, dec.size)
    r = np.mod(ra + rng.normal(0, arcsec / 3600, ra.size) / np.cos(np.radians(dec)), 360.0)
    return r, d


def _jname(ra: np.ndarray, dec: np.ndarray, ra_dp: int = 2, dec_dp: int = 1, dots: bool = True) -> list[str]:
    """IAU-style truncated sexagesimal names 'hhmmss.ss+ddmmss.s' (without dots for 2MASS style)."""
    out = []
    for r, d in zip(ra, dec, strict=True):
        h = r / 15.0
        hh, rem = int(h), (h - int(h)) * 60
        mm, ss = int(rem), (rem - int(rem)) * 60
        ss = np.floor(ss * 10**ra_dp) / 10**ra_dp
        sign = "+" if d >= 0 else "-"
        a = abs(d)
        dd, rem = int(a), (a - int(a)) * 60
        dm, ds = int(rem), (rem - int(rem)) * 60
        ds = np.floor(ds * 10**dec_dp) / 10**dec_dp
        txt = f"{hh:02d}{mm:02d}{ss:0{3 + ra_dp}.{ra_dp}f}{sign}{dd:02d}{dm:02d}{ds:0{3 + dec_dp}.{dec_dp}f}"
        out.append(txt if dots else txt.replace(".", ""))
    return out


def _random_positions(
    rng: np.random.Generator, n: int, quads: list[tuple[int, int, int]], inside: float
) -> tuple[np.ndarray, np.ndarray]:
    """Unrelated sky positions: a fraction ``inside`` within the simulated quadrants, the rest 4-10 deg away."""
    k = rng.integers(0, len(quads), n)
    centres = np.array([quadrant_centre(*q) for q in quads])
    fcent = np.array([field_centre(q[0]) for q in quads])
    ins = rng.random(n) < inside
    dec_in = centres[k, 1] + rng.uniform(-_QUAD_HALF, _QUAD_HALF, n)
    ra_in = centres[k, 0] + rng.uniform(-_QUAD_HALF, _QUAD_HALF, n) / np.cos(np.radians(dec_in))
    ang = rng.uniform(0, 2 * np.pi, n)
    rad = rng.uniform(4.0, 10.0, n)
    dec_out = np.clip(fcent[k, 1] + rad * np.sin(ang), -89.0, 89.0)
    ra_out = fcent[k, 0] + rad * np.cos(ang) / np.cos(np.radians(dec_out))
    return np.mod(np.where(ins, ra_in, ra_out), 360.0), np.where(ins, dec_in, dec_out)


def _gcvs_names(rng: np.random.Generator, ra: np.ndarray, start: int) -> list[str]:
    """GCVS-like variable-star designations 'V1234 Her' (constellation from an RA bin)."""
    con = [_CONSTELLATIONS[int(r // 15) % len(_CONSTELLATIONS)] for r in ra]
    return [f"V{start + i} {c}" for i, c in enumerate(con)]


def _gaia_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Gaia DR3-like source designations (19-digit numbers)."""
    return [f"Gaia DR3 {x}" for x in rng.integers(10**18, 7 * 10**18, n, dtype=np.int64)]


def _tns_names(rng: np.random.Generator, mjd: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Unique TNS-style names 'YYYYabc' for discovery dates; returns names and years."""
    years = np.array([int(s[:4]) for s in _iso(mjd)], dtype=int)
    names = np.empty(mjd.size, dtype=object)
    for y in np.unique(years):
        rows = np.flatnonzero(years == y)
        codes = rng.choice(26**3, rows.size, replace=False)
        letters = ["".join(chr(97 + (c // 26**p) % 26) for p in (2, 1, 0)) for c in codes]
        names[rows] = [f"{y}{s}" for s in letters]
    return list(names), years


def _is_sn_type(types: np.ndarray) -> np.ndarray:
    """TNS types that earn the 'SN' name prefix (spectroscopically classified supernovae)."""
    t = np.asarray(types, dtype=str)
    return np.char.startswith(t, "SN") | np.char.startswith(t, "SLSN")


def _write_catalogs(
    out_dir: Path,
    src: pd.DataFrame,
    rng: np.random.Generator,
    quads: list[tuple[int, int, int]],
    ctx: SampleContext,
    scatter: float,
) -> dict[str, int]:
    """Write simbad/vsx/tns parquet catalogs for the sky sources ``src``; return rows per catalog."""
    n = len(src)
    cls = src["class"].to_numpy()
    detected = np.isfinite(src["first_detection"].to_numpy())

    # TNS first, so SIMBAD can reuse the TNS names of the supernovae it knows
    t_known, t_type = _label(rng, _TNS, src)
    t_known &= detected
    sn_like = np.isin(cls, list(_TNS_SN))
    unclassified = sn_like & (rng.random(n) < 0.3)
    t_type = np.where(unclassified, "", t_type)
    kn = np.flatnonzero(t_known & (cls == "kilonova"))
    if kn.size >= 2:
        t_type[kn[0]] = "Kilonova"
    t_type = np.where(
        t_known & (rng.random(n) < 0.05) & sn_like & (t_type != ""),
        _mistype(rng, t_type, ["SN Ia", "SN II", "SN Ic", "SN Ib"], 1.0),
        t_type,
    )
    disc = src["first_detection"].to_numpy() + rng.uniform(-2.0, 3.0, n)
    idx = np.flatnonzero(t_known)
    names_t, _ = _tns_names(rng, disc[idx]) if idx.size else ([], None)
    tns_name = np.full(n, "", dtype=object)
    tns_name[idx] = names_t
    z = src["redshift"].to_numpy()
    has_z = (t_type != "") & sn_like & (rng.random(n) < np.where(cls == "tde", 0.9, 0.7))
    t_ra, t_dec = _scatter(rng, src["ra"].to_numpy(), src["dec"].to_numpy(), scatter * 1.3)
    tns = pd.DataFrame(
        {
            "name": tns_name[idx],
            "name_prefix": np.where(_is_sn_type(t_type[idx]), "SN", "AT")
            if idx.size
            else np.array([], dtype=str),
            "ra": t_ra[idx],
            "declination": t_dec[idx],
            "type": t_type[idx],
            "redshift": np.where(has_z, z + rng.normal(0, 0.001, n), np.nan)[idx],
            "discoverydate": _iso(disc[idx]),
        }
    )
    n_x = int(round(0.3 * len(tns))) + 5
    x_ra, x_dec = _random_positions(rng, n_x, quads, inside=0.7)
    x_disc = rng.uniform(ctx.start, ctx.end, n_x)
    x_type = _choose(rng, _TNS_EXTRA, n_x)
    x_names, _ = _tns_names(np.random.default_rng(rng.integers(2**32)), x_disc)
    x_names = [nm if nm not in set(names_t) else nm + "a" for nm in x_names]
    tns_x = pd.DataFrame(
        {
            "name": x_names,
            "name_prefix": np.where(_is_sn_type(x_type), "SN", "AT"),
            "ra": x_ra,
            "declination": x_dec,
            "type": x_type,
            "redshift": np.where(
                (x_type != "") & (rng.random(n_x) < 0.6), rng.uniform(0.01, 0.15, n_x), np.nan
            ),
            "discoverydate": _iso(x_disc),
        }
    )
    tns = pd.concat([tns, tns_x], ignore_index=True)

    # SIMBAD
    mean_r = src["mean_r"].to_numpy()
    p_star = np.where(mean_r < 17, 0.45, np.where(mean_r < 19, 0.15, 0.05))
    s_known, s_type = _label(rng, _SIMBAD, src, known_override=p_star)
    s_type = _mistype(rng, s_type, CATALOG_TYPES["simbad"], 0.05)
    ids = np.array(_gaia_ids(rng, n), dtype=object)
    var_like = np.isin(
        s_type, ["V*", "RR*", "cC*", "Ce*", "WV*", "EB*", "dS*", "Mi*", "LP*", "CV*", "Pu*", "AB*"]
    )
    gcvs = var_like & (rng.random(n) < 0.5)
    ids[gcvs] = ["V* " + s for s in _gcvs_names(rng, src["ra"].to_numpy()[gcvs], 400)]
    extragal = np.isin(s_type, ["QSO", "AGN", "Bla", "Sy1", "G"])
    ids[extragal] = [
        "SDSS J" + s for s in _jname(src["ra"].to_numpy()[extragal], src["dec"].to_numpy()[extragal])
    ]
    young = np.isin(s_type, ["Y*O", "TT*", "Or*"])
    ids[young] = [
        "2MASS J" + s
        for s in _jname(src["ra"].to_numpy()[young], src["dec"].to_numpy()[young], 2, 1, dots=False)
    ]
    sn = np.isin(s_type, ["SN*", "ev"])
    sn_names = np.where(tns_name != "", tns_name, "")
    fallback = np.flatnonzero(sn & (sn_names == ""))
    if fallback.size:
        fb, _ = _tns_names(
            np.random.default_rng(rng.integers(2**32)),
            np.nan_to_num(src["first_detection"].to_numpy()[fallback], posinf=ctx.start),
        )
        sn_names[fallback] = [f"{nm}x" for nm in fb]
    ids[sn] = [("SN " if t == "SN*" else "AT ") + nm for t, nm in zip(s_type[sn], sn_names[sn], strict=True)]
    lens = s_type == "Lev"
    ids[lens] = [
        f"Gaia{19 + i % 3}{chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}{chr(97 + (i // 676) % 26)}"
        for i in range(int(lens.sum()))
    ]
    s_ra, s_dec = _scatter(rng, src["ra"].to_numpy(), src["dec"].to_numpy(), scatter)
    idx = np.flatnonzero(s_known)
    simbad = pd.DataFrame({"main_id": ids[idx], "ra": s_ra[idx], "dec": s_dec[idx], "otype": s_type[idx]})
    n_x = int(round(0.15 * len(simbad))) + 10
    x_ra, x_dec = _random_positions(rng, n_x, quads, inside=0.6)
    x_type = _choose(rng, _SIMBAD_EXTRA, n_x)
    x_ids = np.array(_gaia_ids(rng, n_x), dtype=object)
    gal = x_type == "G"
    x_ids[gal] = [f"LEDA {v}" for v in rng.integers(10**5, 5 * 10**6, int(gal.sum()))]
    simbad = pd.concat(
        [simbad, pd.DataFrame({"main_id": x_ids, "ra": x_ra, "dec": x_dec, "otype": x_type})],
        ignore_index=True,
    )

    # VSX
    v_known, v_type = _label(rng, _VSX, src)
    v_type = _mistype(rng, v_type, CATALOG_TYPES["vsx"], 0.05)
    period = src["period"].to_numpy()
    sub = src["subclass"].to_numpy()
    v_period = np.where(np.isin(cls, list(_VSX_PERIODIC)), period * (1 + rng.normal(0, 0.001, n)), np.nan)
    v_period = np.where((sub == "EW") & (rng.random(n) < 0.08), v_period / 2, v_period)
    v_period = np.where((sub == "SR") & (rng.random(n) < 0.3), np.nan, v_period)
    v_period = np.where(sub == "mira", period * (1 + rng.normal(0, 0.01, n)), v_period)
    uncertain = rng.random(n) < 0.05
    v_type = np.where(uncertain & (v_type != ""), v_type.astype(str) + ":", v_type)
    u = rng.random(n)
    jn = _jname(src["ra"].to_numpy(), src["dec"].to_numpy())
    v_name = np.where(
        u < 0.45,
        np.array(["ZTF J" + s for s in jn], dtype=object),
        np.where(
            u < 0.7,
            np.array(["ASASSN-V J" + s for s in jn], dtype=object),
            np.array(
                [f"ATO J{r:08.4f}{d:+08.4f}" for r, d in zip(src["ra"], src["dec"], strict=True)],
                dtype=object,
            ),
        ),
    )
    gc = u > 0.88
    v_name[gc] = _gcvs_names(rng, src["ra"].to_numpy()[gc], 3000)
    v_ra, v_dec = _scatter(rng, src["ra"].to_numpy(), src["dec"].to_numpy(), scatter)
    idx = np.flatnonzero(v_known)
    vsx = pd.DataFrame(
        {
            "name": v_name[idx],
            "ra": v_ra[idx],
            "dec": v_dec[idx],
            "vtype": v_type[idx],
            "period": v_period[idx],
        }
    )
    n_x = int(round(0.1 * len(vsx))) + 5
    x_ra, x_dec = _random_positions(rng, n_x, quads, inside=0.5)
    x_type = _choose(
        rng, [("EW", 0.3), ("RRAB", 0.2), ("SR", 0.2), ("EA", 0.15), ("DSCT", 0.1), ("M", 0.05)], n_x
    )
    x_per = np.where(
        x_type == "SR",
        rng.uniform(30, 200, n_x),
        np.where(x_type == "M", rng.uniform(150, 500, n_x), rng.uniform(0.05, 3, n_x)),
    )
    x_name = ["ZTF J" + s for s in _jname(x_ra, x_dec)]
    vsx = pd.concat(
        [vsx, pd.DataFrame({"name": x_name, "ra": x_ra, "dec": x_dec, "vtype": x_type, "period": x_per})],
        ignore_index=True,
    )

    rows = {}
    for name, df in (("simbad", simbad), ("vsx", vsx), ("tns", tns)):
        df = df.sort_values(["ra", df.columns[0]], kind="stable").reset_index(drop=True)
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].astype(str)
        write_parquet(pa.Table.from_pandas(df, preserve_index=False), out_dir / f"{name}.parquet")
        rows[name] = len(df)
    return rows
