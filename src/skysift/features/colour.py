"""g-r colours of sky sources whose g and r objectids are associated by position (optional feature group).

ZTF DR objectids are per filter; :func:`skysift.sky.associate_sources` joins the
g/r/i objectids of one sky source (same field, within ``radius_arcsec``). For each source with a g
and an r light curve (the one with most points per band where a chain joined several)::

    colour_gr_median  median(m_g) - median(m_r), mag
    colour_gr_max     min(m_g) - min(m_r): colour at maximum brightness (each band's brightest point), mag
    source_id         the associated source (smallest objectid of its members); every row gets it

Both g and r rows of the source carry the colour; other rows, and sources where either light
curve has fewer than ``min_points`` points, get NaN. Computed per batch (a field) after the
features, from the batch's cleaned light curves read piece by piece (memory: ~50 bytes per light curve).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from skysift.clean.read import LightCurveReader
from skysift.io import atomic_path
from skysift.sky import associate_sources

__all__ = ["BRIGHTNESS_COLUMNS", "COLOUR_DOCS", "light_curve_brightness", "source_colours", "add_colours"]

logger = logging.getLogger(__name__)

#: Colour columns -> meaning.
COLOUR_DOCS: dict[str, str] = {
    "source_id": "position-associated sky source of this objectid (smallest member objectid)",
    "colour_gr_median": "g - r of the median magnitudes of the source's g and r light curves, mag",
    "colour_gr_max": "g - r at maximum: brightest g minus brightest r magnitude of the source, mag",
}


#: DR columns :func:`light_curve_brightness` reads.
BRIGHTNESS_COLUMNS: tuple[str, ...] = ("objectid", "filterid", "fieldid", "objra", "objdec", "mag")


def light_curve_brightness(pieces: Iterable[pa.Table]) -> pd.DataFrame:
    """objectid, filterid, fieldid, ra, dec, n_points, median and minimum magnitude of every light curve.

    ``pieces`` are tables of light curves with at least :data:`BRIGHTNESS_COLUMNS`.
    """
    parts = []
    for table in pieces:
        col = table.column("mag").combine_chunks()
        offsets = np.asarray(col.offsets, dtype=np.int64)
        values = np.asarray(col.values.to_numpy(zero_copy_only=False), dtype=np.float64)[
            offsets[0] : offsets[-1]
        ]
        offsets = offsets - offsets[0]
        n = np.diff(offsets)
        seg = np.repeat(np.arange(n.size), n)
        order = np.lexsort((values, seg))  # sorted within each light curve
        srt = values[order]
        lo = offsets[:-1] + (n - 1) // 2
        hi = offsets[:-1] + n // 2
        has = n > 0
        median = np.full(n.size, np.nan)
        minimum = np.full(n.size, np.nan)
        median[has] = 0.5 * (srt[lo[has]] + srt[hi[has]])
        minimum[has] = srt[offsets[:-1][has]]
        parts.append(
            pd.DataFrame(
                {
                    "objectid": table.column("objectid").to_numpy(),
                    "filterid": table.column("filterid").to_numpy(),
                    "fieldid": table.column("fieldid").to_numpy(),
                    "ra": table.column("objra").to_numpy().astype(np.float64),
                    "dec": table.column("objdec").to_numpy().astype(np.float64),
                    "n_points": n,
                    "median": median,
                    "minimum": minimum,
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def source_colours(bright: pd.DataFrame, min_points: int, radius_arcsec: float = 1.0) -> pd.DataFrame:
    """Per objectid: source_id and the source's g-r colours (NaN without both bands or enough points)."""
    if bright.empty:
        return pd.DataFrame({k: [] for k in ("objectid", *COLOUR_DOCS)})
    assoc = associate_sources(bright, radius_arcsec=radius_arcsec)
    ok = assoc[assoc["n_points"] >= min_points]
    best = ok.sort_values("n_points", ascending=False).drop_duplicates(["source_id", "filterid"])
    g = best[best["filterid"] == 1].set_index("source_id")
    r = best[best["filterid"] == 2].set_index("source_id")
    both = g.index.intersection(r.index)
    colours = pd.DataFrame(
        {
            "colour_gr_median": g.loc[both, "median"] - r.loc[both, "median"],
            "colour_gr_max": g.loc[both, "minimum"] - r.loc[both, "minimum"],
        },
        index=both,
    )
    out = assoc[["objectid", "source_id"]].join(colours, on="source_id")
    logger.info(
        "colours: %d sources with g and r light curves of >= %d points (of %d objectids)",
        len(both),
        min_points,
        len(assoc),
    )
    return out


def add_colours(feature_path: str | Path, read: LightCurveReader, min_points: int) -> int:
    """Append COLOUR_DOCS columns to a feature parquet file (rewritten row group by row group); return sources.

    ``read`` reads the batch's cleaned light curves (:func:`skysift.clean.read.batch_reader`).
    """
    colours = source_colours(light_curve_brightness(read(BRIGHTNESS_COLUMNS)), min_points)
    colours = colours.sort_values("objectid")
    oids = colours["objectid"].to_numpy()
    pf = pq.ParquetFile(feature_path)
    schema = pf.schema_arrow
    for name in COLOUR_DOCS:
        schema = schema.append(pa.field(name, pa.int64() if name == "source_id" else pa.float32()))
    with atomic_path(feature_path) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for rg in range(pf.metadata.num_row_groups):
            table = pf.read_row_group(rg)
            idx = np.searchsorted(oids, table.column("objectid").to_numpy())
            idx = np.clip(idx, 0, max(0, len(oids) - 1))
            for name in COLOUR_DOCS:
                col = colours[name].to_numpy()[idx] if len(oids) else np.full(table.num_rows, np.nan)
                typ = pa.int64() if name == "source_id" else pa.float32()
                table = table.append_column(name, pa.array(col.astype(typ.to_pandas_dtype())))
            writer.write_table(table)
    return int(np.isfinite(colours["colour_gr_median"].to_numpy()).sum())
