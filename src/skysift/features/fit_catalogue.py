"""The transient-fit catalogue: the fits a config may name (``features.transient_fits``), their columns and meaning.

Per band (one objectid): light-curve's BazinFit and VillarFit in flux (microjansky from the DR
magnitudes, :func:`mag_to_flux`), run inside the feature tasks (:mod:`skysift.features.magnitude`).
Per g+r source: the multiband RainbowFit (:mod:`skysift.features.fits`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import light_curve as lc
import numpy as np

from skysift.features.catalogue import sanitize_name

__all__ = [
    "BAZIN_FIT_DOCS",
    "VILLAR_FIT_DOCS",
    "RAINBOW_FIT_DOCS",
    "TRANSIENT_FITS",
    "TRANSIENT_FIT_DOCS",
    "PER_BAND_FITS",
    "TRANSIENT_FIT_ALGORITHM",
    "VILLAR_MCMC_NITER",
    "FLUX_ZP_UJY",
    "fit_min_points",
    "resolve_transient_fits",
    "per_band_fit_extractor",
    "mag_to_flux",
]

#: Zero point of ZTF DR magnitudes to flux in microjansky: f = 10 ** (-0.4 * (m - 23.9)).
FLUX_ZP_UJY = 23.9

#: Per-band transient fits in flux: light-curve's BazinFit and VillarFit, one per objectid (= per band).
#: Column docs per fit; the last column of each is ``<fit>_fit_success``.
BAZIN_FIT_DOCS: dict[str, str] = {
    "bazin_fit_amplitude": "Bazin fit amplitude A (flux, microjansky)",
    "bazin_fit_baseline": "Bazin fit baseline B (flux, microjansky)",
    "bazin_fit_reference_time": "Bazin fit reference time t0 (HMJD, days)",
    "bazin_fit_rise_time": "Bazin fit rise time tau_rise, days",
    "bazin_fit_fall_time": "Bazin fit fall time tau_fall, days",
    "bazin_fit_reduced_chi2": "reduced chi2 of the Bazin fit in flux (fit quality)",
    "bazin_fit_success": "1 if the Bazin fit returned finite parameters, 0 if it failed (values NaN), NaN if not tried",
}
VILLAR_FIT_DOCS: dict[str, str] = {
    "villar_fit_amplitude": "Villar fit amplitude A (flux, microjansky)",
    "villar_fit_baseline": "Villar fit baseline c (flux, microjansky)",
    "villar_fit_reference_time": "Villar fit reference time t0 (HMJD, days)",
    "villar_fit_rise_time": "Villar fit rise time tau_rise, days",
    "villar_fit_fall_time": "Villar fit fall time tau_fall after the plateau, days",
    "villar_fit_plateau_rel_amplitude": "Villar fit relative plateau decline nu = -beta gamma / A, in [0, 1)",
    "villar_fit_plateau_duration": "Villar fit plateau duration gamma, days",
    "villar_fit_reduced_chi2": "reduced chi2 of the Villar fit in flux (fit quality)",
    "villar_fit_success": "1 if the Villar fit returned finite parameters, 0 if it failed (values NaN), NaN if not tried",
}
#: Multiband Rainbow fit (light_curve.RainbowFit: Bazin bolometric flux x blackbody of sigmoid temperature,
#: one baseline per band) of a position-associated source's g and r light curves together; both rows
#: of the source carry the same values (skysift.features.fits).
RAINBOW_FIT_DOCS: dict[str, str] = {
    "rainbow_fit_reference_time": "Rainbow fit reference time t0 of the bolometric Bazin term (HMJD, days)",
    "rainbow_fit_amplitude": "Rainbow fit bolometric amplitude (microjansky-scale flux at the mean g/r frequency)",
    "rainbow_fit_rise_time": "Rainbow fit bolometric rise time, days",
    "rainbow_fit_fall_time": "Rainbow fit bolometric fall time, days",
    "rainbow_fit_temperature": "Rainbow fit mid temperature T = (Tmax + Tmin) / 2, K",
    "rainbow_fit_temperature_amplitude": "Rainbow fit relative temperature change (Tmax - Tmin) / (Tmax + Tmin)",
    "rainbow_fit_color_time": "Rainbow fit timescale of the temperature sigmoid, days",
    "rainbow_fit_baseline_g": "Rainbow fit constant g-band baseline flux, microjansky",
    "rainbow_fit_baseline_r": "Rainbow fit constant r-band baseline flux, microjansky",
    "rainbow_fit_reduced_chi2": "reduced chi2 (chi2 / dof, ~1 for a good fit) of the Rainbow fit of the g "
    "and r fluxes together (fit quality)",
    "rainbow_fit_success": "1 if the Rainbow fit converged to finite parameters, 0 if it failed (values NaN), "
    "NaN if not tried (no associated g and r light curves with enough points)",
}
#: Every transient fit a config may name (``features.transient_fits``) -> its columns.
TRANSIENT_FITS: dict[str, dict[str, str]] = {
    "bazin": BAZIN_FIT_DOCS,
    "villar": VILLAR_FIT_DOCS,
    "rainbow": RAINBOW_FIT_DOCS,
}
#: Columns -> meaning of every transient fit (all fits; a run has those it asked for).
TRANSIENT_FIT_DOCS: dict[str, str] = {
    col: doc for docs in TRANSIENT_FITS.values() for col, doc in docs.items()
}
#: Fits run per band (= per objectid) inside the feature tasks, with their light-curve class.
PER_BAND_FITS: dict[str, Any] = {"bazin": lc.BazinFit, "villar": lc.VillarFit}


def fit_min_points(name: str) -> int:
    """Fewest points a fit is tried on: its number of free parameters + 1 (Bazin 6, Villar 8, Rainbow 10)."""
    return len(TRANSIENT_FITS[name]) - 1  # columns = parameters + reduced chi2 + success


#: Default fit algorithm. Plain "lmsder" from light-curve's default start converged to a wrong
#: minimum on an injected SN-like curve (A 3x too large, reduced chi2 730); "mcmc-lmsder" (MCMC start,
#: then Levenberg-Marquardt) recovered every parameter within 1 %, at ~10x the cost (~5-14 ms per light curve).
TRANSIENT_FIT_ALGORITHM = "mcmc-lmsder"


#: MCMC iterations of the Villar fit's start (light-curve's default is 128). With 128, mcmc-lmsder stopped
#: in a wrong minimum on injected SN-like curves (rise 100 d instead of 4, reduced chi2 ~500); with 1024
#: t0, rise, fall and baseline came back within a few % (amplitude, plateau slope and duration trade off
#: against each other) at ~50 ms per light curve instead of ~8 (tests/test_features_fits.py, bench_fits.py).
VILLAR_MCMC_NITER = 1024


def resolve_transient_fits(value: bool | str | Sequence[str] | None) -> list[str]:
    """The config's ``features.transient_fits`` as fit names: true = ["bazin"] (older configs), false = []."""
    if value is None or value is False:
        return []
    if value is True:
        return ["bazin"]
    names = [value] if isinstance(value, str) else list(value)
    unknown = [n for n in names if n not in TRANSIENT_FITS]
    if unknown:
        raise ValueError(
            f"features.transient_fits: unknown fit(s) {unknown}; use true/false or a list of {list(TRANSIENT_FITS)}"
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"features.transient_fits: fit(s) listed twice: {dupes}")
    return [n for n in TRANSIENT_FITS if n in names]  # canonical order: stable columns


@functools.lru_cache(maxsize=8)
def per_band_fit_extractor(name: str, algorithm: str = TRANSIENT_FIT_ALGORITHM) -> Any:
    """light-curve BazinFit/VillarFit for fluxes; its names are the fit's documented columns minus success."""
    cls = PER_BAND_FITS[name]
    if algorithm not in cls.supported_algorithms:
        raise ValueError(
            f"features.transient_fit_algorithm: {algorithm!r} is not one of {cls.supported_algorithms}"
        )
    fit = (
        cls(algorithm, mcmc_niter=VILLAR_MCMC_NITER)
        if name == "villar" and "mcmc" in algorithm
        else cls(algorithm)
    )
    expected = list(TRANSIENT_FITS[name])[:-1]
    if [sanitize_name(n) for n in fit.names] != expected:
        raise RuntimeError(
            f"light-curve {lc.__version__} {cls.__name__} names {fit.names} differ from the documented "
            f"columns {expected}; update skysift.features.fit_catalogue.TRANSIENT_FITS"
        )
    return fit


def mag_to_flux(m: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ZTF DR AB magnitudes and errors -> flux and flux error in microjansky (first-order error propagation)."""
    flux = 10.0 ** (-0.4 * (m - FLUX_ZP_UJY))
    return flux, 0.4 * np.log(10.0) * flux * sigma
