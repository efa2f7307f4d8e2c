"""Physical light-curve models of the demo survey's source classes, vectorised over sources and epochs.

Every class has a sampler, ``sample(rng, fields, ctx) -> Params``, that draws per-source parameters
(including the truth columns: per-band mean/peak magnitude, amplitude, period, t0, redshift), and an
evaluator, ``evaluate(params, t, band, rng) -> mag`` returning true (noise-free) apparent magnitudes of
shape ``(n_sources, n_epochs)`` at the epochs ``t`` whose band indices (0 g, 1 r, 2 i) are ``band``.
``inf`` means no flux (a host-less transient before or long after its event). Stochastic classes
(AGN, YSO, LPV cycle-to-cycle changes, flares, artefacts) draw their randomness from the ``rng`` handed
to the evaluator, so one call over the union of a field's g/r/i epochs gives band-consistent curves.

Conventions of the truth parameters (what ``t0``, ``mean`` and ``amp`` mean per class):

- periodic pulsators (rrlyrae, cepheid, delta_scuti, lpv/mira): ``t0`` = epoch of maximum light,
  ``mean`` = time-averaged magnitude, ``amp`` = peak-to-peak amplitude of the band.
- eclipsing_binary: ``t0`` = epoch of primary minimum, ``mean`` = out-of-eclipse (maximum-light)
  magnitude, ``amp`` = depth of the primary minimum; ``period`` is the orbital period.
- agn: ``mean`` = mean magnitude, ``amp`` = structure function SF_inf of the band, ``period`` = NaN
  (the damped-random-walk timescale tau is kept as ``extra['tau']``), ``redshift`` set.
- yso, flare, cv, microlensing, artefact: ``mean`` = quiescent/baseline magnitude; ``amp`` = largest
  dip/burst/outburst/magnification/offset in magnitudes; cv ``period`` = mean recurrence time; ``t0`` =
  microlensing peak, first cv outburst, or artefact step/night time.
- transients (snia, snii, snibc, slsn, tde, kilonova): ``t0`` = epoch of r-band maximum (observer
  frame), ``mean`` = peak apparent magnitude of the band, ``amp`` = NaN, ``redshift`` set. Their
  light curves are host-less: zero flux outside the event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

__all__ = [
    "CLASSES",
    "DEFAULT_CLASS_FRACTIONS",
    "Params",
    "SampleContext",
    "MODELS",
    "distance_modulus",
    "drw",
    "grid_peaks",
]

#: Class names, in the order used everywhere (truth table, summaries).
CLASSES: tuple[str, ...] = (
    "constant",
    "rrlyrae",
    "cepheid",
    "eclipsing_binary",
    "delta_scuti",
    "lpv",
    "agn",
    "yso",
    "snia",
    "snii",
    "snibc",
    "slsn",
    "tde",
    "kilonova",
    "microlensing",
    "flare",
    "cv",
    "artefact",
)

#: Built-in mix: constants 90 %, periodic 5 %, stochastic 2 %, transients 2 %, rare 0.5 %, artefacts 0.5 %.
DEFAULT_CLASS_FRACTIONS: dict[str, float] = {
    "constant": 0.900,
    "rrlyrae": 0.012,
    "cepheid": 0.004,
    "eclipsing_binary": 0.020,
    "delta_scuti": 0.008,
    "lpv": 0.006,
    "agn": 0.013,
    "yso": 0.007,
    "snia": 0.009,
    "snii": 0.006,
    "snibc": 0.0025,
    "slsn": 0.001,
    "tde": 0.0015,
    "kilonova": 0.0005,
    "microlensing": 0.001,
    "flare": 0.002,
    "cv": 0.0015,
    "artefact": 0.005,
}

_C_KM_S = 299792.458
_H0 = 70.0
_Q0 = -0.55  # deceleration parameter of a flat LCDM with Omega_m = 0.3


def distance_modulus(z: np.ndarray) -> np.ndarray:
    """Distance modulus from a second-order luminosity distance, d_L = c z / H0 (1 + (1 - q0) z / 2)."""
    z = np.asarray(z, dtype=float)
    d_l_mpc = _C_KM_S / _H0 * z * (1.0 + 0.5 * (1.0 - _Q0) * z)
    return 5.0 * np.log10(d_l_mpc * 1e6 / 10.0)


@dataclass
class Params:
    """Per-source parameters of one class: the truth columns plus model-specific ``extra`` arrays."""

    subclass: np.ndarray
    mean: np.ndarray  # (n, 3) g, r, i magnitudes
    amp: np.ndarray  # (n, 3)
    period: np.ndarray
    t0: np.ndarray
    redshift: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of sources."""
        return len(self.subclass)

    def take(self, idx: np.ndarray) -> Params:
        """The parameters of a subset of the sources (rows ``idx``)."""
        return Params(
            subclass=self.subclass[idx],
            mean=self.mean[idx],
            amp=self.amp[idx],
            period=self.period[idx],
            t0=self.t0[idx],
            redshift=self.redshift[idx],
            extra={k: v[idx] for k, v in self.extra.items()},
        )


@dataclass
class SampleContext:
    """What a sampler may know about the survey: its time span and each field's r-band epochs."""

    start: float
    end: float
    epochs: dict[int, np.ndarray]  # field id -> sorted r-band epoch times


def _new(n: int, subclass: str | np.ndarray = "") -> Params:
    """Empty parameters (NaN everywhere) for n sources."""
    if isinstance(subclass, str):
        sub = np.empty(n, dtype=object)
        sub[:] = subclass  # one string shared by all (np.full would make a string per source)
    else:
        sub = subclass.astype(object)
    nan = np.full(n, np.nan)
    return Params(sub, np.full((n, 3), np.nan), np.full((n, 3), np.nan), nan.copy(), nan.copy(), nan.copy())


# --------------------------------------------------------------------------------------------------
# small helpers


def _powerlaw_mag(rng: np.random.Generator, n: int, lo: float, hi: float, slope: float) -> np.ndarray:
    """Magnitudes with number counts dN/dm ~ 10**(slope m) between lo and hi (stars: slope ~0.3)."""
    a, b = 10 ** (slope * lo), 10 ** (slope * hi)
    return np.log10(a + rng.random(n) * (b - a)) / slope


def _loguniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """Log-uniform draws in [lo, hi)."""
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _volume_z(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """Redshifts uniform in (Euclidean) volume, p(z) ~ z**2, between lo and hi."""
    return np.cbrt(lo**3 + rng.random(n) * (hi**3 - lo**3))


def _stellar_colours(
    rng: np.random.Generator, n: int, red_fraction: float = 0.4
) -> tuple[np.ndarray, np.ndarray]:
    """g-r and r-i of field stars: a turn-off/disc (g-r ~0.55) plus an M-dwarf (g-r ~1.3) population."""
    red = rng.random(n) < red_fraction
    gr = np.where(red, rng.normal(1.3, 0.15, n), rng.normal(0.55, 0.15, n))
    gr = np.clip(gr, 0.1, 1.65)
    ri = 0.38 * gr - 0.08 + np.clip(gr - 1.2, 0, None) * 2.2 + rng.normal(0, 0.04, n)
    return gr, ri


def _set_mean(p: Params, r: np.ndarray, gr: np.ndarray, ri: np.ndarray) -> None:
    """Fill the per-band mean magnitudes from r and the colours."""
    p.mean[:, 0] = r + gr
    p.mean[:, 1] = r
    p.mean[:, 2] = r - ri


def _phase(t: np.ndarray, t0: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Phase in [0, 1) of each (source, epoch)."""
    return np.mod((t[None, :] - t0[:, None]) / period[:, None], 1.0)


def _pulsation_template(rise: float, n_harmonics: int, n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """A smooth pulsation shape in magnitudes: 0 at maximum light (phase 0), 1 at minimum.

    A slow linear fade over 1 - rise of the cycle and a fast brightening over ``rise``, truncated to
    ``n_harmonics`` Fourier terms (RRab: fast rise, ~8 harmonics; Cepheids fewer; RRc almost sinusoidal).
    """
    x = np.arange(n) / n
    w = np.where(x < 1 - rise, x / (1 - rise), (1 - x) / rise)
    spec = np.fft.rfft(w)
    spec[n_harmonics + 1 :] = 0
    tpl = np.fft.irfft(spec, n)
    tpl = np.roll(tpl, -int(np.argmin(tpl)))
    tpl = (tpl - tpl.min()) / (tpl.max() - tpl.min())
    return np.append(x, 1.0), np.append(tpl, tpl[0])


_TEMPLATES = {
    "RRab": _pulsation_template(0.15, 8),
    "RRc": _pulsation_template(0.40, 3),
    "DCEP": _pulsation_template(0.30, 5),
    "CW": _pulsation_template(0.25, 5),
    "HADS": _pulsation_template(0.35, 4),
    "sine": _pulsation_template(0.50, 1),
    "mira": _pulsation_template(0.42, 2),
}


def _template_mag(p: Params, phase: np.ndarray, band: np.ndarray, names: np.ndarray) -> np.ndarray:
    """mean + amp * (template - <template>) with the template chosen per source by ``names``."""
    shape = np.empty_like(phase)
    for name in np.unique(names):
        rows = names == name
        x, tpl = _TEMPLATES[name]
        shape[rows] = np.interp(phase[rows], x, tpl) - tpl[:-1].mean()
    return p.mean[:, band] + p.amp[:, band] * shape


def drw(t: np.ndarray, tau: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Damped random walk (Ornstein-Uhlenbeck, stationary std ``sigma``) sampled exactly at sorted times.

    Vectorised over sources: x_k = sum_j eps_j exp(-(t_k - t_j)/tau) is a cumulative sum, evaluated in
    time blocks short enough (< 300 tau) that exp(t/tau) cannot overflow.
    """
    n, m = tau.size, t.size
    out = np.empty((n, m))
    if m == 0 or n == 0:
        return out
    tau_c, sig_c = tau[:, None], sigma[:, None]
    dt = np.diff(t, prepend=t[0])
    z = rng.standard_normal((n, m))
    eps = sig_c * np.sqrt(-np.expm1(-2 * dt[None, :] / tau_c)) * z
    eps[:, 0] = sigma * z[:, 0]
    block = 300.0 * float(tau.min())
    start = 0
    while start < m:
        stop = int(np.searchsorted(t, t[start] + block, side="right"))
        tb = t[start:stop] - t[start]
        w = np.exp(tb[None, :] / tau_c)
        x = np.cumsum(eps[:, start:stop] * w, axis=1) / w
        if start > 0:
            x += out[:, start - 1 : start] * np.exp(-(t[start:stop][None, :] - t[start - 1]) / tau_c)
        out[:, start:stop] = x
        start = stop
    return out


def _draw_epochs(
    rng: np.random.Generator,
    fields: np.ndarray,
    ctx: SampleContext,
    before: tuple[float, float] = (8.0, 25.0),
    after: tuple[float, float] = (8.0, 25.0),
) -> np.ndarray:
    """Pick an observed r-band epoch per source (of its field) with epochs also observed around it.

    Prefers epochs with at least one other epoch ``before`` days earlier and ``after`` days later, so
    that most transient peaks fall inside observing seasons with a rise and a decline sampled.
    A field without r-band epochs gets uniform times over the survey.
    """
    out = np.empty(len(fields))
    for f in np.unique(fields):
        rows = np.flatnonzero(fields == f)
        e = ctx.epochs[int(f)]
        if e.size == 0:  # a field never observed in r (short survey out of season): any time will do
            out[rows] = rng.uniform(ctx.start, ctx.end, rows.size)
            continue

        def has(lo: np.ndarray, hi: np.ndarray, e: np.ndarray = e) -> np.ndarray:
            """Whether any epoch of e falls in [lo, hi] (elementwise)."""
            return np.searchsorted(e, hi, side="right") > np.searchsorted(e, lo, side="left")

        good = has(e - before[1], e - before[0]) & has(e + after[0], e + after[1])
        pool = e[good] if good.any() else e
        out[rows] = pool[rng.integers(0, len(pool), len(rows))]
    return out


# --------------------------------------------------------------------------------------------------
# constant stars


def sample_constant(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Non-variable field stars with r in 14-20.6 and star-count-like magnitudes (more faint ones)."""
    n = len(fields)
    p = _new(n, "star")
    gr, ri = _stellar_colours(rng, n)
    _set_mean(p, _powerlaw_mag(rng, n, 14.0, 20.6, 0.3), gr, ri)
    p.amp[:] = 0.0
    return p


def eval_constant(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A constant magnitude per band."""
    return np.broadcast_to(p.mean[:, band], (p.n, t.size)).copy()


# --------------------------------------------------------------------------------------------------
# periodic variables


def eval_pulsator(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """RR Lyrae and Cepheids: each source's subclass template (RRab/RRc Fourier, DCEP/CW sawtooth) folded at
    its period; the per-band amplitudes make g vary most (bluer when brighter)."""
    return _template_mag(p, _phase(t, p.t0, p.period), band, p.subclass)


def sample_rrlyrae(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """RR Lyrae: 75 % RRab (P 0.45-0.75 d, sawtooth, Bailey-diagram amplitudes), 25 % RRc (P 0.25-0.42 d)."""
    n = len(fields)
    ab = rng.random(n) < 0.75
    p = _new(n, np.where(ab, "RRab", "RRc"))
    p.period = np.where(ab, rng.uniform(0.45, 0.75, n), rng.uniform(0.25, 0.42, n))
    amp_g = np.where(
        ab,
        np.clip(1.05 - 1.3 * (p.period - 0.45) + rng.normal(0, 0.08, n), 0.45, 1.2),
        rng.uniform(0.25, 0.55, n),
    )
    p.amp = amp_g[:, None] * np.array([1.0, 0.76, 0.6])
    _set_mean(p, _powerlaw_mag(rng, n, 14.5, 19.6, 0.15), rng.normal(0.28, 0.06, n), rng.normal(0.1, 0.04, n))
    p.t0 = ctx.start + rng.random(n) * p.period
    return p


def sample_cepheid(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Cepheids: 85 % classical (DCEP, P 3-50 d log-uniform), 15 % type II (CW, P 3-25 d); r 12.5-17."""
    n = len(fields)
    classical = rng.random(n) < 0.85
    p = _new(n, np.where(classical, "DCEP", "CW"))
    p.period = np.where(classical, _loguniform(rng, 3.0, 50.0, n), _loguniform(rng, 3.0, 25.0, n))
    amp_g = np.clip(0.45 + 0.4 * np.log10(p.period / 3.0) + rng.normal(0, 0.1, n), 0.3, 1.3)
    p.amp = amp_g[:, None] * np.array([1.0, 0.66, 0.5])
    _set_mean(p, rng.uniform(12.5, 17.0, n), rng.normal(0.8, 0.15, n), rng.normal(0.35, 0.06, n))
    p.t0 = ctx.start + rng.random(n) * p.period
    return p


def sample_eclipsing_binary(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Eclipsing binaries: 50 % EA (detached, P 0.6-5 d, narrow eclipses), 40 % EW (contact), 10 % EB."""
    n = len(fields)
    u = rng.random(n)
    sub = np.where(u < 0.5, "EA", np.where(u < 0.9, "EW", "EB"))
    p = _new(n, sub)
    ea, ew = sub == "EA", sub == "EW"
    p.period = np.where(
        ea,
        _loguniform(rng, 0.6, 5.0, n),
        np.where(ew, rng.uniform(0.25, 0.5, n), _loguniform(rng, 0.5, 3.0, n)),
    )
    depth1 = np.where(
        ea, rng.uniform(0.3, 1.2, n), np.where(ew, rng.uniform(0.2, 0.6, n), rng.uniform(0.2, 0.5, n))
    )
    depth2 = np.where(
        ea,
        depth1 * rng.uniform(0.05, 0.6, n),
        np.where(ew, rng.uniform(0.0, 0.1, n), rng.uniform(0.1, 0.4, n)),
    )
    p.extra["depth2"] = depth2
    p.extra["width"] = rng.uniform(0.02, 0.045, n) * (1.0 + 0.3 / p.period) ** 0.5
    p.extra["phase2"] = 0.5 + np.where(ea, rng.normal(0, 0.01, n), 0.0)
    chroma = np.array([1.06, 1.0, 0.95])
    total = np.where(ea, depth1, depth1 + depth2)
    p.amp = total[:, None] * chroma
    p.extra["depth1"] = depth1
    gr = np.clip(rng.normal(0.5, 0.2, n), 0.0, 1.4)
    _set_mean(p, _powerlaw_mag(rng, n, 13.0, 19.5, 0.25), gr, 0.38 * gr - 0.06)
    p.t0 = ctx.start + rng.random(n) * p.period
    return p


def eval_eclipsing_binary(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """EA: Gaussian-core eclipses at phases 0 and ~0.5; EW/EB: continuous double-humped variation."""
    ph = _phase(t, p.t0, p.period)
    chroma = np.array([1.06, 1.0, 0.95])[band][None, :]
    d1, d2 = p.extra["depth1"][:, None], p.extra["depth2"][:, None]
    w = p.extra["width"][:, None]
    x1 = (np.mod(ph + 0.5, 1.0) - 0.5) / w
    x2 = (np.mod(ph - p.extra["phase2"][:, None] + 0.5, 1.0) - 0.5) / w
    detached = d1 * np.exp(-0.5 * np.abs(x1) ** 2.4) + d2 * np.exp(-0.5 * np.abs(x2) ** 2.4)
    contact = d1 * 0.5 * (1 + np.cos(4 * np.pi * ph)) + d2 * 0.5 * (1 + np.cos(2 * np.pi * ph))
    shape = np.where((p.subclass == "EA")[:, None], detached, contact)
    return p.mean[:, band] + chroma * shape


def sample_delta_scuti(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """delta Scuti: P 0.03-0.2 d; 75 % low-amplitude DSCT (two modes), 25 % HADS (0.3-0.8 mag)."""
    n = len(fields)
    hads = rng.random(n) < 0.25
    p = _new(n, np.where(hads, "HADS", "DSCT"))
    p.period = _loguniform(rng, 0.03, 0.2, n)
    amp_g = np.where(hads, rng.uniform(0.3, 0.8, n), rng.uniform(0.03, 0.15, n))
    p.amp = amp_g[:, None] * np.array([1.0, 0.75, 0.6])
    p.extra["period2"] = p.period / 1.29  # first overtone / fundamental ~0.773
    p.extra["amp2"] = np.where(hads, 0.1, rng.uniform(0.2, 0.6, n))
    p.extra["phi2"] = rng.uniform(0, 2 * np.pi, n)
    _set_mean(p, _powerlaw_mag(rng, n, 13.5, 18.8, 0.2), rng.normal(0.18, 0.08, n), rng.normal(0.05, 0.03, n))
    p.t0 = ctx.start + rng.random(n) * p.period
    return p


def eval_delta_scuti(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sinusoidal (DSCT) or skewed (HADS) pulsation plus a weaker overtone mode."""
    names = np.where(p.subclass == "HADS", "HADS", "sine")
    main = _template_mag(p, _phase(t, p.t0, p.period), band, names)
    second = np.sin(
        2 * np.pi * (t[None, :] - p.t0[:, None]) / p.extra["period2"][:, None] + p.extra["phi2"][:, None]
    )
    return main + 0.5 * p.amp[:, band] * p.extra["amp2"][:, None] * second


def sample_lpv(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Long-period variables: 50 % Miras (P 150-500 d, 2.5-5 mag in r), 35 % semi-regular, 15 % irregular."""
    n = len(fields)
    u = rng.random(n)
    sub = np.where(u < 0.5, "mira", np.where(u < 0.85, "SR", "L"))
    p = _new(n, sub)
    mira, sr = sub == "mira", sub == "SR"
    p.period = np.where(mira, rng.uniform(150, 500, n), np.where(sr, _loguniform(rng, 30, 200, n), np.nan))
    amp_r = np.where(
        mira, rng.uniform(2.5, 5.0, n), np.where(sr, rng.uniform(0.2, 1.0, n), rng.uniform(0.3, 0.8, n))
    )
    amp_g = amp_r * np.where(mira, rng.uniform(1.15, 1.4, n), 1.3)
    p.amp = np.column_stack([amp_g, amp_r, amp_r * 0.6])
    r = np.where(mira, rng.uniform(13.0, 17.5, n), rng.uniform(13.0, 17.0, n))
    _set_mean(
        p,
        r,
        np.where(mira, rng.uniform(1.5, 2.3, n), rng.uniform(1.3, 1.8, n)),
        np.where(mira, rng.uniform(1.2, 2.0, n), rng.uniform(0.8, 1.4, n)),
    )
    p.t0 = ctx.start + rng.random(n) * np.nan_to_num(p.period, nan=100.0)
    p.t0[sub == "L"] = np.nan
    n_cyc = int(np.ceil((ctx.end - ctx.start) / 150.0)) + 3
    p.extra["cycle_amp"] = 1.0 + 0.12 * rng.standard_normal((n, n_cyc))
    p.extra["cycle_mean"] = 0.15 * rng.standard_normal((n, n_cyc))
    p.extra["period2"] = np.nan_to_num(p.period, nan=100.0) * rng.uniform(1.8, 2.2, n)
    p.extra["phi2"] = rng.uniform(0, 2 * np.pi, n)
    p.extra["tau"] = np.where(sub == "L", rng.uniform(50, 200, n), rng.uniform(30, 80, n))
    p.extra["sigma"] = np.where(sub == "L", amp_r / 2.5, np.where(sr, 0.08, 0.0))
    return p


def eval_lpv(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Miras: asymmetric cycles with cycle-to-cycle amplitude/mean changes; SR: two beating modes + noise."""
    n = p.n
    per = np.nan_to_num(p.period, nan=100.0)
    cyc = (t[None, :] - np.nan_to_num(p.t0, nan=0.0)[:, None]) / per[:, None]
    k = np.clip(np.floor(cyc).astype(int), 0, p.extra["cycle_amp"].shape[1] - 2)
    frac = np.clip(cyc - k, 0.0, 1.0)
    amp_mod = (
        np.take_along_axis(p.extra["cycle_amp"], k, 1) * (1 - frac)
        + np.take_along_axis(p.extra["cycle_amp"], k + 1, 1) * frac
    )
    mean_mod = (
        np.take_along_axis(p.extra["cycle_mean"], k, 1) * (1 - frac)
        + np.take_along_axis(p.extra["cycle_mean"], k + 1, 1) * frac
    )
    mira_shape = np.interp(np.mod(cyc, 1.0), *_TEMPLATES["mira"]) - _TEMPLATES["mira"][1][:-1].mean()
    sr_shape = 0.5 * (
        -np.cos(2 * np.pi * cyc)
        + 0.5
        * np.sin(
            2 * np.pi * (t[None, :] - np.nan_to_num(p.t0, nan=0.0)[:, None]) / p.extra["period2"][:, None]
            + p.extra["phi2"][:, None]
        )
    )
    is_mira = (p.subclass == "mira")[:, None]
    is_sr = (p.subclass == "SR")[:, None]
    shape = np.where(is_mira, mira_shape * amp_mod + mean_mod / p.amp[:, 1:2], np.where(is_sr, sr_shape, 0.0))
    noise = drw(t, p.extra["tau"], np.maximum(p.extra["sigma"], 1e-6), rng) if n else np.zeros((0, t.size))
    scale = p.amp[:, band] / p.amp[:, 1:2]
    return p.mean[:, band] + p.amp[:, band] * shape + scale * noise


# --------------------------------------------------------------------------------------------------
# stochastic variables


def sample_agn(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """AGN/QSO: damped random walk, tau 100-500 d, SF_inf(r) 0.1-0.35 mag, bluer when brighter."""
    n = len(fields)
    qso = rng.random(n) < 0.8
    p = _new(n, np.where(qso, "QSO", "Sy1"))
    p.redshift = np.where(qso, rng.uniform(0.3, 2.5, n), rng.uniform(0.03, 0.3, n))
    _set_mean(p, _powerlaw_mag(rng, n, 17.0, 20.3, 0.35), rng.uniform(0.0, 0.35, n), rng.uniform(0.0, 0.3, n))
    sf = _loguniform(rng, 0.1, 0.35, n)
    p.amp = sf[:, None] * np.array([1.25, 1.0, 0.85])
    p.extra["tau"] = _loguniform(rng, 100.0, 500.0, n)
    return p


def eval_agn(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One DRW per source, scaled per band (g varies 1.25x r): redder when fainter."""
    x = drw(t, p.extra["tau"], p.amp[:, 1] / np.sqrt(2.0), rng)
    return p.mean[:, band] + x * (p.amp[:, band] / p.amp[:, 1:2])


def sample_yso(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Young stellar objects: 55 % dippers (extinction events), 30 % bursters, 15 % irregular; all DRW."""
    n = len(fields)
    u = rng.random(n)
    sub = np.where(u < 0.55, "dipper", np.where(u < 0.85, "burster", "irregular"))
    p = _new(n, sub)
    _set_mean(p, rng.uniform(14.5, 18.5, n), rng.uniform(0.9, 1.6, n), rng.uniform(0.5, 1.0, n))
    irr = sub == "irregular"
    p.extra["tau"] = np.where(irr, rng.uniform(5, 30, n), rng.uniform(3, 20, n))
    p.extra["sigma"] = np.where(irr, rng.uniform(0.2, 0.45, n), rng.uniform(0.03, 0.12, n))
    span = ctx.end - ctx.start
    rate = np.where(
        sub == "dipper",
        1 / rng.uniform(15, 60, n),
        np.where(sub == "burster", 1 / rng.uniform(40, 150, n), 0.0),
    )
    n_ev = int(np.ceil(1.3 * (span + 60) / 15.0)) + 10
    counts = rng.poisson(rate * (span + 60))
    times = ctx.start - 30 + rng.random((n, n_ev)) * (span + 60)
    alive = np.arange(n_ev)[None, :] < counts[:, None]
    size = np.where(
        (sub == "dipper")[:, None],
        rng.uniform(0.2, 1.5, (n, 1)) * rng.uniform(0.3, 1.0, (n, n_ev)),
        rng.uniform(0.3, 1.5, (n, 1)) * rng.uniform(0.4, 1.0, (n, n_ev)),
    )
    p.extra["ev_time"] = times
    p.extra["ev_size"] = np.where(alive, size, 0.0)
    p.extra["ev_width"] = rng.uniform(0.5, 4.0, (n, n_ev))
    p.extra["ev_rise"] = rng.uniform(1.0, 3.0, (n, n_ev))
    p.extra["ev_decay"] = rng.uniform(5.0, 20.0, (n, n_ev))
    chroma = np.where((sub == "burster")[:, None], np.array([1.3, 1.0, 0.8]), np.array([1.35, 1.0, 0.75]))
    p.extra["chroma"] = chroma
    biggest = np.max(p.extra["ev_size"], axis=1)
    p.amp = np.maximum(biggest, 2.5 * p.extra["sigma"])[:, None] * chroma
    return p


def eval_yso(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """DRW jitter plus Gaussian extinction dips (deeper in g) or fast-rise/slow-decay bursts (bluer)."""
    base = drw(t, p.extra["tau"], p.extra["sigma"], rng)
    dt = t[None, None, :] - p.extra["ev_time"][:, :, None]
    size = p.extra["ev_size"][:, :, None]
    dips = np.sum(size * np.exp(-0.5 * (dt / p.extra["ev_width"][:, :, None]) ** 2), axis=1)
    scale = np.where(dt < 0, p.extra["ev_rise"][:, :, None], p.extra["ev_decay"][:, :, None])
    bursts = np.sum(size * np.exp(-np.abs(dt) / scale), axis=1)
    events = np.where(
        (p.subclass == "dipper")[:, None], dips, np.where((p.subclass == "burster")[:, None], -bursts, 0.0)
    )
    chroma = p.extra["chroma"][:, band]
    return p.mean[:, band] + base * chroma + events * chroma


# --------------------------------------------------------------------------------------------------
# extragalactic transients: Delta-magnitude shapes in the rest frame, normalised to the r-band peak

_TAU_GRID = np.concatenate([np.linspace(-5, 10, 1501), np.linspace(10.1, 700, 6900)])


def _bazin_dm(tau: np.ndarray, band: np.ndarray, e: dict[str, np.ndarray], t_mid: float) -> np.ndarray:
    """Bazin flux exp(-(tau-t_mid)/tau_fall_b) / (1 + exp(-(tau-t_mid)/tau_rise)) as magnitudes, 0 flux before tau=0."""
    x = tau - t_mid
    flux = e["colour_k"][:, band] * np.exp(-x / e["tau_fall"][:, band]) * expit(x / e["tau_rise"][:, None])
    if "bump" in e:
        flux = flux + e["bump"][:, band] * np.exp(-0.5 * ((x - e["bump_t"][:, None]) / 7.0) ** 2)
    flux = np.where(tau > 0, flux, 0.0)
    with np.errstate(divide="ignore"):
        return -2.5 * np.log10(flux)


def _dm_snia(tau: np.ndarray, band: np.ndarray, e: dict[str, np.ndarray]) -> np.ndarray:
    """SN Ia: ~18-20 d rest-frame rise, g declines fastest (reddening after peak), r/i secondary bump."""
    return _bazin_dm(tau, band, e, 13.0)


def _dm_snibc(tau: np.ndarray, band: np.ndarray, e: dict[str, np.ndarray]) -> np.ndarray:
    """SN Ib/c: faster and redder Bazin light curve."""
    return _bazin_dm(tau, band, e, 10.0)


def _dm_slsn(tau: np.ndarray, band: np.ndarray, e: dict[str, np.ndarray]) -> np.ndarray:
    """Superluminous SN: slow Bazin (rise ~40-60 d rest, decline tens of days)."""
    return _bazin_dm(tau, band, e, 35.0)


def _dm_snii(tau: np.ndarray, band: np.ndarray, e: dict[str, np.ndarray]) -> np.ndarray:
    """SN II-P: fast rise, ~100 d plateau declining slowly (faster in g), a drop of ~2 mag, then the Co tail."""
    slope = e["slope"][:, band]
    tp, drop = e["t_plateau"][:, None], e["drop"][:, band]
    s = expit((tau - tp) / 4.0)
    m = (1 - s) * slope * tau + s * (slope * tp + drop + 0.0098 * (tau - tp))
    with np.errstate(divide="ignore", invalid="ignore"):
        rise = -2.5 * np.log10(-np.expm1(-np.maximum(tau, 0.0) / e["tau_rise"][:, None]))
    return np.where(tau > 0, m + rise + e["colour"][:, band], np.inf)


def _dm_tde(tau: np.ndarray, band: np.ndarray, e: dict[str, np.ndarray]) -> np.ndarray:
    """TDE: Gaussian rise, t^-5/3 power-law decline, constantly blue colours."""
    sig, td = e["sigma_rise"][:, None], e["tau_decline"][:, None]
    tp = 3.0 * sig
    with np.errstate(divide="ignore"):
        flux = np.where(
            tau < tp,
            np.exp(-0.5 * ((tau - tp) / sig) ** 2),
            (np.maximum(tau - tp, 0.0) / td + 1) ** (-5.0 / 3.0),
        )
        dm = -2.5 * np.log10(np.where(tau > 0, flux, 0.0))
    return dm + e["colour"][:, band] + 0.001 * np.maximum(tau - tp, 0) * (band == 0)[None, :]


def _dm_kilonova(tau: np.ndarray, band: np.ndarray, e: dict[str, np.ndarray]) -> np.ndarray:
    """Kilonova: rise within ~1 d, linear fade ~1 mag/d in r (faster in g, slower in i): red and fast."""
    tp = e["t_peak"][:, None]
    rate = e["rate"][:, band]
    with np.errstate(divide="ignore", invalid="ignore"):
        rise = -5.0 * np.log10(np.clip(tau / tp, 0.0, 1.0))
    dm = np.where(tau < tp, rise, rate * (tau - tp))
    return np.where(tau > 0, dm + e["colour"][:, band], np.inf)


#: Sources per evaluation of the Delta-mag grid: 64 x 8401 float64 temporaries of ~4 MB each.
_GRID_CHUNK = 64


def grid_peaks(
    dm: Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], np.ndarray],
    e: dict[str, np.ndarray],
    n: int,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per band, each source's peak Delta-mag on ``_TAU_GRID`` and its tau, evaluated a chunk of sources at a
    time so that memory stays flat in the number of sources (``e``: the per-source ``extra`` arrays)."""
    low, at = np.empty((3, n)), np.empty((3, n))
    for lo in range(0, n, _GRID_CHUNK):
        part = {k: v[lo : lo + _GRID_CHUNK] for k, v in e.items()}
        grid = np.broadcast_to(_TAU_GRID, (min(_GRID_CHUNK, n - lo), _TAU_GRID.size))
        for b in range(3):
            d = dm(grid, np.full(_TAU_GRID.size, b), part)
            low[b, lo : lo + grid.shape[0]] = np.min(d, axis=1)
            at[b, lo : lo + grid.shape[0]] = _TAU_GRID[np.argmin(d, axis=1)]
    return {b: (low[b], at[b]) for b in range(3)}


def _transient_common(
    rng: np.random.Generator,
    fields: np.ndarray,
    ctx: SampleContext,
    p: Params,
    dm: Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], np.ndarray],
    abs_mag: np.ndarray,
    after: tuple[float, float] = (8.0, 25.0),
    jitter: float = 1.5,
) -> Params:
    """Place each transient's r-band peak on an observed epoch and derive explosion time and peak mags."""
    n = p.n
    p.extra["colour_k"] = 10 ** (-0.4 * p.extra.get("colour", np.zeros((n, 3))))
    peak = grid_peaks(dm, p.extra, n)
    norm, tau_peak = peak[1]
    p.extra["norm"] = norm
    t_peak = _draw_epochs(rng, fields, ctx, after=after) + rng.uniform(-jitter, jitter, n)
    p.t0 = t_peak
    p.extra["t_expl"] = t_peak - tau_peak * (1 + p.redshift)
    m_peak_r = abs_mag + distance_modulus(p.redshift)
    p.mean = np.column_stack([m_peak_r + peak[b][0] - norm for b in range(3)])
    p.extra["m_peak_r"] = m_peak_r
    return p


def _eval_transient(
    dm: Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], np.ndarray],
) -> Callable[..., np.ndarray]:
    """Evaluator for a transient with rest-frame Delta-mag shape ``dm``."""

    def evaluate(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Apparent magnitudes: peak r mag + rest-frame shape at (t - t_expl) / (1 + z)."""
        tau = (t[None, :] - p.extra["t_expl"][:, None]) / (1 + p.redshift[:, None])
        return p.extra["m_peak_r"][:, None] + dm(tau, band, p.extra) - p.extra["norm"][:, None]

    return evaluate


def sample_snia(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """SN Ia: M_r = -19.3 +- 0.15 at z 0.02-0.12 (volume-weighted), Bazin with a secondary r/i maximum."""
    n = len(fields)
    p = _new(n, np.where(rng.random(n) < 0.93, "Ia-norm", "Ia-91T"))
    p.redshift = _volume_z(rng, 0.02, 0.12, n)
    e = p.extra
    e["tau_rise"] = rng.uniform(2.5, 3.5, n)
    e["tau_fall"] = np.column_stack([rng.uniform(12, 16, n), rng.uniform(21, 28, n), rng.uniform(26, 34, n)])
    e["colour"] = np.column_stack([rng.normal(0.0, 0.07, n), np.zeros(n), rng.normal(0.45, 0.1, n)])
    e["bump"] = np.column_stack([np.zeros(n), rng.uniform(0.08, 0.16, n), rng.uniform(0.2, 0.32, n)])
    e["bump_t"] = rng.uniform(25, 30, n)
    return _transient_common(rng, fields, ctx, p, _dm_snia, rng.normal(-19.3, 0.15, n))


def sample_snii(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """SN II-P/L: M_r = -17 +- 0.8 at z 0.005-0.04, plateau 80-120 d rest frame, reddening with time."""
    n = len(fields)
    p = _new(n, np.where(rng.random(n) < 0.8, "IIP", "IIL"))
    p.redshift = _volume_z(rng, 0.005, 0.04, n)
    e = p.extra
    s_r = np.where(p.subclass == "IIP", rng.uniform(0.003, 0.012, n), rng.uniform(0.02, 0.035, n))
    e["slope"] = np.column_stack([s_r + rng.uniform(0.015, 0.025, n), s_r, np.maximum(s_r - 0.003, 0.0)])
    e["t_plateau"] = rng.uniform(80, 120, n)
    drop = rng.uniform(1.5, 2.5, n)
    e["drop"] = np.column_stack([drop * 1.15, drop, drop * 0.9])
    e["tau_rise"] = rng.uniform(1.5, 4.0, n)
    e["colour"] = np.column_stack([rng.normal(-0.12, 0.08, n), np.zeros(n), rng.normal(0.05, 0.08, n)])
    return _transient_common(rng, fields, ctx, p, _dm_snii, rng.normal(-17.0, 0.8, n))


def sample_snibc(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Stripped-envelope SN Ib/Ic/Ic-BL: M_r = -17.5 +- 0.6 at z 0.008-0.05, fast and red."""
    n = len(fields)
    u = rng.random(n)
    p = _new(n, np.where(u < 0.4, "Ib", np.where(u < 0.85, "Ic", "Ic-BL")))
    p.redshift = _volume_z(rng, 0.008, 0.05, n)
    e = p.extra
    e["tau_rise"] = rng.uniform(1.8, 3.0, n)
    e["tau_fall"] = np.column_stack([rng.uniform(9, 13, n), rng.uniform(14, 20, n), rng.uniform(17, 24, n)])
    e["colour"] = np.column_stack([rng.normal(0.35, 0.1, n), np.zeros(n), rng.normal(0.15, 0.1, n)])
    return _transient_common(rng, fields, ctx, p, _dm_snibc, rng.normal(-17.5, 0.6, n))


def sample_slsn(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Superluminous SNe: M_r = -21.5 +- 0.4 at z 0.08-0.35, slow rise and decline, blue at peak."""
    n = len(fields)
    p = _new(n, np.where(rng.random(n) < 0.8, "SLSN-I", "SLSN-II"))
    p.redshift = _volume_z(rng, 0.08, 0.35, n)
    e = p.extra
    e["tau_rise"] = rng.uniform(6, 12, n)
    e["tau_fall"] = np.column_stack([rng.uniform(25, 40, n), rng.uniform(35, 55, n), rng.uniform(45, 70, n)])
    e["colour"] = np.column_stack([rng.normal(-0.15, 0.1, n), np.zeros(n), rng.normal(0.1, 0.1, n)])
    return _transient_common(rng, fields, ctx, p, _dm_slsn, rng.normal(-21.5, 0.4, n), after=(20.0, 60.0))


def sample_tde(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Tidal disruption events: M_r = -19.5 +- 0.5 at z 0.02-0.12, blue (g-r ~ -0.3), t^-5/3 decline."""
    n = len(fields)
    p = _new(n, "TDE")
    p.redshift = _volume_z(rng, 0.02, 0.12, n)
    e = p.extra
    e["sigma_rise"] = rng.uniform(8, 20, n)
    e["tau_decline"] = rng.uniform(20, 50, n)
    e["colour"] = np.column_stack([rng.normal(-0.3, 0.08, n), np.zeros(n), rng.normal(0.25, 0.1, n)])
    return _transient_common(rng, fields, ctx, p, _dm_tde, rng.normal(-19.5, 0.5, n), after=(15.0, 50.0))


def sample_kilonova(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Kilonovae (AT2017gfo-like): M_r = -15.8 +- 0.3 at z 0.006-0.02, rise < 1 d, fade ~1 mag/d, red."""
    n = len(fields)
    p = _new(n, "KN")
    p.redshift = _volume_z(rng, 0.006, 0.02, n)
    e = p.extra
    e["t_peak"] = rng.uniform(0.4, 1.0, n)
    rate_r = rng.uniform(0.8, 1.2, n)
    e["rate"] = np.column_stack([rate_r * 1.5, rate_r, rate_r * 0.65])
    e["colour"] = np.column_stack([rng.normal(0.3, 0.1, n), np.zeros(n), rng.normal(-0.1, 0.1, n)])
    p = _transient_common(
        rng, fields, ctx, p, _dm_kilonova, rng.normal(-15.8, 0.3, n), after=(0.7, 2.5), jitter=0.0
    )
    shift = rng.uniform(0.0, 0.3, n)  # the chosen epoch catches the kilonova just after its peak
    p.t0 -= shift
    e["t_expl"] -= shift
    return p


# --------------------------------------------------------------------------------------------------
# rare galactic variables


def sample_microlensing(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Point-lens microlensing (Paczynski): tE 8-80 d, u0 0.03-0.7, blended source, achromatic."""
    n = len(fields)
    p = _new(n, "PSPL")
    gr, ri = _stellar_colours(rng, n)
    _set_mean(p, rng.uniform(15.5, 20.0, n), gr, ri)
    e = p.extra
    e["tE"] = _loguniform(rng, 8.0, 80.0, n)
    e["u0"] = rng.uniform(0.03, 0.7, n)
    e["fs"] = rng.uniform(0.4, 1.0, n)
    p.t0 = _draw_epochs(rng, fields, ctx, before=(3.0, 30.0), after=(3.0, 30.0)) + rng.uniform(-1, 1, n)
    u0 = e["u0"]
    a0 = (u0**2 + 2) / (u0 * np.sqrt(u0**2 + 4))
    p.amp[:] = (2.5 * np.log10(e["fs"] * a0 + 1 - e["fs"]))[:, None]
    return p


def eval_microlensing(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Symmetric, achromatic magnification A(u) = (u^2+2)/(u sqrt(u^2+4)) of a partly blended source."""
    e = p.extra
    u = np.sqrt(e["u0"][:, None] ** 2 + ((t[None, :] - p.t0[:, None]) / e["tE"][:, None]) ** 2)
    a = (u**2 + 2) / (u * np.sqrt(u**2 + 4))
    fs = e["fs"][:, None]
    return p.mean[:, band] - 2.5 * np.log10(fs * a + 1 - fs)


def sample_flare(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """M-dwarf flare stars: faint red quiescent star, flares at 1-5 per day decaying in 7-60 minutes."""
    n = len(fields)
    p = _new(n, "dMe")
    _set_mean(p, rng.uniform(16.5, 20.3, n), rng.uniform(1.3, 1.6, n), rng.uniform(1.0, 1.8, n))
    e = p.extra
    e["rate"] = _loguniform(rng, 1.0, 5.0, n)
    e["tau"] = _loguniform(rng, 0.005, 0.04, n)
    p.amp[:] = np.nan
    return p


def eval_flare(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per epoch: time since the last flare ~ Exp(rate) (Poisson process), flux excess A exp(-dt/tau).

    Flare amplitudes (g flux relative to quiescence) follow dN/dA ~ A^-1.6 in 0.3-40; flares are hot,
    so the r and i contrasts are 0.3 and 0.15 of g. Nearby epochs draw independently (a simplification).
    """
    n, m = p.n, t.size
    since = rng.exponential(1.0, (n, m)) / p.extra["rate"][:, None]
    alpha, lo, hi = 1.6, 0.3, 40.0
    u = rng.random((n, m))
    amp = (lo ** (1 - alpha) + u * (hi ** (1 - alpha) - lo ** (1 - alpha))) ** (1 / (1 - alpha))
    excess = amp * np.exp(-since / p.extra["tau"][:, None]) * np.array([1.0, 0.3, 0.15])[band][None, :]
    return p.mean[:, band] - 2.5 * np.log10(1 + excess)


def sample_cv(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Dwarf novae: 2-5 mag outbursts lasting 3-8 d every 20-100 d; UGSU also have long superoutbursts."""
    n = len(fields)
    p = _new(n, np.where(rng.random(n) < 0.6, "UG", "UGSU"))
    _set_mean(p, rng.uniform(17.5, 21.5, n), rng.uniform(0.0, 0.4, n), rng.uniform(0.0, 0.3, n))
    amp_r = np.minimum(rng.uniform(2.0, 5.0, n), p.mean[:, 1] - 13.0)
    p.amp = np.column_stack([amp_r + 0.3, amp_r, amp_r - 0.3])
    e = p.extra
    p.period = rng.uniform(20, 100, n)
    span = ctx.end - ctx.start
    n_ev = int(np.ceil(span / (0.75 * 20.0))) + 3
    gaps = p.period[:, None] * rng.uniform(0.75, 1.25, (n, n_ev))
    first = ctx.start - rng.random(n) * p.period
    times = first[:, None] + np.cumsum(gaps, axis=1) - gaps[:, :1]
    e["ev_time"] = times
    super_ = (p.subclass == "UGSU")[:, None] & (
        np.mod(np.arange(n_ev)[None, :] + rng.integers(0, 5, (n, 1)), 5) == 0
    )
    e["ev_dur"] = np.where(super_, rng.uniform(10, 15, (n, n_ev)), rng.uniform(3, 8, (n, n_ev)))
    e["ev_scale"] = np.where(super_, 10 ** (0.4 * 0.7), 1.0)
    e["tau_rise"] = rng.uniform(0.3, 1.0, n)
    e["tau_dec"] = rng.uniform(0.7, 2.0, n)
    after = np.where(times >= ctx.start, times, np.inf)
    p.t0 = np.min(after, axis=1)
    return p


def eval_cv(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Outburst flux: logistic rise, slow 0.1 mag/d fade on the plateau, fast logistic decline."""
    e = p.extra
    dt = t[None, None, :] - e["ev_time"][:, :, None]
    on = expit(dt / e["tau_rise"][:, None, None])
    off = expit(-(dt - e["ev_dur"][:, :, None]) / e["tau_dec"][:, None, None])
    fade = 10 ** (-0.04 * np.maximum(dt, 0.0))
    profile = np.sum(e["ev_scale"][:, :, None] * on * off * fade, axis=1)
    gain = 10 ** (0.4 * p.amp[:, band]) - 1.0
    return p.mean[:, band] - 2.5 * np.log10(1 + gain * profile)


# --------------------------------------------------------------------------------------------------
# artefacts


def sample_artefact(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Constant stars with unflagged artefacts: wild single-epoch outliers, a ghost step, or bad nights."""
    n = len(fields)
    u = rng.random(n)
    sub = np.where(u < 0.4, "outliers", np.where(u < 0.7, "step", "night"))
    p = _new(n, sub)
    gr, ri = _stellar_colours(rng, n)
    _set_mean(p, rng.uniform(14.0, 19.0, n), gr, ri)
    e = p.extra
    size = np.where(
        sub == "outliers",
        rng.uniform(1.0, 4.0, n),
        np.where(sub == "step", rng.uniform(0.3, 1.2, n), rng.uniform(0.5, 2.0, n)),
    )
    p.amp = np.repeat(size[:, None], 3, axis=1)
    e["n_out"] = rng.integers(3, 9, n)
    e["step_len"] = rng.uniform(20, 150, n)
    nights = np.column_stack([_draw_epochs(rng, fields, ctx, (0.5, 400), (0.5, 400)) for _ in range(3)])
    e["nights"] = np.where(np.arange(3)[None, :] < rng.integers(1, 4, n)[:, None], nights, np.nan)
    e["night_sign"] = np.where(rng.random((n, 3)) < 0.5, -1.0, 1.0)
    step_start = ctx.start + rng.random(n) * max(ctx.end - ctx.start - 30.0, 1.0)
    p.t0 = np.where(sub == "step", step_start, np.where(sub == "night", e["nights"][:, 0], np.nan))
    return p


def eval_artefact(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Achromatic offsets on a constant star; the outlier epochs are drawn here, per band independently."""
    n, m = p.n, t.size
    e = p.extra
    size = p.amp[:, 1:2]
    outlier = rng.random((n, m)) < (e["n_out"][:, None] / max(m, 1))
    out_off = np.where(
        outlier, np.where(rng.random((n, m)) < 0.5, -1, 1) * size * rng.uniform(0.5, 1.0, (n, m)), 0.0
    )
    in_step = (t[None, :] >= p.t0[:, None]) & (t[None, :] < (p.t0 + e["step_len"])[:, None])
    step_off = np.where(in_step, -size, 0.0)
    near = np.abs(t[None, None, :] - e["nights"][:, :, None]) < 0.3
    night_off = np.sum(np.where(near, e["night_sign"][:, :, None], 0.0), axis=1) * size
    off = np.where(
        (p.subclass == "outliers")[:, None],
        out_off,
        np.where((p.subclass == "step")[:, None], step_off, night_off),
    )
    return p.mean[:, band] + off


#: class -> (sampler, evaluator)
MODELS: dict[str, tuple[Callable[..., Params], Callable[..., np.ndarray]]] = {
    "constant": (sample_constant, eval_constant),
    "rrlyrae": (sample_rrlyrae, eval_pulsator),
    "cepheid": (sample_cepheid, eval_pulsator),
    "eclipsing_binary": (sample_eclipsing_binary, eval_eclipsing_binary),
    "delta_scuti": (sample_delta_scuti, eval_delta_scuti),
    "lpv": (sample_lpv, eval_lpv),
    "agn": (sample_agn, eval_agn),
    "yso": (sample_yso, eval_yso),
    "snia": (sample_snia, _eval_transient(_dm_snia)),
    "snii": (sample_snii, _eval_transient(_dm_snii)),
    "snibc": (sample_snibc, _eval_transient(_dm_snibc)),
    "slsn": (sample_slsn, _eval_transient(_dm_slsn)),
    "tde": (sample_tde, _eval_transient(_dm_tde)),
    "kilonova": (sample_kilonova, _eval_transient(_dm_kilonova)),
    "microlensing": (sample_microlensing, eval_microlensing),
    "flare": (sample_flare, eval_flare),
    "cv": (sample_cv, eval_cv),
    "artefact": (sample_artefact, eval_artefact),
}
