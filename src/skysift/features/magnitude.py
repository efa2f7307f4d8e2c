"""Per-band magnitude features of DR light curves with the Rust ``light-curve`` package.

One output row per input light curve (per objectid = per filter), feature values in
magnitudes (or days, for times and periods) as float32. Column names are light-curve's
``.names`` made snake_case ``[a-z0-9_]``; :data:`FEATURE_DOCS` says what each one means.

Speed: ``light_curve.Extractor.many`` runs at ~10 us per light curve, so nothing here
loops over light curves in Python except where measured to be cheap. The Arrow list
columns are cut via their flat value buffers and offsets (one vectorised pass for
validity and point counts) and handed to light-curve either as one zero-copy Arrow
``List<Struct<t, m, sigma>>`` array (default) or as per-light-curve numpy arrays that own
their memory (``method="owned"``). Never numpy views: light-curve runs several times
slower on views of a bigger buffer (see benchmarks/bench_features.py).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import light_curve as lc
import numpy as np
import pyarrow as pa

__all__ = [
    "FEATURES",
    "FEATURE_SETS",
    "FEATURE_DOCS",
    "ID_COLUMNS",
    "ID_COLUMN_DOCS",
    "DEFAULT_PERIODOGRAM",
    "build_extractor",
    "resolve_feature_names",
    "sanitize_name",
    "extract_table",
    "output_schema",
    "required_min_points",
    "feature_columns",
    "TRANSIENT_FIT_DOCS",
    "TRANSIENT_FITS",
    "BAZIN_FIT_DOCS",
    "VILLAR_FIT_DOCS",
    "RAINBOW_FIT_DOCS",
    "PER_BAND_FITS",
    "fit_min_points",
    "resolve_transient_fits",
    "per_band_fit_extractor",
    "mag_to_flux",
]

logger = logging.getLogger(__name__)

#: Default Lomb-Scargle settings (light-curve's "fast" FFT periodogram).
#: The grid reaches ``max_freq_factor`` x the *average* Nyquist frequency N / (2 T): its size,
#: and so the cost, grows with the number of points, not with the baseline. On ZTF-like
#: cadence (visits every 1-3 nights in seasons) this finds periods longer than ~1-4 days
#: within 1 % but not sub-day periods (RR Lyrae, delta Scuti, short eclipsing binaries).
#: For those set e.g. ``{"nyquist": 0.1, "max_freq_factor": 1}`` (Nyquist from the 10 %
#: quantile of time gaps): measured 15-100x slower on 30-400-point light curves.
DEFAULT_PERIODOGRAM: dict[str, Any] = {
    "peaks": 2,
    "resolution": 10.0,
    "max_freq_factor": 2.0,
    "nyquist": "average",
    "fast": True,
}

#: Identifier/position columns written before the features (name -> Arrow type).
ID_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("objectid", pa.int64()),
    ("filterid", pa.int8()),
    ("fieldid", pa.int16()),
    ("rcid", pa.int8()),
    ("ra", pa.float64()),
    ("dec", pa.float64()),
    ("n_points", pa.int64()),
)

#: Meaning of the identifier/position columns.
ID_COLUMN_DOCS: dict[str, str] = {
    "objectid": "ZTF DR object id (one per field, CCD quadrant and filter)",
    "filterid": "ZTF filter: 1 g, 2 r, 3 i",
    "fieldid": "ZTF field",
    "rcid": "readout channel (CCD quadrant) 0..63",
    "ra": "right ascension of the object (DR objra), deg",
    "dec": "declination of the object (DR objdec), deg",
    "n_points": "number of epochs in the (cleaned) light curve; features are NaN below the minimum",
}

#: DR columns a feature task reads.
INPUT_COLUMNS: tuple[str, ...] = (
    "objectid",
    "filterid",
    "fieldid",
    "rcid",
    "objra",
    "objdec",
    "hmjd",
    "mag",
    "magerr",
)


def sanitize_name(name: str) -> str:
    """Make a light-curve feature name a stable snake_case column name ([a-z0-9_])."""
    return re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")


@dataclass(frozen=True)
class FeatureSpec:
    """One configurable feature: a light-curve evaluator factory, its minimum points, its columns' docs."""

    factory: Callable[[], Any]
    min_points: int
    docs: dict[str, str] = field(default_factory=dict)


def _spec(factory: Callable[[], Any], min_points: int, **docs: str) -> FeatureSpec:
    """Shorthand for a FeatureSpec whose column docs are keyword arguments."""
    return FeatureSpec(factory, min_points, dict(docs))


#: Every feature a config may name (key -> spec). Minimum points are light-curve's documented ones.
FEATURES: dict[str, FeatureSpec] = {
    "amplitude": _spec(lc.Amplitude, 1, amplitude="half the range max(m) - min(m), mag"),
    "beyond_1_std": _spec(
        lambda: lc.BeyondNStd(1.0), 2, beyond_1_std="fraction of points more than 1 std from the mean"
    ),
    "beyond_2_std": _spec(
        lambda: lc.BeyondNStd(2.0), 2, beyond_2_std="fraction of points more than 2 std from the mean"
    ),
    "cusum": _spec(lc.Cusum, 2, cusum="range of the cumulative sum of standardised magnitudes"),
    "eta": _spec(lc.Eta, 2, eta="von Neumann ratio: mean squared successive difference / variance"),
    "eta_e": _spec(lc.EtaE, 2, eta_e="von Neumann ratio generalised to irregular sampling (time-weighted)"),
    "inter_percentile_range_25": _spec(
        lambda: lc.InterPercentileRange(0.25),
        1,
        inter_percentile_range_25="magnitude range 25th-75th percentile, mag",
    ),
    "inter_percentile_range_10": _spec(
        lambda: lc.InterPercentileRange(0.1),
        1,
        inter_percentile_range_10="magnitude range 10th-90th percentile, mag",
    ),
    "kurtosis": _spec(lc.Kurtosis, 4, kurtosis="unbiased excess kurtosis of magnitudes"),
    "linear_fit": _spec(
        lc.LinearFit,
        3,
        linear_fit_slope="slope of the error-weighted linear fit m(t), mag/day",
        linear_fit_slope_sigma="uncertainty of linear_fit_slope, mag/day",
        linear_fit_reduced_chi2="reduced chi2 of the weighted linear fit",
    ),
    "linear_trend": _spec(
        lc.LinearTrend,
        3,
        linear_trend="slope of the unweighted least-squares line m(t), mag/day",
        linear_trend_sigma="uncertainty of linear_trend, mag/day",
        linear_trend_noise="standard deviation of residuals around the unweighted line, mag",
    ),
    "magnitude_percentage_ratio_40_5": _spec(
        lambda: lc.MagnitudePercentageRatio(0.4, 0.05),
        1,
        magnitude_percentage_ratio_40_5="ratio of the 40-60 and 5-95 percentile magnitude ranges",
    ),
    "magnitude_percentage_ratio_20_10": _spec(
        lambda: lc.MagnitudePercentageRatio(0.2, 0.1),
        1,
        magnitude_percentage_ratio_20_10="ratio of the 20-80 and 10-90 percentile magnitude ranges",
    ),
    "maximum_slope": _spec(
        lc.MaximumSlope, 2, maximum_slope="largest |dm/dt| between consecutive points, mag/day"
    ),
    "mean": _spec(lc.Mean, 1, mean="mean magnitude, mag"),
    "median": _spec(lc.Median, 1, median="median magnitude, mag"),
    "median_absolute_deviation": _spec(
        lc.MedianAbsoluteDeviation, 1, median_absolute_deviation="median of |m - median(m)|, mag"
    ),
    "median_buffer_range_percentage_5": _spec(
        lambda: lc.MedianBufferRangePercentage(0.05),
        1,
        median_buffer_range_percentage_5="fraction of points within 5 % of the amplitude from the median",
    ),
    "percent_amplitude": _spec(lc.PercentAmplitude, 1, percent_amplitude="largest |m - median(m)|, mag"),
    "percent_difference_magnitude_percentile_5": _spec(
        lambda: lc.PercentDifferenceMagnitudePercentile(0.05),
        1,
        percent_difference_magnitude_percentile_5="5-95 percentile magnitude range divided by the median magnitude",
    ),
    "percent_difference_magnitude_percentile_20": _spec(
        lambda: lc.PercentDifferenceMagnitudePercentile(0.2),
        1,
        percent_difference_magnitude_percentile_20="20-80 percentile magnitude range divided by the median magnitude",
    ),
    # Periodogram columns depend on its `peaks`; see _periodogram_docs.
    "periodogram": FeatureSpec(lambda: lc.Periodogram(**DEFAULT_PERIODOGRAM), 2),
    "chi2": _spec(lc.ReducedChi2, 2, chi2="reduced chi2 of a constant (weighted-mean) model"),
    "skew": _spec(lc.Skew, 3, skew="unbiased skewness of magnitudes (>0: tail to fainter magnitudes)"),
    "standard_deviation": _spec(
        lc.StandardDeviation, 2, standard_deviation="standard deviation of magnitudes, mag"
    ),
    "stetson_k": _spec(
        lc.StetsonK, 2, stetson_k="Stetson K: mean |residual|/sqrt(mean residual^2), ~0.798 for Gaussian"
    ),
    "weighted_mean": _spec(lc.WeightedMean, 1, weighted_mean="inverse-variance weighted mean magnitude, mag"),
    "anderson_darling_normal": _spec(
        lc.AndersonDarlingNormal,
        4,
        anderson_darling_normal="Anderson-Darling statistic against a normal distribution",
    ),
    "duration": _spec(lc.Duration, 1, duration="time span last - first observation, days"),
    "observation_count": _spec(lc.ObservationCount, 0, observation_count="number of points used"),
}

_DEFAULT_KEYS = [
    "amplitude",
    "beyond_1_std",
    "beyond_2_std",
    "cusum",
    "eta",
    "eta_e",
    "inter_percentile_range_25",
    "inter_percentile_range_10",
    "kurtosis",
    "linear_fit",
    "linear_trend",
    "magnitude_percentage_ratio_40_5",
    "magnitude_percentage_ratio_20_10",
    "maximum_slope",
    "mean",
    "median_absolute_deviation",
    "median_buffer_range_percentage_5",
    "percent_amplitude",
    "percent_difference_magnitude_percentile_5",
    "percent_difference_magnitude_percentile_20",
    "periodogram",
    "chi2",
    "skew",
    "standard_deviation",
    "stetson_k",
    "weighted_mean",
    "anderson_darling_normal",
    "duration",
    "observation_count",
]

#: Named feature sets: "default" is the SNAD set for ZTF DR anomaly detection; "cheap" drops the periodogram.
FEATURE_SETS: dict[str, list[str]] = {
    "default": list(_DEFAULT_KEYS),
    "cheap": [k for k in _DEFAULT_KEYS if k != "periodogram"],
}


def _periodogram_docs(peaks: int) -> dict[str, str]:
    """Column docs of a Periodogram with ``peaks`` peaks."""
    docs: dict[str, str] = {}
    for i in range(peaks):
        docs[f"periodogram_period_{i}"] = f"period of the {_ordinal(i + 1)} highest Lomb-Scargle peak, days"
        docs[f"periodogram_period_s_to_n_{i}"] = (
            f"signal-to-noise of the {_ordinal(i + 1)} peak: (P_peak - mean P) / std P"
        )
    return docs


def _ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', ..."""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")
    return f"{n}{suffix}"


#: Every column name a feature can produce (default periodogram peaks) -> one-line meaning.
FEATURE_DOCS: dict[str, str] = {
    **{col: doc for spec in FEATURES.values() for col, doc in spec.docs.items()},
    **_periodogram_docs(int(DEFAULT_PERIODOGRAM["peaks"])),
}


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


#: Fewest points a Bazin fit is tried on (5 parameters; light-curve's documented minimum is 6).
TRANSIENT_FIT_MIN_POINTS = fit_min_points("bazin")


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
            f"columns {expected}; update skysift.features.magnitude.TRANSIENT_FITS"
        )
    return fit


def transient_fit_extractor(algorithm: str = TRANSIENT_FIT_ALGORITHM) -> Any:
    """light-curve BazinFit for fluxes (kept for callers of the Bazin-only API)."""
    return per_band_fit_extractor("bazin", algorithm)


def mag_to_flux(m: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ZTF DR AB magnitudes and errors -> flux and flux error in microjansky (first-order error propagation)."""
    flux = 10.0 ** (-0.4 * (m - FLUX_ZP_UJY))
    return flux, 0.4 * np.log(10.0) * flux * sigma


def feature_columns(
    names: str | Sequence[str],
    periodogram: Mapping[str, Any] | None = None,
    transient_fits: bool | Sequence[str] = False,
) -> list[str]:
    """Feature columns (after ID_COLUMNS) of the feature tasks: magnitude features, then per-band fits.

    The multiband Rainbow columns are not among them: a pass over the whole batch appends them
    (skysift.features.fits.add_rainbow), after the colours.
    """
    _, columns = _cached_extractor(
        tuple(resolve_feature_names(names)), tuple(sorted(_periodogram_kwargs(periodogram).items()))
    )
    fits = [f for f in resolve_transient_fits(transient_fits) if f in PER_BAND_FITS]
    return list(columns) + [col for f in fits for col in TRANSIENT_FITS[f]]


def resolve_feature_names(names: str | Sequence[str]) -> list[str]:
    """Turn the config's ``features.names`` (a set name or a list of feature keys) into feature keys."""
    if isinstance(names, str):
        if names not in FEATURE_SETS:
            raise ValueError(
                f"features.names: unknown feature set {names!r}; use one of {sorted(FEATURE_SETS)} "
                f"or a list of feature names from {sorted(FEATURES)}"
            )
        return list(FEATURE_SETS[names])
    keys = list(names)
    unknown = [k for k in keys if k not in FEATURES]
    if unknown:
        raise ValueError(f"features.names: unknown feature(s) {unknown}; known: {sorted(FEATURES)}")
    if not keys:
        raise ValueError(
            "features.names is empty; give a feature set name such as 'default' or a list of features"
        )
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"features.names: feature(s) listed twice: {dupes}")
    return keys


def required_min_points(names: str | Sequence[str]) -> int:
    """Fewest points for which every requested feature is defined (light-curve's per-feature minimums, at least 2).

    Light curves below this get NaN for every feature: light-curve's periodogram panics
    (a Rust panic, not an exception one can skip) on a single point.
    """
    return max(2, *(FEATURES[k].min_points for k in resolve_feature_names(names)))


def _periodogram_kwargs(periodogram: Mapping[str, Any] | None) -> dict[str, Any]:
    """Default periodogram settings updated with the config's ``features.periodogram``."""
    kwargs = dict(DEFAULT_PERIODOGRAM)
    if periodogram:
        unknown = set(periodogram) - set(DEFAULT_PERIODOGRAM)
        if unknown:
            raise ValueError(
                f"features.periodogram: unknown key(s) {sorted(unknown)}; known: {sorted(DEFAULT_PERIODOGRAM)}"
            )
        kwargs.update(periodogram)
    return kwargs


def build_extractor(
    names: str | Sequence[str] = "default", periodogram: Mapping[str, Any] | None = None
) -> tuple[Any, list[str]]:
    """Build the light-curve Extractor for ``names`` (a set name or feature keys); return it and its column names.

    Raises RuntimeError if light-curve's own feature names no longer match the documented
    column names (a light-curve upgrade renamed something): columns must stay stable.
    """
    keys = resolve_feature_names(names)
    evaluators = []
    expected: list[str] = []
    for key in keys:
        if key == "periodogram":
            kwargs = _periodogram_kwargs(periodogram)
            evaluators.append(lc.Periodogram(**kwargs))
            expected.extend(_periodogram_docs(int(kwargs["peaks"])))
        else:
            evaluators.append(FEATURES[key].factory())
            expected.extend(FEATURES[key].docs)
    extractor = lc.Extractor(*evaluators)
    columns = [sanitize_name(n) for n in extractor.names]
    if columns != expected:
        raise RuntimeError(
            f"light-curve {lc.__version__} feature names {columns} differ from the documented columns "
            f"{expected}; update skysift.features.magnitude.FEATURES"
        )
    return extractor, columns


@functools.lru_cache(maxsize=8)
def _cached_extractor(
    keys: tuple[str, ...], periodogram_items: tuple[tuple[str, Any], ...]
) -> tuple[Any, list[str]]:
    """Build an extractor once per worker process (building is cheap, but not free per task)."""
    return build_extractor(list(keys), dict(periodogram_items))


def output_schema(columns: Iterable[str]) -> pa.Schema:
    """Arrow schema of a feature table: ID_COLUMNS then float32 feature columns."""
    return pa.schema([pa.field(n, t) for n, t in ID_COLUMNS] + [pa.field(c, pa.float32()) for c in columns])


def _flat_list(col: pa.ChunkedArray | pa.Array, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat values (as ``dtype``), 0-based offsets and validity of an Arrow list column, without a Python loop."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    offsets = np.asarray(arr.offsets, dtype=np.int64)
    start, stop = int(offsets[0]), int(offsets[-1])
    values = arr.values.slice(start, stop - start)
    flat = np.asarray(values.to_numpy(zero_copy_only=False), dtype=dtype)
    valid = (
        np.ones(len(arr), dtype=bool)
        if arr.null_count == 0
        else np.asarray(arr.is_valid().to_numpy(zero_copy_only=False))
    )
    return flat, offsets - start, valid


def _rows_with(bad: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per light curve: does it contain any flagged point (bad is per flat point)?"""
    csum = np.concatenate([[0], np.cumsum(bad, dtype=np.int64)])
    return (csum[offsets[1:]] - csum[offsets[:-1]]) > 0


def _prepare(
    table: pa.Table,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat float64 t, m, sigma with shared offsets, point counts and a per-row 'usable' mask."""
    t, off_t, valid_t = _flat_list(table.column("hmjd"), np.float64)
    m, off_m, valid_m = _flat_list(table.column("mag"), np.float64)
    s, off_s, valid_s = _flat_list(table.column("magerr"), np.float64)
    if not (np.array_equal(off_t, off_m) and np.array_equal(off_t, off_s)):
        n_bad = int(np.count_nonzero((np.diff(off_t) != np.diff(off_m)) | (np.diff(off_t) != np.diff(off_s))))
        raise ValueError(
            f"{n_bad} light curve(s) have hmjd/mag/magerr lists of different lengths; "
            "the input is not a valid ZTF DR light-curve table"
        )
    n_points = np.diff(off_t)
    usable = valid_t & valid_m & valid_s
    if len(t):
        nonfinite = ~(np.isfinite(t) & np.isfinite(m) & np.isfinite(s))
        # Times must increase strictly within each light curve (light-curve is called with sorted=True).
        not_increasing = np.zeros(len(t), dtype=bool)
        not_increasing[1:] = t[1:] <= t[:-1]
        not_increasing[off_t[:-1][n_points > 0]] = False  # first point of each light curve has no predecessor
        usable &= ~_rows_with(nonfinite | not_increasing, off_t)
    return t, m, s, off_t, n_points, usable


def _many(
    extractor: Any,
    t: np.ndarray,
    m: np.ndarray,
    s: np.ndarray,
    offsets: np.ndarray,
    rows: np.ndarray,
    n_jobs: int,
    method: str,
) -> np.ndarray:
    """Run ``extractor.many`` on the light curves ``rows`` (indices) of the flat buffers."""
    kwargs = {"sorted": True, "check": False, "fill_value": np.nan, "n_jobs": n_jobs}
    if method == "arrow":
        starts, stops = offsets[:-1][rows], offsets[1:][rows]
        if len(rows) == len(offsets) - 1:
            sel_t, sel_m, sel_s, sel_off = t, m, s, offsets
        else:  # gather the selected light curves into contiguous buffers: one vectorised copy
            lengths = stops - starts
            idx = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(
                lengths.sum()
            )
            sel_t, sel_m, sel_s = t[idx], m[idx], s[idx]
            sel_off = np.concatenate([[0], np.cumsum(lengths)])
        if sel_off[-1] >= 2**31:
            raise ValueError(
                "too many points in one task for 32-bit Arrow offsets; lower features.rows_per_task"
            )
        struct = pa.StructArray.from_arrays(
            [pa.array(sel_t), pa.array(sel_m), pa.array(sel_s)], names=["t", "m", "sigma"]
        )
        lcs = pa.ListArray.from_arrays(pa.array(sel_off.astype(np.int32)), struct)
        return extractor.many(lcs, arrow_fields={"t": "t", "m": "m", "sigma": "sigma"}, **kwargs)
    if method == "owned":
        lcs = [
            (t[a:b].copy(), m[a:b].copy(), s[a:b].copy())
            for a, b in zip(offsets[:-1][rows], offsets[1:][rows], strict=True)
        ]
        return extractor.many(lcs, **kwargs)
    if method == "views":  # only for the benchmark: what not to do
        lcs = [(t[a:b], m[a:b], s[a:b]) for a, b in zip(offsets[:-1][rows], offsets[1:][rows], strict=True)]
        return extractor.many(lcs, **kwargs)
    raise ValueError(f"unknown method {method!r}; use 'arrow' or 'owned'")


def extract_table_counted(
    table: pa.Table,
    feature_names: str | Sequence[str] = "default",
    min_points: int = 10,
    *,
    n_jobs: int = 1,
    periodogram: Mapping[str, Any] | None = None,
    method: str = "arrow",
    transient_fits: bool | Sequence[str] = False,
    transient_fit_algorithm: str = TRANSIENT_FIT_ALGORITHM,
) -> tuple[pa.Table, dict[str, int]]:
    """Like :func:`extract_table`, also returning counts.

    Counts: rows, extracted, too_few_points, invalid, fit_failed (all per-band fits), and per fit
    ``<fit>_fit_failed`` / ``<fit>_fit_too_few_points`` (light curves with features but fewer points
    than the fit's parameters + 1: fit columns NaN, success NaN).
    """
    keys = resolve_feature_names(feature_names)
    extractor, columns = _cached_extractor(
        tuple(keys), tuple(sorted(_periodogram_kwargs(periodogram).items()))
    )
    floor = max(int(min_points), required_min_points(keys))
    fits = [f for f in resolve_transient_fits(transient_fits) if f in PER_BAND_FITS]
    n_mag = len(columns)
    columns = [*columns, *(col for f in fits for col in TRANSIENT_FITS[f])]
    schema = output_schema(columns)
    n_rows = table.num_rows
    counts = {"rows": n_rows, "extracted": 0, "too_few_points": 0, "invalid": 0, "fit_failed": 0}
    for f in fits:
        counts[f"{f}_fit_failed"] = counts[f"{f}_fit_too_few_points"] = 0
    if n_rows == 0:
        return schema.empty_table(), counts

    t, m, s, offsets, n_points, usable = _prepare(table)
    enough = n_points >= floor
    rows = np.flatnonzero(enough & usable)
    counts["too_few_points"] = int(np.count_nonzero(~enough))
    counts["invalid"] = int(np.count_nonzero(enough & ~usable))
    counts["extracted"] = len(rows)

    values = np.full((n_rows, len(columns)), np.nan, dtype=np.float32)
    if len(rows):
        values[rows, :n_mag] = _many(extractor, t, m, s, offsets, rows, n_jobs, method)
    if fits and len(rows):
        flux, flux_err = mag_to_flux(m, s)
        start = n_mag
        for name in fits:
            width = len(TRANSIENT_FITS[name])
            enough_for_fit = n_points[rows] >= fit_min_points(name)
            fit_rows = rows[enough_for_fit]
            counts[f"{name}_fit_too_few_points"] = int(np.count_nonzero(~enough_for_fit))
            if len(fit_rows):
                result = _many(
                    per_band_fit_extractor(name, transient_fit_algorithm),
                    t,
                    flux,
                    flux_err,
                    offsets,
                    fit_rows,
                    n_jobs,
                    method,
                )
                with np.errstate(over="ignore"):  # a diverged fit can exceed float32: counted as failed
                    result32 = result.astype(np.float32)
                ok = np.isfinite(result32).all(axis=1)
                result32[~ok] = np.nan
                values[fit_rows, start : start + width - 1] = result32
                values[fit_rows, start + width - 1] = ok
                counts[f"{name}_fit_failed"] = int(np.count_nonzero(~ok))
                counts["fit_failed"] += counts[f"{name}_fit_failed"]
            start += width

    arrays = [
        table.column("objectid").cast(pa.int64()),
        table.column("filterid").cast(pa.int8()),
        table.column("fieldid").cast(pa.int16()),
        table.column("rcid").cast(pa.int8()),
        table.column("objra").cast(pa.float64()),
        table.column("objdec").cast(pa.float64()),
        pa.array(n_points, type=pa.int64()),
    ]
    arrays += [pa.array(values[:, j]) for j in range(len(columns))]
    return pa.Table.from_arrays(arrays, schema=schema), counts


def extract_table(
    table: pa.Table,
    feature_names: str | Sequence[str] = "default",
    min_points: int = 10,
    *,
    n_jobs: int = 1,
    periodogram: Mapping[str, Any] | None = None,
    method: str = "arrow",
    transient_fits: bool | Sequence[str] = False,
    transient_fit_algorithm: str = TRANSIENT_FIT_ALGORITHM,
) -> pa.Table:
    """Features of every light curve (row) of a cleaned DR table; one output row per input row, same order.

    Light curves with fewer than ``max(min_points, required_min_points(feature_names))``
    points, or with non-finite values or non-increasing times, get NaN features.
    ``n_points`` is the number of points of each light curve; ``ra``/``dec`` come from
    ``objra``/``objdec``. ``transient_fits`` (true = ["bazin"], or a list of "bazin", "villar") adds
    per-band fits in flux (:data:`BAZIN_FIT_DOCS`, :data:`VILLAR_FIT_DOCS`) for light curves with at
    least :func:`fit_min_points` points; "rainbow" is multiband and done per batch (``fits.add_rainbow``).
    """
    return extract_table_counted(
        table,
        feature_names,
        min_points,
        n_jobs=n_jobs,
        periodogram=periodogram,
        method=method,
        transient_fits=transient_fits,
        transient_fit_algorithm=transient_fit_algorithm,
    )[0]
