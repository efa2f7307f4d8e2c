"""The hard variant's rare families, with parameter spreads that overlap the common classes.

Kilonovae, TDEs, SLSNe and microlensing keep the easy demo's light-curve shapes
(:mod:`skysift.simulate.models`) with wider spreads; two families are new:

- ``pec_sn``: peculiar supernovae. SN Iax (50 %, SN 2002cx to 2008ha-like: M_r -18.5 to -14.5, a faster
  and redder SN Ia look-alike), Ca-rich transients (30 %, M_r ~ -15.5, fast and red, SN Ib look-alikes)
  and SNe Ia-CSM (20 %, M_r ~ -19.5 with a slow, IIn-like decline);
- ``fbot``: fast blue optical transients (AT2018cow-like): rise in 1-4 days, M_r -20 +- 0.7, decline
  0.1-0.4 mag/day, g - r ~ -0.35 (look-alikes: young SNe II, fast SNe Ibc, kilonovae, flares).

All extragalactic ones sit on hosts and peak uniformly in time (:func:`~skysift.simulate.realistic.place_transient`).
Their truth parameters follow the transient conventions of :mod:`skysift.simulate.models`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from skysift.simulate.models import (
    Params,
    SampleContext,
    _bazin_dm,
    _dm_kilonova,
    _dm_slsn,
    _dm_tde,
    _loguniform,
    _new,
    _powerlaw_mag,
    _set_mean,
    _stellar_colours,
    _volume_z,
)
from skysift.simulate.realistic import draw_hosts, eval_hosted, place_transient

__all__ = ["RARE_MODELS"]


def _dm_bazin_per_source(tau: np.ndarray, band: np.ndarray, e: dict[str, np.ndarray]) -> np.ndarray:
    """A Bazin light curve whose mid-rise time ``t_mid`` is per source (peculiar SNe, FBOTs)."""
    return _bazin_dm(tau, band, e, e["t_mid"][:, None])


def sample_kilonova(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Kilonovae at z 0.004-0.04: M_r -16.3 +- 0.6, peak after 0.3-2 d, fading 0.3-1.2 mag/d in r."""
    n = len(fields)
    p = _new(n, "KN")
    p.redshift = _volume_z(rng, 0.004, 0.04, n)
    e = p.extra
    e["t_peak"] = rng.uniform(0.3, 2.0, n)
    rate_r = rng.uniform(0.3, 1.2, n)
    e["rate"] = np.column_stack([rate_r * rng.uniform(1.2, 1.8, n), rate_r, rate_r * 0.65])
    e["colour"] = np.column_stack([rng.normal(0.3, 0.2, n), np.zeros(n), rng.normal(-0.1, 0.15, n)])
    host = draw_hosts(rng, n, 20.5, 24.0, 0.3)
    return place_transient(rng, ctx, p, _dm_kilonova, rng.normal(-16.3, 0.6, n), host, early=5.0)


def sample_tde(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """TDEs at z 0.01-0.2 in galaxy nuclei (host r 18.5-21): M_r -19.3 +- 0.7, rise 5-40 d, g-r ~ -0.25 +- 0.15."""
    n = len(fields)
    p = _new(n, "TDE")
    p.redshift = _volume_z(rng, 0.01, 0.2, n)
    e = p.extra
    e["sigma_rise"] = rng.uniform(5, 40, n)
    e["tau_decline"] = rng.uniform(15, 150, n)
    e["colour"] = np.column_stack([rng.normal(-0.25, 0.15, n), np.zeros(n), rng.normal(0.25, 0.12, n)])
    host = draw_hosts(rng, n, 18.5, 21.0, 0.0)
    return place_transient(rng, ctx, p, _dm_tde, rng.normal(-19.3, 0.7, n), host, early=150.0)


def sample_slsn(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """SLSNe at z 0.05-0.5 in faint dwarf hosts: M_r -21.0 +- 0.7 (the faint tail meets bright SNe Ia/IIn)."""
    n = len(fields)
    p = _new(n, np.where(rng.random(n) < 0.8, "SLSN-I", "SLSN-II"))
    p.redshift = _volume_z(rng, 0.05, 0.5, n)
    e = p.extra
    e["tau_rise"] = rng.uniform(4, 15, n)
    s = rng.uniform(0.6, 1.5, n)[:, None]
    e["tau_fall"] = (
        np.column_stack([rng.uniform(25, 40, n), rng.uniform(35, 55, n), rng.uniform(45, 70, n)]) * s
    )
    e["colour"] = np.column_stack([rng.normal(-0.1, 0.15, n), np.zeros(n), rng.normal(0.1, 0.1, n)])
    host = draw_hosts(rng, n, 22.5, 25.0, 0.2)
    return place_transient(rng, ctx, p, _dm_slsn, rng.normal(-21.0, 0.7, n), host, early=200.0)


def sample_pec_sn(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Peculiar SNe: 50 % SN Iax, 30 % Ca-rich, 20 % Ia-CSM (see the module docstring)."""
    n = len(fields)
    u = rng.random(n)
    sub = np.where(u < 0.5, "Iax", np.where(u < 0.8, "Ca-rich", "Ia-CSM"))
    p = _new(n, sub)
    iax, ca = sub == "Iax", sub == "Ca-rich"
    p.redshift = np.where(
        iax,
        _volume_z(rng, 0.005, 0.06, n),
        np.where(ca, _volume_z(rng, 0.004, 0.04, n), _volume_z(rng, 0.02, 0.15, n)),
    )
    e = p.extra
    e["t_mid"] = np.where(
        iax, rng.uniform(7, 11, n), np.where(ca, rng.uniform(6, 9, n), rng.uniform(12, 20, n))
    )
    e["tau_rise"] = np.where(
        iax, rng.uniform(1.5, 2.8, n), np.where(ca, rng.uniform(1.2, 2.2, n), rng.uniform(3, 6, n))
    )
    fall_r = np.where(
        iax, rng.uniform(12, 25, n), np.where(ca, rng.uniform(8, 14, n), rng.uniform(60, 130, n))
    )
    e["tau_fall"] = np.column_stack(
        [fall_r * rng.uniform(0.5, 0.75, n), fall_r, fall_r * rng.uniform(1.1, 1.3, n)]
    )
    gr = np.where(
        iax, rng.normal(0.2, 0.12, n), np.where(ca, rng.normal(0.5, 0.12, n), rng.normal(0.05, 0.1, n))
    )
    e["colour"] = np.column_stack([gr, np.zeros(n), rng.normal(0.1, 0.1, n)])
    m_abs = np.where(
        iax, rng.uniform(-18.5, -14.5, n), np.where(ca, rng.normal(-15.5, 0.4, n), rng.normal(-19.5, 0.5, n))
    )
    host = draw_hosts(rng, n, 19.5, 23.5, 0.2)
    return place_transient(rng, ctx, p, _dm_bazin_per_source, m_abs, host, early=100.0)


def sample_fbot(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Fast blue optical transients at z 0.01-0.15 in dwarf hosts (see the module docstring)."""
    n = len(fields)
    p = _new(n, "FBOT")
    p.redshift = _volume_z(rng, 0.01, 0.15, n)
    e = p.extra
    e["t_mid"] = rng.uniform(1.0, 3.0, n)
    e["tau_rise"] = rng.uniform(0.3, 1.0, n)
    fall_r = rng.uniform(3.0, 10.0, n)
    e["tau_fall"] = np.column_stack([fall_r * 0.8, fall_r, fall_r * 1.15])
    e["colour"] = np.column_stack([rng.normal(-0.35, 0.1, n), np.zeros(n), rng.normal(0.2, 0.1, n)])
    host = draw_hosts(rng, n, 21.0, 24.0, 0.3)
    return place_transient(rng, ctx, p, _dm_bazin_per_source, rng.normal(-20.0, 0.7, n), host, early=10.0)


def sample_microlensing(rng: np.random.Generator, fields: np.ndarray, ctx: SampleContext) -> Params:
    """Microlensing of faint (r 15.5-21.8) blended sources: tE 5-150 d, u0 0.05-1.5 (many low-amplitude
    events, AGN/YSO look-alikes), blend fractions per band (slightly chromatic), peaks uniform in time."""
    n = len(fields)
    p = _new(n, "PSPL")
    gr, ri = _stellar_colours(rng, n)
    _set_mean(p, _powerlaw_mag(rng, n, 15.5, 21.8, 0.3), gr, ri)
    e = p.extra
    e["tE"] = _loguniform(rng, 5.0, 150.0, n)
    e["u0"] = rng.uniform(0.05, 1.5, n)
    fs_r = rng.uniform(0.1, 1.0, n)
    e["fs_band"] = np.clip(
        np.column_stack([fs_r * rng.uniform(0.8, 1.2, n), fs_r, fs_r * rng.uniform(0.85, 1.15, n)]), 0.05, 1.0
    )
    p.t0 = rng.uniform(ctx.start - 30.0, ctx.end + 30.0, n)
    u0 = e["u0"]
    a0 = (u0**2 + 2) / (u0 * np.sqrt(u0**2 + 4))
    p.amp = 2.5 * np.log10(e["fs_band"] * a0[:, None] + 1 - e["fs_band"])
    return p


def eval_microlensing(p: Params, t: np.ndarray, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Point-lens magnification of a source blended per band (blend fraction ``fs_band``)."""
    e = p.extra
    u = np.sqrt(e["u0"][:, None] ** 2 + ((t[None, :] - p.t0[:, None]) / e["tE"][:, None]) ** 2)
    a = (u**2 + 2) / (u * np.sqrt(u**2 + 4))
    fs = e["fs_band"][:, band]
    return p.mean[:, band] - 2.5 * np.log10(fs * a + 1 - fs)


#: class -> (sampler, evaluator) of the hard variant's rare families
RARE_MODELS: dict[str, tuple[Callable[..., Params], Callable[..., np.ndarray]]] = {
    "slsn": (sample_slsn, eval_hosted(_dm_slsn)),
    "tde": (sample_tde, eval_hosted(_dm_tde)),
    "kilonova": (sample_kilonova, eval_hosted(_dm_kilonova)),
    "microlensing": (sample_microlensing, eval_microlensing),
    "pec_sn": (sample_pec_sn, eval_hosted(_dm_bazin_per_source)),
    "fbot": (sample_fbot, eval_hosted(_dm_bazin_per_source)),
}
