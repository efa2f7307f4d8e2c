"""Light-curve features of ZTF DR light curves: per-band magnitude features with the Rust ``light-curve``.

Modules: ``catalogue`` (every magnitude feature: specs, column names, meanings), ``fit_catalogue`` (the
transient fits), ``settings`` (:class:`FeatureSettings`, the ``features`` section), ``magnitude`` (the
extraction), ``tasks`` / ``dispatch`` / ``batch`` (a batch over Dask), ``colour``, ``fits`` (passes over a
whole batch), ``store`` (the h5netcdf feature store of a batch), ``view`` (the release view: HDF5 virtual
datasets over the batch stores, no copy), ``table`` (the feature table as a model input).

Public API::

    build_extractor(names="default", periodogram=None) -> (light_curve.Extractor, column names)
    extract_table(table, feature_names="default", min_points=10) -> pyarrow.Table   # one chunk, pure
    extract_features(dr_files, output_path, features, client=None, cuts=clean) -> stats dict  # a batch
    run_features(manifest, output, features, clean, dask, threads=, mem_mb=, tmpdir=)  # the workflow's stage
    skysift.features.store.combine_features(paths, output, dr=, features=, clean=)  # batches -> h5netcdf store
    skysift.features.view.write_batch_store(parquet, output, dr=, features=, clean=)  # one batch's store
    skysift.features.view.build_feature_view(stores, output)  # release view, virtual datasets, no copy
    skysift.features.view.open_feature_store(path)  # lazy xarray Dataset; refuses missing batch files

Output columns: objectid int64, filterid int8, fieldid int16, rcid int8, ra float64,
dec float64 (from objra/objdec), n_points int64, then float32 features named as in
:data:`FEATURE_DOCS` (meanings; ID columns in :data:`ID_COLUMN_DOCS`) -- the default set::

    amplitude, beyond_1_std, beyond_2_std, cusum, eta, eta_e, inter_percentile_range_25,
    inter_percentile_range_10, kurtosis, linear_fit_slope, linear_fit_slope_sigma,
    linear_fit_reduced_chi2, linear_trend, linear_trend_sigma, linear_trend_noise,
    magnitude_percentage_ratio_40_5, magnitude_percentage_ratio_20_10, maximum_slope, mean,
    median_absolute_deviation, median_buffer_range_percentage_5, percent_amplitude,
    percent_difference_magnitude_percentile_5, percent_difference_magnitude_percentile_20,
    periodogram_period_0, periodogram_period_s_to_n_0, periodogram_period_1,
    periodogram_period_s_to_n_1, chi2, skew, standard_deviation, stetson_k, weighted_mean,
    anderson_darling_normal, duration, observation_count

``features.transient_fits`` (true = [bazin], or a list of bazin, villar, rainbow) adds fits in flux
(microjansky), columns in :data:`TRANSIENT_FIT_DOCS`: per band bazin_fit_amplitude, _baseline,
_reference_time, _rise_time, _fall_time, _reduced_chi2, _success and villar_fit_amplitude, _baseline,
_reference_time, _rise_time, _fall_time, _plateau_rel_amplitude, _plateau_duration, _reduced_chi2,
_success; per g+r source (skysift.features.fits.add_rainbow, on both rows) rainbow_fit_reference_time,
_amplitude, _rise_time, _fall_time, _temperature, _temperature_amplitude, _color_time, _baseline_g,
_baseline_r, _reduced_chi2, _success.
NaN policy: too few points, invalid light curves and failed fits give NaN (counted in the log).
"""

from skysift.features.batch import extract_features, run_features
from skysift.features.catalogue import (
    DEFAULT_PERIODOGRAM,
    FEATURE_DOCS,
    FEATURE_SETS,
    FEATURES,
    ID_COLUMN_DOCS,
    output_schema,
    required_min_points,
)
from skysift.features.fit_catalogue import TRANSIENT_FIT_DOCS, TRANSIENT_FITS
from skysift.features.magnitude import build_extractor, extract_table, feature_columns
from skysift.features.settings import FeatureSettings
from skysift.features.tasks import plan_tasks

__all__ = [
    "DEFAULT_PERIODOGRAM",
    "FEATURES",
    "FEATURE_DOCS",
    "FEATURE_SETS",
    "FeatureSettings",
    "ID_COLUMN_DOCS",
    "TRANSIENT_FIT_DOCS",
    "TRANSIENT_FITS",
    "build_extractor",
    "extract_features",
    "extract_table",
    "feature_columns",
    "output_schema",
    "plan_tasks",
    "required_min_points",
    "run_features",
]
