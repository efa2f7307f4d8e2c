"""The feature catalogue: every per-band magnitude feature a config may name, its columns and their meaning.

One output row per light curve (per objectid = per filter), values in magnitudes (or days, for times
and periods) as float32. Column names are light-curve's ``.names`` made snake_case ``[a-z0-9_]``;
:data:`FEATURE_DOCS` says what each one means, :data:`FEATURE_SETS` names the configurable sets. The
transient fits have their own catalogue (:mod:`skysift.features.fit_catalogue`); the extraction is
:mod:`skysift.features.magnitude`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import light_curve as lc
import pyarrow as pa

__all__ = [
    "FEATURES",
    "FEATURE_SETS",
    "FEATURE_DOCS",
    "FeatureSpec",
    "ID_COLUMNS",
    "ID_COLUMN_DOCS",
    "INPUT_COLUMNS",
    "DEFAULT_PERIODOGRAM",
    "periodogram_docs",
    "periodogram_kwargs",
    "resolve_feature_names",
    "required_min_points",
    "sanitize_name",
    "output_schema",
]

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


def _percentiles(
    name: str, factory: Callable[..., Any], doc: str, *percents: tuple[int, ...]
) -> dict[str, FeatureSpec]:
    """Features ``<name>_<p>[_<p2>]`` of ``factory(p / 100[, p2 / 100])``: one column each, one point enough.

    ``doc`` is formatted with ``lo``/``hi`` (p and 100 - p) and, for a second percent, ``lo2``/``hi2``.
    """
    specs = {}
    for ps in percents:
        key = "_".join([name, *map(str, ps)])
        bounds = {}
        for suffix, p in zip(("", "2"), ps, strict=False):
            bounds |= {f"lo{suffix}": p, f"hi{suffix}": 100 - p}
        specs[key] = FeatureSpec(partial(factory, *(p / 100 for p in ps)), 1, {key: doc.format(**bounds)})
    return specs


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
    **_percentiles(
        "inter_percentile_range",
        lc.InterPercentileRange,
        "magnitude range {lo}th-{hi}th percentile, mag",
        (25,),
        (10,),
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
    **_percentiles(
        "magnitude_percentage_ratio",
        lc.MagnitudePercentageRatio,
        "ratio of the {lo}-{hi} and {lo2}-{hi2} percentile magnitude ranges",
        (40, 5),
        (20, 10),
    ),
    "maximum_slope": _spec(
        lc.MaximumSlope, 2, maximum_slope="largest |dm/dt| between consecutive points, mag/day"
    ),
    "mean": _spec(lc.Mean, 1, mean="mean magnitude, mag"),
    "median": _spec(lc.Median, 1, median="median magnitude, mag"),
    "median_absolute_deviation": _spec(
        lc.MedianAbsoluteDeviation, 1, median_absolute_deviation="median of |m - median(m)|, mag"
    ),
    **_percentiles(
        "median_buffer_range_percentage",
        lc.MedianBufferRangePercentage,
        "fraction of points within {lo} % of the amplitude from the median",
        (5,),
    ),
    "percent_amplitude": _spec(lc.PercentAmplitude, 1, percent_amplitude="largest |m - median(m)|, mag"),
    **_percentiles(
        "percent_difference_magnitude_percentile",
        lc.PercentDifferenceMagnitudePercentile,
        "{lo}-{hi} percentile magnitude range divided by the median magnitude",
        (5,),
        (20,),
    ),
    # Periodogram columns depend on its `peaks`; see periodogram_docs.
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


def periodogram_docs(peaks: int) -> dict[str, str]:
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
    **periodogram_docs(int(DEFAULT_PERIODOGRAM["peaks"])),
}


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


def periodogram_kwargs(periodogram: Mapping[str, Any] | None) -> dict[str, Any]:
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


def output_schema(columns: Iterable[str]) -> pa.Schema:
    """Arrow schema of a feature table: ID_COLUMNS then float32 feature columns."""
    return pa.schema([pa.field(n, t) for n, t in ID_COLUMNS] + [pa.field(c, pa.float32()) for c in columns])
