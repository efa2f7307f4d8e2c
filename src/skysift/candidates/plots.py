"""Overview figures of the candidate lists: the anomaly-score distribution and a sky map; plot order.

The light-curve PNGs of the candidates are drawn by :mod:`skysift.candidates.lightcurves`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from astropy.table import Table
from astropy_healpix import HEALPix

from skysift.io import InputError, atomic_path

__all__ = [
    "SkyDensity",
    "merge_lists",
    "plot_order",
    "plot_score_distribution",
    "plot_sky_map",
    "sky_density",
]

logger = logging.getLogger(__name__)

_LIST_COLOURS = ("#d62728", "#1f77b4", "#ff7f0e", "#9467bd", "#2ca02c", "#17becf", "#e377c2")


def _pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed, safe in worker processes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def merge_lists(tables: Mapping[str, Table]) -> Table:
    """One row per objectid over all lists (its first occurrence), for plotting."""
    from astropy.table import unique, vstack

    if not tables:
        raise InputError("no candidate lists given")
    merged = vstack(list(tables.values()), metadata_conflicts="silent")
    return unique(merged, keys="objectid", keep="first") if len(merged) else merged


def plot_order(tables: Mapping[str, Table], max_plots: int) -> list[int]:
    """Objectids to plot: every list's rows interleaved by list position, deduplicated, at most ``max_plots``."""
    rows = []
    for k, table in enumerate(tables.values()):
        for pos, oid in enumerate(np.asarray(table["objectid"], dtype=np.int64)):
            rows.append((pos, k, int(oid)))
    seen: dict[int, None] = {}
    for _, _, oid in sorted(rows):
        seen.setdefault(oid, None)
    order = list(seen)
    if len(order) > max_plots:
        logger.info("plotting %d of %d candidates (candidates.max_plots)", max_plots, len(order))
    return order[:max_plots]


def plot_score_distribution(
    scores: pd.DataFrame, lists: Mapping[str, Table], out_png: str | Path, *, dpi: int = 90
) -> Path:
    """Histogram of every object's anomaly score, with each list's candidates marked as a rug."""
    plt = _pyplot()
    if "anomaly_score" not in scores.columns:
        raise InputError("anomaly scores table lacks column 'anomaly_score'")
    values = scores["anomaly_score"].to_numpy(np.float64)
    values = values[np.isfinite(values)]
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    ax.hist(values, bins=80, color="0.6", log=True, label=f"all {values.size} scored objects")
    ymin, ymax = ax.get_ylim()
    for k, (name, table) in enumerate(lists.items()):
        cand = np.asarray(np.ma.filled(table["anomaly_score"], np.nan), dtype=np.float64)
        cand = cand[np.isfinite(cand)]
        ax.plot(
            cand,
            np.full(cand.size, ymin * (1.5 + k)),
            "|",
            ms=10,
            color=_LIST_COLOURS[k % len(_LIST_COLOURS)],
            label=f"{name} ({len(table)})",
        )
    ax.set_xlabel("anomaly score (higher = more anomalous)")
    ax.set_ylabel("objects")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("Anomaly-score distribution and candidate lists", fontsize=10)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", metadata={"Software": None})
    plt.close(fig)
    return Path(out_png)


@dataclass(frozen=True)
class SkyDensity:
    """Objects per HEALPix pixel (ICRS, nested order): the sky map's background, whose size is set by
    ``nside`` and not by the release."""

    nside: int
    counts: np.ndarray

    @classmethod
    def of(cls, ra: np.ndarray, dec: np.ndarray, nside: int = 128) -> SkyDensity:
        """The density of positions in degrees (non-finite ones are not counted)."""
        ra, dec = np.asarray(ra, np.float64), np.asarray(dec, np.float64)
        ok = np.isfinite(ra) & np.isfinite(dec)
        pixels = HEALPix(nside, order="nested").lonlat_to_healpix(ra[ok] * u.deg, dec[ok] * u.deg)
        return cls(nside, np.bincount(pixels, minlength=12 * nside**2).astype(np.int64))

    def __add__(self, other: SkyDensity) -> SkyDensity:
        if other.nside != self.nside:
            raise ValueError(f"sky densities of nside {self.nside} and {other.nside} do not add")
        return SkyDensity(self.nside, self.counts + other.counts)

    @property
    def total(self) -> int:
        """Objects counted."""
        return int(self.counts.sum())

    def occupied(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """RA, Dec (degrees) of the centres of the pixels holding objects, and their counts."""
        pixels = np.flatnonzero(self.counts)
        lon, lat = HEALPix(self.nside, order="nested").healpix_to_lonlat(pixels)
        return lon.to_value(u.deg), lat.to_value(u.deg), self.counts[pixels]


def sky_density(feature_files: Iterable[str | Path], nside: int = 128) -> SkyDensity:
    """Objects per pixel of every feature table, one batch at a time and only its ra/dec columns."""
    density = SkyDensity(nside, np.zeros(12 * nside**2, np.int64))
    for path in feature_files:
        positions = pq.read_table(path, columns=["ra", "dec"])
        density += SkyDensity.of(positions["ra"].to_numpy(), positions["dec"].to_numpy(), nside)
    return density


def plot_sky_map(
    lists: Mapping[str, Table],
    out_png: str | Path,
    *,
    background: SkyDensity | None = None,
    dpi: int = 90,
) -> Path:
    """Mollweide map (RA increasing to the left) of the candidates, over the density of all objects in
    grey if given."""
    plt = _pyplot()
    fig = plt.figure(figsize=(8.0, 4.4))
    ax = fig.add_subplot(111, projection="mollweide")

    def xy(ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Degrees to Mollweide axes radians, RA = 180 deg at the centre, east to the left."""
        x = np.deg2rad(180.0 - np.mod(ra, 360.0))
        return x, np.deg2rad(dec)

    if background is not None and background.total:
        ra, dec, counts = background.occupied()
        x, y = xy(ra, dec)
        ax.scatter(
            x,
            y,
            s=2.0,
            c=np.log10(counts),
            cmap="Greys",
            vmin=-0.5 * np.log10(counts.max() + 1),  # the sparsest pixels stay visible,
            vmax=1.5 * np.log10(counts.max() + 1),  # the densest stay grey under the candidates
            marker="s",
            linewidths=0,
            label=f"all objects ({background.total})",
            rasterized=True,
        )
    for k, (name, table) in enumerate(lists.items()):
        ra = np.asarray(np.ma.filled(table["ra"], np.nan), dtype=np.float64)
        dec = np.asarray(np.ma.filled(table["dec"], np.nan), dtype=np.float64)
        x, y = xy(ra, dec)
        ax.plot(
            x,
            y,
            "o",
            ms=3.5,
            mfc="none",
            color=_LIST_COLOURS[k % len(_LIST_COLOURS)],
            label=f"{name} ({len(table)})",
        )
    ticks = np.arange(-150, 181, 30)
    ax.set_xticks(np.deg2rad(ticks))
    ax.set_xticklabels([f"{int(180 - t) % 360}°" for t in ticks], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(True, lw=0.4, alpha=0.6)
    ax.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.05, -0.12), frameon=False)
    ax.set_title("Candidates on the sky (ICRS, RA increasing to the left)", fontsize=10, pad=14)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", metadata={"Software": None})
    plt.close(fig)
    return Path(out_png)
