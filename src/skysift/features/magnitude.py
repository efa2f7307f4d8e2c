"""Extraction of the per-band magnitude features (and per-band transient fits) with the Rust ``light-curve``.

Speed: ``light_curve.Extractor.many`` runs at ~10 us per light curve, so nothing here
loops over light curves in Python except where measured to be cheap. The Arrow list
columns are cut via their flat value buffers and offsets (one vectorised pass for
validity and point counts) and handed to light-curve either as one zero-copy Arrow
``List<Struct<t, m, sigma>>`` array (default) or as per-light-curve numpy arrays that own
their memory (``method="owned"``). Never numpy views: light-curve runs several times
slower on views of a bigger buffer (see benchmarks/bench_features.py). What the features
are and mean: :mod:`skysift.features.catalogue`, :mod:`skysift.features.fit_catalogue`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import light_curve as lc
import numpy as np
import pyarrow as pa

from skysift.features.catalogue import (
    FEATURES,
    output_schema,
    periodogram_docs,
    periodogram_kwargs,
    required_min_points,
    resolve_feature_names,
    sanitize_name,
)
from skysift.features.fit_catalogue import (
    PER_BAND_FITS,
    TRANSIENT_FIT_ALGORITHM,
    TRANSIENT_FITS,
    fit_min_points,
    mag_to_flux,
    per_band_fit_extractor,
    resolve_transient_fits,
)

__all__ = ["build_extractor", "feature_columns", "extract_table", "extract_table_counted"]


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
        tuple(resolve_feature_names(names)), tuple(sorted(periodogram_kwargs(periodogram).items()))
    )
    fits = [f for f in resolve_transient_fits(transient_fits) if f in PER_BAND_FITS]
    return list(columns) + [col for f in fits for col in TRANSIENT_FITS[f]]


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
            kwargs = periodogram_kwargs(periodogram)
            evaluators.append(lc.Periodogram(**kwargs))
            expected.extend(periodogram_docs(int(kwargs["peaks"])))
        else:
            evaluators.append(FEATURES[key].factory())
            expected.extend(FEATURES[key].docs)
    extractor = lc.Extractor(*evaluators)
    columns = [sanitize_name(n) for n in extractor.names]
    if columns != expected:
        raise RuntimeError(
            f"light-curve {lc.__version__} feature names {columns} differ from the documented columns "
            f"{expected}; update skysift.features.catalogue.FEATURES"
        )
    return extractor, columns


@functools.lru_cache(maxsize=8)
def _cached_extractor(
    keys: tuple[str, ...], periodogram_items: tuple[tuple[str, Any], ...]
) -> tuple[Any, list[str]]:
    """Build an extractor once per worker process (building is cheap, but not free per task)."""
    return build_extractor(list(keys), dict(periodogram_items))


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
    """Features of every light curve (row) of a cleaned DR table, and counts of what was extracted.

    Light curves with fewer than ``max(min_points, required_min_points(feature_names))``
    points, or with non-finite values or non-increasing times, get NaN features.
    ``n_points`` is the number of points of each light curve; ``ra``/``dec`` come from
    ``objra``/``objdec``. ``transient_fits`` (true = ["bazin"], or a list of "bazin", "villar") adds
    per-band fits in flux (:data:`BAZIN_FIT_DOCS`, :data:`VILLAR_FIT_DOCS`) for light curves with at
    least :func:`fit_min_points` points; "rainbow" is multiband and done per batch (``fits.add_rainbow``).
    One output row per input row, same order.

    Counts: rows, extracted, too_few_points, invalid, fit_failed (all per-band fits), and per fit
    ``<fit>_fit_failed`` / ``<fit>_fit_too_few_points`` (light curves with features but fewer points
    than the fit's parameters + 1: fit columns NaN, success NaN).
    """
    keys = resolve_feature_names(feature_names)
    extractor, columns = _cached_extractor(
        tuple(keys), tuple(sorted(periodogram_kwargs(periodogram).items()))
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


def extract_table(table: pa.Table, *args: Any, **options: Any) -> pa.Table:
    """Features of every light curve (row) of a cleaned DR table; one output row per input row, same order.

    The arguments are :func:`extract_table_counted`'s; this returns only its table.
    """
    return extract_table_counted(table, *args, **options)[0]
