"""Sky plot of a credible region with the counterpart candidates: an all-sky Mollweide and a zoom.

The map is sampled on a regular (RA, Dec) grid through :meth:`SkyMap.credible_levels` (one
vectorised lookup, never a loop over pixels), so NSIDE 2048 and deep multi-order maps plot as fast
as small ones. The zoom is centred on the most probable pixel with RA offsets wrapped to
[-180, 180), so regions across RA = 0 stay in one piece.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.table import Table

from skysift.io import atomic_path
from skysift.skymap.maps import SkyMap

__all__ = ["plot_region"]


def _wrap(delta_deg: np.ndarray) -> np.ndarray:
    """RA offsets into [-180, 180)."""
    return (np.asarray(delta_deg) + 180.0) % 360.0 - 180.0


def plot_region(
    sky: SkyMap,
    counterparts: Table,
    path: str | Path,
    *,
    credible_level: float = 0.9,
    max_labels: int = 10,
    grid: int = 240,
) -> Path:
    """Draw the region (density, credible contours) and the ranked candidates to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peak = int(np.argmax(sky.density()))
    centre_ra, centre_dec = _pixel_centre(sky, peak)

    # all sky
    lon = np.linspace(-180, 180, 2 * grid)
    lat = np.linspace(-90, 90, grid)
    lon2, lat2 = np.meshgrid(lon, lat)
    _, level_all = sky.credible_levels((lon2.ravel() + 360) % 360, lat2.ravel())
    fig = plt.figure(figsize=(13, 5.2))
    ax1 = fig.add_subplot(1, 2, 1, projection="mollweide")
    # Mollweide x grows to the left on the sky (astronomical convention): plot -RA
    ax1.pcolormesh(
        np.radians(-lon2),
        np.radians(lat2),
        level_all.reshape(lat2.shape),
        cmap="viridis_r",
        vmin=0,
        vmax=1,
        shading="auto",
        rasterized=True,
    )
    ax1.contour(
        np.radians(-lon2),
        np.radians(lat2),
        level_all.reshape(lat2.shape),
        levels=[0.5, credible_level],
        colors=["w", "r"],
        linewidths=0.8,
    )
    if len(counterparts):
        ra = _wrap(np.asarray(counterparts["ra"], float))
        ax1.scatter(
            np.radians(-ra),
            np.radians(np.asarray(counterparts["dec"], float)),
            s=12,
            c="orange",
            edgecolors="k",
            linewidths=0.4,
            zorder=3,
        )
    ax1.set_xticklabels(
        [f"{int(v)}°" for v in (150, 120, 90, 60, 30, 0, 330, 300, 270, 240, 210)], fontsize=7
    )
    ax1.grid(True, alpha=0.3)
    ax1.set_title(f"{sky.name}: credible level (red: {credible_level:g}, white: 0.5)", fontsize=9)

    # zoom around the region
    inside = np.flatnonzero(sky.region_mask(credible_level))
    sample = (
        inside if len(inside) <= 200_000 else inside[np.linspace(0, len(inside) - 1, 200_000).astype(int)]
    )
    ra_in, dec_in = _pixel_centre(sky, sample)
    dra = _wrap(ra_in - centre_ra)
    pad = max(1.0, 0.15 * max(np.ptp(dra) if len(dra) else 0, np.ptp(dec_in) if len(dec_in) else 0))
    x0, x1 = float(dra.min()) - pad, float(dra.max()) + pad
    y0, y1 = max(-90.0, float(dec_in.min()) - pad), min(90.0, float(dec_in.max()) + pad)
    xs, ys = np.linspace(x0, x1, grid), np.linspace(y0, y1, grid)
    xx, yy = np.meshgrid(xs, ys)
    _, level_zoom = sky.credible_levels((centre_ra + xx.ravel()) % 360, yy.ravel())
    ax2 = fig.add_subplot(1, 2, 2)
    mesh = ax2.imshow(
        level_zoom.reshape(xx.shape),
        origin="lower",
        extent=(x0, x1, y0, y1),
        aspect="auto",
        cmap="viridis_r",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    ax2.contour(
        xx, yy, level_zoom.reshape(xx.shape), levels=[0.5, credible_level], colors=["w", "r"], linewidths=1.0
    )
    if len(counterparts):
        cra = _wrap(np.asarray(counterparts["ra"], float) - centre_ra)
        cdec = np.asarray(counterparts["dec"], float)
        ax2.scatter(cra, cdec, s=28, c="orange", edgecolors="k", linewidths=0.6, zorder=3, label="candidates")
        for k in range(min(max_labels, len(counterparts))):
            ax2.annotate(
                str(int(counterparts["skymap_rank"][k])),
                (cra[k], cdec[k]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
                color="k",
            )
        ax2.legend(loc="lower right", fontsize=7)
    ax2.set_xlim(x1, x0)  # RA grows to the left
    ax2.set_ylim(y0, y1)
    ax2.set_xlabel(f"RA offset from {centre_ra:.3f}° [deg]")
    ax2.set_ylabel("Dec [deg]")
    ax2.set_title(f"zoom: {len(counterparts)} candidates inside the region and window", fontsize=9)
    fig.colorbar(mesh, ax=ax2, label="credible level")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(path)


def _pixel_centre(sky: SkyMap, rows) -> tuple[np.ndarray, np.ndarray]:
    """RA, Dec (degrees) of the centres of map rows."""
    import astropy.units as u
    from astropy_healpix import healpix_to_lonlat, uniq_to_level_ipix

    rows = np.asarray(rows)
    if sky.multiorder:
        level, ipix = uniq_to_level_ipix(sky.uniq[rows])
        level = np.atleast_1d(level)
        ra = np.empty(level.shape)
        dec = np.empty(level.shape)
        for lv in np.unique(level):
            sel = level == lv
            lo, la = healpix_to_lonlat(np.atleast_1d(ipix)[sel], 2 ** int(lv), order="nested")
            ra[sel], dec[sel] = lo.to_value(u.deg), la.to_value(u.deg)
        return (ra, dec) if rows.ndim else (float(ra[0]), float(dec[0]))
    lo, la = healpix_to_lonlat(rows, sky.nside, order="nested" if sky.nested else "ring")
    ra, dec = lo.to_value(u.deg), la.to_value(u.deg)
    return (ra, dec) if rows.ndim else (float(ra), float(dec))
