"""The hard variant's nominal population: the easy demo's classes made faint, varied and look-alike.

Each sampler here returns the same :class:`~skysift.simulate.models.Params` as its easy counterpart in
:mod:`skysift.simulate.models` (same truth conventions), with what makes the realistic variant hard
(numbers and reasons in docs/realistic_demo.md):

- magnitudes from star/galaxy counts that rise to and beyond the survey limit, so most sources sit near
  it and many light curves are sparse (:func:`refaint`);
- wider parameter spreads: shallow eclipses, low-amplitude and slow AGN, SN Ia stretch and host
  reddening, SN II plateau lengths and IIn, faint quiescent flare stars and dwarf novae that are only
  detected in outburst (transient look-alikes);
- supernovae placed uniformly in time (many peak in a season gap or before the survey: partial light
  curves), on a host galaxy whose light adds a constant baseline (:func:`place_transient`,
  :func:`eval_hosted`).

The rare families are in :mod:`skysift.simulate.rare`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from skysift.simulate import models as easy
from skysift.simulate.models import (
    Params,
    SampleContext,
    _dm_snia,
    _dm_snibc,
    _dm_snii,
    _loguniform,
    _new,
    _powerlaw_mag,
    _volume_z,
    distance_modulus,
    grid_peaks,
)

__all__ = ["REALISTIC_MODELS", "refaint", "draw_hosts", "place_transient", "eval_hosted"]

DM = Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], np.ndarray]


def refaint(p: Params, rng: np.random.Generator, lo: float, hi: float, slope: float) -> Params:
    """Replace the r magnitudes (colours kept) by counts dN/dm ~ 10**(slope m) between lo and hi."""
    r = _powerlaw_mag(rng, p.n, lo, hi, slope)
    p.mean = p.mean + (r - p.mean[:, 1])[:, None]
    return p


def draw_hosts(rng: np.random.Generator, n: int, lo: float, hi: float, hostless: float) -> np.ndarray:
    """Host-galaxy magnitudes (n, 3) inside the PSF: r uniform in [lo, hi], g-r 0.5-1.0; inf = no host."""
    r = rng.uniform(lo, hi, n)
    gr, ri = rng.uniform(0.5, 1.0, n), rng.uniform(0.2, 0.45, n)
    host = np.column_stack([r + gr, r, r - ri])
    return np.where((rng.random(n) < hostless)[:, None], np.inf, host)


def place_transient(
    rng: np.random.Generator,
    ctx: SampleContext,
    p: Params,
    dm: DM,
    abs_mag: np.ndarray,
    host: np.ndarray,
    early: float = 60.0,
) -> Params:
    """Peak r magnitude from ``abs_mag`` and the redshift; r-band peak uniform in [start - early, end + 20].

    Unlike the easy demo, peaks are not put on observed epochs: a transient peaking in a season gap or
    before the survey is seen partly or not at all, as in a real release.
    """
    n = p.n
    e = p.extra
    e["colour_k"] = 10 ** (-0.4 * e.get("colour", np.zeros((n, 3))))
    e["host"] = host
    if n == 0:
        e["norm"] = e["t_expl"] = e["m_peak_r"] = np.zeros(0)
        return p
    peak = grid_peaks(dm, e, n)
    norm, tau_peak = peak[1]
    e["norm"] = norm
    p.t0 = rng.uniform(ctx.start - early, ctx.end + 20.0, n)
    e["t_expl"] = p.t0 - tau_peak * (1 + p.redshift)
    m_peak_r = abs_mag + distance_modulus(p.redshift)
    p.mean = np.column_stack([m_peak_r + peak[b][0] - norm for b in range(3)])
    e["m_peak_r"] = m_peak_r
    return p


def eval_hosted(dm: DM) -> Callable[..., np.ndarray]:
    """Evaluator of a transient with rest-frame shape ``dm`` on top of its host's constant light."""
    transient = easy._eval_transient(dm)

    def evaluate(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Apparent magnitudes of transient + host (the host alone outside the event)."""
        m = transient(p, t, band, rng)
        with np.errstate(over="ignore"):
            flux = 10 ** (-0.4 * m) + 10 ** (-0.4 * p.extra["host"][:, band])
        with np.errstate(divide="ignore"):
            return -2.5 * np.log10(flux)

    return evaluate


# --------------------------------------------------------------------------------------------------
# stars and AGN: the easy models, faint and with wider spreads


def sample_constant(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Non-variable stars down to r 22 (counts x2.1 per mag): most are near or below the limit."""
    return refaint(easy.sample_constant(rng, fields, ctx), rng, 14.0, 22.0, 0.32)


def sample_rrlyrae(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """RR Lyrae of the halo, r 14.5-21."""
    return refaint(easy.sample_rrlyrae(rng, fields, ctx), rng, 14.5, 21.0, 0.2)


def sample_cepheid(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Cepheids, r 12.5-19.5."""
    return refaint(easy.sample_cepheid(rng, fields, ctx), rng, 12.5, 19.5, 0.2)


def sample_eclipsing_binary(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Eclipsing binaries with depths scaled by 0.12-1 (log-uniform: many shallow ones), r 13-21.5."""
    p = easy.sample_eclipsing_binary(rng, fields, ctx)
    scale = _loguniform(rng, 0.12, 1.0, p.n)
    for key in ("depth1", "depth2"):
        p.extra[key] = p.extra[key] * scale
    p.amp = p.amp * scale[:, None]
    return refaint(p, rng, 13.0, 21.5, 0.28)


def sample_delta_scuti(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """delta Scuti stars, r 13.5-20.5 (the low-amplitude ones vanish in the noise near the limit)."""
    return refaint(easy.sample_delta_scuti(rng, fields, ctx), rng, 13.5, 20.5, 0.2)


def sample_lpv(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Long-period, semi-regular and irregular variables, r 12.5-19.5."""
    return refaint(easy.sample_lpv(rng, fields, ctx), rng, 12.5, 19.5, 0.15)


def sample_agn(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """AGN/QSO, r 17.5-21.8 (steep counts), SF_inf(r) 0.05-0.5 mag and tau 20-1000 d (log-uniform)."""
    p = easy.sample_agn(rng, fields, ctx)
    sf = _loguniform(rng, 0.05, 0.5, p.n)
    p.amp = sf[:, None] * np.array([1.25, 1.0, 0.85])
    p.extra["tau"] = _loguniform(rng, 20.0, 1000.0, p.n)
    return refaint(p, rng, 17.5, 21.8, 0.45)


def sample_yso(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Young stellar objects, r 14.5-20.8."""
    return refaint(easy.sample_yso(rng, fields, ctx), rng, 14.5, 20.8, 0.2)


def sample_flare(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """M-dwarf flare stars with quiescent r 17.5-22.5 and 0.1-3 flares per day.

    The faint ones are below the limit in quiescence: their light curves are a few flare epochs,
    often in g only, the commonest look-alikes of a fast transient.
    """
    p = easy.sample_flare(rng, fields, ctx)
    p.extra["rate"] = _loguniform(rng, 0.1, 3.0, p.n)
    return refaint(p, rng, 17.5, 22.5, 0.3)


def sample_cv(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Dwarf novae with quiescent r 19-23 (often below the limit: only outbursts seen), 2-6 mag outbursts."""
    p = refaint(easy.sample_cv(rng, fields, ctx), rng, 19.0, 23.0, 0.2)
    amp_r = np.minimum(rng.uniform(2.0, 6.0, p.n), p.mean[:, 1] - 13.0)
    p.amp = np.column_stack([amp_r + 0.3, amp_r, amp_r - 0.3])
    return p


def sample_artefact(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Constant stars with unflagged artefacts, r 14-20.5."""
    return refaint(easy.sample_artefact(rng, fields, ctx), rng, 14.0, 20.5, 0.25)


# --------------------------------------------------------------------------------------------------
# supernovae: volumetric rates, wide luminosity functions, hosts, uniform peak times


def sample_snia(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """SNe Ia at z 0.01-0.16: 85 % normal (stretch 0.7-1.3, brighter-slower), 8 % 91T, 7 % faint fast 91bg.

    Host reddening E(g-r) ~ Exp(0.08) (A_r = 2.2 E(g-r)); hosts r 19.5-23.5 inside the PSF, 15 % hostless.
    """
    n = len(fields)
    u = rng.random(n)
    sub = np.where(u < 0.85, "Ia-norm", np.where(u < 0.93, "Ia-91T", "Ia-91bg"))
    p = _new(n, sub)
    p.redshift = _volume_z(rng, 0.01, 0.16, n)
    s = np.clip(rng.normal(1.0, 0.1, n), 0.7, 1.3)
    s = np.where(
        sub == "Ia-91T", rng.uniform(1.05, 1.25, n), np.where(sub == "Ia-91bg", rng.uniform(0.6, 0.8, n), s)
    )
    e = p.extra
    e["tau_rise"] = rng.uniform(2.5, 3.5, n) * s
    e["tau_fall"] = (
        np.column_stack([rng.uniform(12, 16, n), rng.uniform(21, 28, n), rng.uniform(26, 34, n)]) * s[:, None]
    )
    ebv = rng.exponential(0.08, n)
    red = np.where(sub == "Ia-91bg", 0.35, 0.0)
    e["colour"] = np.column_stack(
        [rng.normal(0.0, 0.07, n) + ebv + red, np.zeros(n), rng.normal(0.45, 0.1, n) - 0.6 * ebv]
    )
    e["bump"] = np.column_stack([np.zeros(n), rng.uniform(0.08, 0.16, n), rng.uniform(0.2, 0.32, n)])
    e["bump_t"] = rng.uniform(25, 30, n) * s
    m_abs = np.where(
        sub == "Ia-91bg", rng.normal(-17.6, 0.3, n), -19.3 - 1.1 * (s - 1) + rng.normal(0, 0.15, n)
    )
    host = draw_hosts(rng, n, 19.5, 23.5, 0.15)
    return place_transient(rng, ctx, p, _dm_snia, m_abs + 2.2 * ebv, host)


def sample_snii(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """SNe II at z 0.003-0.08: 60 % IIP (M_r -16.8 +- 0.9, plateau 40-130 d), 25 % IIL, 15 % IIn (slow, bright)."""
    n = len(fields)
    u = rng.random(n)
    sub = np.where(u < 0.6, "IIP", np.where(u < 0.85, "IIL", "IIn"))
    p = _new(n, sub)
    p.redshift = _volume_z(rng, 0.003, 0.08, n)
    e = p.extra
    s_r = np.where(
        sub == "IIP",
        rng.uniform(0.0, 0.015, n),
        np.where(sub == "IIL", rng.uniform(0.02, 0.04, n), rng.uniform(0.004, 0.012, n)),
    )
    g_extra = np.where(sub == "IIn", rng.uniform(0.0, 0.005, n), rng.uniform(0.012, 0.03, n))
    e["slope"] = np.column_stack([s_r + g_extra, s_r, np.maximum(s_r - 0.003, 0.0)])
    e["t_plateau"] = np.where(sub == "IIn", rng.uniform(150, 300, n), rng.uniform(40, 130, n))
    drop = np.where(sub == "IIn", rng.uniform(0.3, 1.2, n), rng.uniform(1.2, 2.8, n))
    e["drop"] = np.column_stack([drop * 1.15, drop, drop * 0.9])
    e["tau_rise"] = np.where(sub == "IIn", rng.uniform(4.0, 12.0, n), rng.uniform(1.0, 5.0, n))
    e["colour"] = np.column_stack([rng.normal(-0.1, 0.12, n), np.zeros(n), rng.normal(0.05, 0.1, n)])
    m_abs = np.where(
        sub == "IIP",
        rng.normal(-16.8, 0.9, n),
        np.where(sub == "IIL", rng.normal(-17.5, 0.6, n), rng.normal(-18.5, 0.9, n)),
    )
    host = draw_hosts(rng, n, 19.0, 23.5, 0.15)
    return place_transient(rng, ctx, p, _dm_snii, m_abs, host, early=130.0)


def sample_snibc(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """SNe Ib/Ic/Ic-BL at z 0.005-0.07, M_r -17.3 +- 0.7, rise and decline times 0.7-1.4x the easy ones."""
    n = len(fields)
    u = rng.random(n)
    p = _new(n, np.where(u < 0.4, "Ib", np.where(u < 0.85, "Ic", "Ic-BL")))
    p.redshift = _volume_z(rng, 0.005, 0.07, n)
    s = rng.uniform(0.7, 1.4, n)
    e = p.extra
    e["tau_rise"] = rng.uniform(1.8, 3.0, n) * s
    e["tau_fall"] = (
        np.column_stack([rng.uniform(9, 13, n), rng.uniform(14, 20, n), rng.uniform(17, 24, n)]) * s[:, None]
    )
    ebv = rng.exponential(0.12, n)
    e["colour"] = np.column_stack(
        [rng.normal(0.35, 0.12, n) + ebv, np.zeros(n), rng.normal(0.15, 0.1, n) - 0.6 * ebv]
    )
    host = draw_hosts(rng, n, 19.0, 23.0, 0.1)
    return place_transient(rng, ctx, p, _dm_snibc, rng.normal(-17.3, 0.7, n) + 2.2 * ebv, host)


#: class -> (sampler, evaluator) of the hard variant's nominal classes
REALISTIC_MODELS: dict[str, tuple[Callable[..., Params], Callable[..., np.ndarray]]] = {
    "constant": (sample_constant, easy.eval_constant),
    "rrlyrae": (sample_rrlyrae, easy.eval_pulsator),
    "cepheid": (sample_cepheid, easy.eval_pulsator),
    "eclipsing_binary": (sample_eclipsing_binary, easy.eval_eclipsing_binary),
    "delta_scuti": (sample_delta_scuti, easy.eval_delta_scuti),
    "lpv": (sample_lpv, easy.eval_lpv),
    "agn": (sample_agn, easy.eval_agn),
    "yso": (sample_yso, easy.eval_yso),
    "snia": (sample_snia, eval_hosted(_dm_snia)),
    "snii": (sample_snii, eval_hosted(_dm_snii)),
    "snibc": (sample_snibc, eval_hosted(_dm_snibc)),
    "flare": (sample_flare, easy.eval_flare),
    "cv": (sample_cv, easy.eval_cv),
    "artefact": (sample_artefact, easy.eval_artefact),
}
