"""Multiband Rainbow fit of sky sources whose g and r objectids are associated by position (optional).

ZTF DR objectids are per filter; :func:`skysift.sky.associate_sources` joins the
g/r objectids of one sky source (as for the colours, :mod:`skysift.features.colour`: the light curve
with most points per band). light-curve's RainbowFit (Russeil et al. 2023, arXiv:2310.02916) fits
both bands' fluxes (microjansky from the DR magnitudes, ZTF AB zero point) at once: a Bazin
bolometric light curve times a blackbody of sigmoid temperature, plus one baseline per band
(DR light curves are PSF photometry of the whole object, so the host stays in). The columns
(:data:`~skysift.features.fit_catalogue.RAINBOW_FIT_DOCS`) go on both the g and the r row of the source;
other rows get NaN (``rainbow_fit_success`` NaN: not tried).

RainbowFit is pure Python on iminuit (optional extra ``skysift[rainbow]``) and costs tens of
milliseconds per source (benchmarks/README.md), so it is off by default and runs per batch, after the
feature tasks, in the process that writes the batch file. Memory: the g light curves of associated
sources are held until their r partner is read (files are sorted by objectid, filter g before r).
"""

from __future__ import annotations

import functools
import logging
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from skysift.clean.read import LightCurveReader
from skysift.features.catalogue import sanitize_name
from skysift.features.colour import BRIGHTNESS_COLUMNS, light_curve_brightness
from skysift.features.fit_catalogue import RAINBOW_FIT_DOCS, fit_min_points, mag_to_flux
from skysift.io import atomic_path

__all__ = [
    "ZTF_BAND_WAVELENGTH_AA",
    "RAINBOW_MIN_POINTS_PER_BAND",
    "rainbow_fit_extractor",
    "rainbow_pairs",
    "fit_rainbow",
    "add_rainbow",
]

logger = logging.getLogger(__name__)

#: Effective wavelengths of the ZTF g and r filters, angstrom (SVO filter profile service, Palomar/ZTF).
ZTF_BAND_WAVELENGTH_AA: dict[str, float] = {"g": 4746.48, "r": 6366.38}
#: Fewest points per band: one baseline per band needs a few points of its own.
RAINBOW_MIN_POINTS_PER_BAND = 3
#: Light-curve parameter names -> column names where sanitize_name does not say it well.
_RAINBOW_RENAME = {"t": "temperature", "t_amplitude": "temperature_amplitude", "t_color": "color_time"}

RAINBOW_INSTALL_HINT = (
    "features.transient_fits: 'rainbow' needs iminuit (light_curve.RainbowFit fits with it); "
    "install it with `pip install 'skysift[rainbow]'` (or `pip install iminuit`), or drop 'rainbow' "
    "from features.transient_fits"
)


#: RainbowFit optimiser: scipy's trust-region least squares with the analytic Jacobian (light-curve falls
#: back to iminuit when it does not converge). On injected g+r supernovae it found the right minimum 20/20
#: times at ~45 ms per source; iminuit alone 18/20 at ~200 ms (the misses have reduced chi2 2.6-4).
RAINBOW_OPTIMIZER = "least_squares"


@functools.lru_cache(maxsize=2)
def rainbow_fit_extractor(optimizer: str = RAINBOW_OPTIMIZER) -> Any:
    """light_curve.RainbowFit for ZTF g/r fluxes with per-band baselines; ImportError with a hint without iminuit."""
    try:
        import iminuit  # noqa: F401
    except ImportError as exc:
        raise ImportError(RAINBOW_INSTALL_HINT) from exc
    from light_curve import RainbowFit

    with warnings.catch_warnings():  # light-curve marks RainbowFit experimental at construction
        warnings.simplefilter("ignore")
        fit = RainbowFit.from_angstrom(ZTF_BAND_WAVELENGTH_AA, with_baseline=True, optimizer=optimizer)
    columns = [f"rainbow_fit_{_RAINBOW_RENAME.get(n, n)}" for n in map(sanitize_name, fit.names)]
    expected = list(RAINBOW_FIT_DOCS)[:-2]  # minus reduced_chi2 and success
    if columns != expected:
        raise RuntimeError(
            f"light_curve.RainbowFit parameters {fit.names} differ from the documented columns {expected}; "
            "update skysift.features.fit_catalogue.RAINBOW_FIT_DOCS"
        )
    return fit


def rainbow_pairs(bright: pd.DataFrame, radius_arcsec: float = 1.0) -> pd.DataFrame:
    """Per associated source with a g and an r light curve: source_id, objectid_g, objectid_r."""
    from skysift.sky import associate_sources

    if bright.empty:
        return pd.DataFrame({"source_id": [], "objectid_g": [], "objectid_r": []}, dtype=np.int64)
    assoc = associate_sources(bright, radius_arcsec=radius_arcsec)
    best = assoc.sort_values("n_points", ascending=False).drop_duplicates(["source_id", "filterid"])
    g = best[best["filterid"] == 1].set_index("source_id")["objectid"]
    r = best[best["filterid"] == 2].set_index("source_id")["objectid"]
    pairs = pd.concat({"objectid_g": g, "objectid_r": r}, axis=1, join="inner")
    return pairs.reset_index().astype(np.int64)


def fit_rainbow(
    t: np.ndarray, flux: np.ndarray, flux_err: np.ndarray, band: np.ndarray, fit: Any | None = None
) -> np.ndarray:
    """Rainbow parameters + reduced chi2 + success (1/0) of one g+r flux light curve; a failed fit gives NaN, 0.

    ``band`` holds "g"/"r" per point. Any exception of the optimiser, or a non-finite result,
    counts as a failure: one bad source never stops a batch.
    """
    fit = fit if fit is not None else rainbow_fit_extractor()
    width = len(RAINBOW_FIT_DOCS)
    out = np.full(width, np.nan)
    order = np.argsort(t, kind="stable")
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            values = np.asarray(
                fit(t[order], flux[order], flux_err[order], band[order], sorted=True, check=False),
                dtype=np.float64,
            )
    except (RuntimeError, ValueError, FloatingPointError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        logger.debug("Rainbow fit failed: %s", exc)
        out[-1] = 0.0
        return out
    if values.shape != (width - 1,) or not np.isfinite(values).all():
        out[-1] = 0.0
        return out
    out[:-1] = values
    out[-2] *= 2.0  # light-curve reports 0.5 chi2 / dof (its Minuit cost): make it chi2 / dof like the others
    out[-1] = 1.0
    return out


def _light_curves(
    read: LightCurveReader, wanted: Iterable[int]
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """(objectid, hmjd, flux, flux_err) of the ``wanted`` objectids, piece by piece."""
    wanted = pa.array(sorted(int(i) for i in wanted), type=pa.int64())
    for piece in read(("objectid", "hmjd", "mag", "magerr")):
        table = piece.filter(pc.is_in(piece.column("objectid"), value_set=wanted))
        for oid, t, m, s in zip(
            table.column("objectid").to_numpy(),
            table.column("hmjd").to_pylist(),
            table.column("mag").to_pylist(),
            table.column("magerr").to_pylist(),
            strict=True,
        ):
            flux, flux_err = mag_to_flux(np.asarray(m, dtype=np.float64), np.asarray(s, dtype=np.float64))
            yield int(oid), np.asarray(t, dtype=np.float64), flux, flux_err


def source_rainbow_fits(
    read: LightCurveReader, min_points: int, radius_arcsec: float = 1.0
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rainbow fit of every associated g+r source of a batch: one row per g and r objectid, and counts.

    ``read`` reads the batch's cleaned light curves (:func:`skysift.clean.read.batch_reader`).
    """
    bright = light_curve_brightness(read(BRIGHTNESS_COLUMNS))
    pairs = rainbow_pairs(bright, radius_arcsec)
    n_points = dict(zip(bright["objectid"], bright["n_points"], strict=True)) if len(bright) else {}
    per_band = max(RAINBOW_MIN_POINTS_PER_BAND, int(min_points))
    n_g = pairs["objectid_g"].map(n_points).to_numpy()
    n_r = pairs["objectid_r"].map(n_points).to_numpy()
    enough = (n_g >= per_band) & (n_r >= per_band) & (n_g + n_r >= fit_min_points("rainbow"))
    counts = {
        "sources": len(pairs),
        "too_few_points": int(np.count_nonzero(~enough)),
        "fitted": 0,
        "failed": 0,
    }
    pairs = pairs[enough]
    if pairs.empty:
        return pd.DataFrame({"objectid": [], **{c: [] for c in RAINBOW_FIT_DOCS}}), counts
    fit = rainbow_fit_extractor()
    partner = {
        **dict(zip(pairs["objectid_g"], pairs["objectid_r"], strict=True)),
        **dict(zip(pairs["objectid_r"], pairs["objectid_g"], strict=True)),
    }
    waiting: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    oids: list[int] = []
    rows: list[np.ndarray] = []
    g_ids = set(pairs["objectid_g"].tolist())
    t0 = time.perf_counter()
    for oid, t, flux, flux_err in _light_curves(read, set(partner)):
        other = partner[oid]
        if other not in waiting:
            waiting[oid] = (t, flux, flux_err)
            continue
        ot, of, oe = waiting.pop(other)
        current_is_g = oid in g_ids  # usually not: files are sorted by objectid, g (filter 1) before r
        g, r = ((t, flux, flux_err), (ot, of, oe)) if current_is_g else ((ot, of, oe), (t, flux, flux_err))
        band = np.array(["g"] * len(g[0]) + ["r"] * len(r[0]))
        parts = (g, r)
        result = fit_rainbow(*(np.concatenate([a[i] for a in parts]) for i in range(3)), band, fit)
        oids += [oid, other]
        rows += [result, result]
        counts["fitted"] += 1
        counts["failed"] += int(result[-1] == 0)
    if waiting:  # pragma: no cover - every paired objectid is in the batch it was associated from
        logger.warning("rainbow fits: %d light curve(s) never met their partner: not fitted", len(waiting))
    seconds = time.perf_counter() - t0
    logger.info(
        "rainbow fits: %d g+r sources fitted in %.1f s (%.1f ms each), %d failed (columns NaN, "
        "rainbow_fit_success 0), %d of %d associated sources with < %d points in a band not tried",
        counts["fitted"],
        seconds,
        1e3 * seconds / max(1, counts["fitted"]),
        counts["failed"],
        counts["too_few_points"],
        counts["sources"],
        per_band,
    )
    table = pd.DataFrame(np.array(rows).reshape(-1, len(RAINBOW_FIT_DOCS)), columns=list(RAINBOW_FIT_DOCS))
    table.insert(0, "objectid", np.array(oids, dtype=np.int64))
    return table, counts


def add_rainbow(feature_path: str | Path, read: LightCurveReader, min_points: int) -> dict[str, int]:
    """Append RAINBOW_FIT_DOCS columns to a feature parquet file (rewritten row group by row group); return counts."""
    fits, counts = source_rainbow_fits(read, min_points)
    fits = fits.sort_values("objectid")
    oids = fits["objectid"].to_numpy()
    pf = pq.ParquetFile(feature_path)
    schema = pf.schema_arrow
    for name in RAINBOW_FIT_DOCS:
        schema = schema.append(pa.field(name, pa.float32()))
    with atomic_path(feature_path) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for rg in range(pf.metadata.num_row_groups):
            table = pf.read_row_group(rg)
            ids = table.column("objectid").to_numpy()
            idx = np.clip(np.searchsorted(oids, ids), 0, max(0, len(oids) - 1))
            found = (oids[idx] == ids) if len(oids) else np.zeros(len(ids), dtype=bool)
            for name in RAINBOW_FIT_DOCS:
                col = np.full(len(ids), np.nan, dtype=np.float32)
                if len(oids):
                    col[found] = fits[name].to_numpy()[idx[found]]
                table = table.append_column(name, pa.array(col))
            writer.write_table(table)
    return counts
