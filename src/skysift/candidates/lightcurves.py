"""Light-curve PNGs of candidates: every band of the sky source, flagged epochs, a folded panel.

Light curves show every band of the candidate's sky source (DR objects are per filter: the
other bands are the objects of the same field within ``match_arcsec``), cleaned epochs with
error bars, flagged epochs (catflags != 0, from the raw DR files when given) as ``x``, and a
phase-folded panel when the candidate's periodogram peak is significant. One matplotlib
figure (Agg) is reused for every candidate, so a PNG costs a few tens of milliseconds.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from astropy.table import Table

from skysift.clean import CleanConfig, read_clean_lightcurves
from skysift.io import InputError, atomic_path
from skysift.layout import BAND_NAMES

__all__ = ["BAND_COLOURS", "lightcurve_png_name", "plot_lightcurves"]

logger = logging.getLogger(__name__)

#: filterid -> matplotlib colour (g green, r red, i brown, as in the demo plots).
BAND_COLOURS: dict[int, str] = {1: "#2ca02c", 2: "#d62728", 3: "#8c564b"}
_SCALARS = ["objectid", "filterid", "fieldid", "objra", "objdec"]
_EPOCHS = ["hmjd", "mag", "magerr", "catflags"]


def _pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed, safe in worker processes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def lightcurve_png_name(objectid: int) -> str:
    """File name of a candidate's light-curve PNG (relative to the light-curve directory)."""
    return f"lc_{int(objectid)}.png"


class _Epochs:
    """Light curves of the wanted objects (and their other bands) from cleaned and raw DR files."""

    def __init__(
        self,
        clean_paths: Sequence[str | Path],
        raw_paths: Sequence[str | Path],
        wanted: Iterable[int],
        match_arcsec: float,
        cuts: CleanConfig | Mapping | None = None,
    ) -> None:
        """Find every band of the wanted objects' sources and load their epochs (one pass per file).

        With ``cuts`` (the clean section) ``clean_paths`` are the batches' objects tables and the cleaned
        epochs come from ``raw_paths`` through the quality cuts (:func:`skysift.clean.read_clean_lightcurves`).
        """
        wanted = set(int(o) for o in wanted)
        if not clean_paths:
            raise InputError("no cleaned light-curve tables given to plot from")
        # two passes, one file at a time, so memory is one file's scalars plus the wanted objects':
        # the wanted objects' positions, then the objects of their fields near them
        wanted_ids = pa.array(sorted(wanted), type=pa.int64())
        targets = pd.concat(
            [pq.read_table(p, columns=_SCALARS, filters=pc.field("objectid").isin(wanted_ids)).to_pandas()
             for p in clean_paths],
            ignore_index=True,
        ).drop_duplicates("objectid")  # fmt: skip
        fields = pa.array(np.unique(targets["fieldid"].to_numpy(np.int64)), type=pa.int64())
        radius = np.deg2rad(match_arcsec / 3600.0)
        near_by_target: dict[int, set[int]] = {int(o): {int(o)} for o in targets["objectid"]}
        meta = [targets]
        for path in clean_paths:
            same_fields = pq.read_table(path, columns=_SCALARS, filters=pc.field("fieldid").isin(fields))
            rows = same_fields.to_pandas()
            for fieldid, group in targets.groupby("fieldid"):
                same = rows[rows["fieldid"] == fieldid]
                ra = np.deg2rad(same["objra"].to_numpy(np.float64))
                dec = np.deg2rad(same["objdec"].to_numpy(np.float64))
                ids = same["objectid"].to_numpy(np.int64)
                for oid, r0, d0 in zip(group["objectid"], group["objra"], group["objdec"], strict=True):
                    r0, d0 = np.deg2rad(float(r0)), np.deg2rad(float(d0))
                    hav = np.sin((dec - d0) / 2) ** 2 + np.cos(dec) * np.cos(d0) * np.sin((ra - r0) / 2) ** 2
                    near = ids[hav <= np.sin(radius / 2) ** 2]
                    near_by_target[int(oid)].update(near.tolist())
            linked = {m for ms in near_by_target.values() for m in ms}
            meta.append(rows[rows["objectid"].isin(linked)])
        self.source: dict[int, list[int]] = {oid: sorted(ms) for oid, ms in near_by_target.items()}
        self.meta = pd.concat(meta, ignore_index=True).drop_duplicates("objectid").set_index("objectid")
        # wanted objects without a cleaned light curve (e.g. a kilonova's few epochs) still get their raw epochs
        members = sorted({m for ms in self.source.values() for m in ms} | wanted)
        if cuts is None:
            self.clean = self._load(clean_paths, members)
        else:
            cleaned = read_clean_lightcurves(raw_paths, cuts, objectids=members, columns=_EPOCHS)
            self.clean = self._as_dict(cleaned)
        self.raw = self._load(raw_paths, members) if raw_paths else {}

    @staticmethod
    def _load(paths: Sequence[str | Path], ids: list[int]) -> dict[int, dict[str, np.ndarray]]:
        """objectid -> epoch arrays of those objects in the files."""
        out: dict[int, dict[str, np.ndarray]] = {}
        value_set = pa.array(ids, type=pa.int64())
        for path in paths:
            table = pq.read_table(path, columns=["objectid", *_EPOCHS])
            out.update(_Epochs._as_dict(table.filter(pc.is_in(table["objectid"], value_set=value_set))))
        return out

    @staticmethod
    def _as_dict(table: pa.Table) -> dict[int, dict[str, np.ndarray]]:
        """objectid -> epoch arrays of the rows of a light-curve table."""
        return {
            int(oid): {c: np.asarray(table[c][i].values.to_numpy(zero_copy_only=False)) for c in _EPOCHS}
            for i, oid in enumerate(table["objectid"].to_numpy())
        }


def plot_lightcurves(
    candidates: Table,
    clean_paths: Sequence[str | Path],
    out_dir: str | Path,
    *,
    objectids: Sequence[int] | None = None,
    raw_paths: Sequence[str | Path] = (),
    cuts: CleanConfig | Mapping | None = None,
    fold_min_snr: float = 10.0,
    match_arcsec: float = 1.5,
    dpi: int = 80,
    n_jobs: int = 1,
) -> list[Path]:
    """Write ``lc_<objectid>.png`` for the candidates (rows of ``candidates``, or ``objectids`` of them).

    ``candidates`` is a candidate table (objectid, rank, anomaly_score, predicted_class,
    max_probability, period, period_snr, xmatch_*; masked values are fine); ``raw_paths`` are
    DR files to take flagged epochs from (default: the flagged epochs left in the cleaned files). With
    ``cuts`` (the clean section) ``clean_paths`` may be the batches' objects tables: the cleaned epochs
    are then ``raw_paths`` through the quality cuts.
    ``n_jobs`` processes draw in parallel (fork only; one figure each). Returns the PNG paths in order.
    """
    by_id = {int(row["objectid"]): row for row in candidates}
    ids = [int(o) for o in (objectids if objectids is not None else by_id)]
    unknown = [o for o in ids if o not in by_id]
    if unknown:
        raise InputError(f"objectid(s) {unknown[:5]} to plot are not in the candidate table")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    epochs = _Epochs(clean_paths, raw_paths, ids, match_arcsec, cuts)
    t_load = time.perf_counter() - t0

    rows = {oid: _row_values(by_id[oid]) for oid in ids}
    n_jobs = max(1, min(n_jobs, len(ids)))
    if n_jobs > 1 and "fork" not in multiprocessing.get_all_start_methods():
        n_jobs = 1
    chunks = [ids[k::n_jobs] for k in range(n_jobs)]
    args = [(chunk, {o: rows[o] for o in chunk}, epochs, out_dir, fold_min_snr, dpi) for chunk in chunks]
    if n_jobs == 1:
        written = _plot_chunk(*args[0])
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(n_jobs, mp_context=context) as pool:
            done = dict(zip(map(tuple, chunks), pool.map(_plot_chunk, *zip(*args, strict=True)), strict=True))
        by_oid = {p.name: p for paths in done.values() for p in paths}
        written = [by_oid[lightcurve_png_name(o)] for o in ids]
    elapsed = time.perf_counter() - t0 - t_load
    logger.info(
        "wrote %d light-curve PNGs to %s in %.1f s (%.3f s each; %.1f s loading epochs)",
        len(written),
        out_dir,
        elapsed,
        elapsed / max(len(written), 1),
        t_load,
    )
    return written


def _plot_chunk(
    ids: list[int], rows: dict[int, dict], epochs: _Epochs, out_dir: Path, fold_min_snr: float, dpi: int
) -> list[Path]:
    """Draw and write the PNGs of some candidates with one reused figure (one worker's share)."""
    canvas = _LightCurveFigure(_pyplot(), dpi)
    written = []
    try:
        for oid in ids:
            path = out_dir / lightcurve_png_name(oid)
            canvas.draw(oid, rows[oid], epochs, fold_min_snr)
            with atomic_path(path) as tmp:
                canvas.save(tmp)
            written.append(path)
    finally:
        canvas.close()
    return written


def _row_values(row) -> dict[str, object]:
    """A table row as a plain dict (masked cells -> None), cheap to pickle to worker processes."""
    out = {}
    for name in row.colnames:
        value = row[name]
        out[name] = None if np.ma.is_masked(value) else (value.item() if hasattr(value, "item") else value)
    return out


def _value(row: dict, name: str) -> float | str | None:
    """A row value, None when masked or absent."""
    return row.get(name)


class _LightCurveFigure:
    """One reused figure: time panel, folded panel and title; only the data artists change per PNG.

    ``Axes.cla()`` rebuilds every tick and costs more than the drawing, so the axes are kept
    and only the lines are replaced; error bars are one NaN-separated line per band.
    """

    def __init__(self, plt, dpi: int) -> None:
        """Create the figure, the two panels, a static legend and the text slots."""
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        self.plt = plt
        self.dpi = dpi
        self.fig, (self.ax_t, self.ax_f) = plt.subplots(
            1, 2, figsize=(9.0, 3.0), gridspec_kw={"width_ratios": [3, 2]}
        )
        self.fig.subplots_adjust(left=0.07, right=0.99, bottom=0.16, top=0.80, wspace=0.16)
        for ax in (self.ax_t, self.ax_f):
            ax.tick_params(labelsize=7)
        self.ax_t.set_xlabel("HMJD (d)", fontsize=8)
        self.ax_t.set_ylabel("magnitude", fontsize=8)
        handles = [
            Line2D([], [], marker="o", ls="", ms=4, color=BAND_COLOURS[f], label=f"{BAND_NAMES[f]} band")
            for f in (1, 2, 3)
        ]
        handles.append(Line2D([], [], marker="x", ls="", ms=5, color="0.3", label="flagged epoch"))
        handles.append(Line2D([], [], marker="o", ls="", ms=6, mfc="none", color="k", label="this objectid"))
        self.fig.legend(
            handles=handles,
            loc="upper left",
            ncol=5,
            fontsize=7,
            frameon=False,
            bbox_to_anchor=(0.06, 0.9),
            columnspacing=1.2,
            handletextpad=0.3,
        )
        self.title = self.fig.text(0.01, 0.96, "", fontsize=9, va="top", ha="left", weight="bold")
        self.note = self.fig.text(0.8, 0.5, "", ha="center", va="center", fontsize=8, color="0.35")
        for ax in (self.ax_t, self.ax_f):
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.yaxis.set_major_locator(MaxNLocator(5))

    def draw(self, oid: int, row, epochs: _Epochs, fold_min_snr: float) -> None:
        """Replace the data of the panels with one candidate's light curves."""
        for ax in (self.ax_t, self.ax_f):
            for artist in [*ax.lines, *ax.collections]:
                artist.remove()
        period = _value(row, "period")
        snr = _value(row, "period_snr")
        folded = bool(
            period is not None
            and snr is not None
            and np.isfinite(period)
            and period > 0
            and snr >= fold_min_snr
        )
        members = epochs.source.get(oid, [oid])
        t_ref = min(
            (
                float(lc["hmjd"].min())
                for m in members
                if (lc := epochs.clean.get(m)) is not None and lc["hmjd"].size
            ),
            default=None,
        )
        if t_ref is None:
            folded = False
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        for member in members:
            filterid = int(epochs.meta.loc[member, "filterid"]) if member in epochs.meta.index else 2
            colour = BAND_COLOURS.get(filterid, "k")
            # an object too short for the cleaned table (a kilonova list's) shows its raw unflagged epochs
            lc = epochs.clean.get(member, epochs.raw.get(member))
            if lc is not None:
                good = lc["catflags"] == 0
                t, m, e = lc["hmjd"][good], lc["mag"][good], lc["magerr"][good]
                self._points(self.ax_t, t, m, e, colour, member == oid)
                xs.append(t)
                ys.append(m)
                if folded:
                    phase = np.mod((t - t_ref) / period, 1.0)
                    self._points(
                        self.ax_f, np.r_[phase, phase + 1], np.r_[m, m], np.r_[e, e], colour, member == oid
                    )
            flagged = epochs.raw.get(member, lc)
            if flagged is not None:
                bad = flagged["catflags"] != 0
                if bad.any():
                    t, m = flagged["hmjd"][bad], flagged["mag"][bad]
                    self.ax_t.plot(t, m, "x", ms=4, color=colour, alpha=0.9)
                    if folded:
                        phase = np.mod((t - t_ref) / period, 1.0)
                        self.ax_f.plot(
                            np.r_[phase, phase + 1], np.r_[m, m], "x", ms=4, color=colour, alpha=0.9
                        )
        x = np.concatenate(xs) if xs else np.array([])
        y = np.concatenate(ys) if ys else np.array([])
        if x.size:
            pad = max(5.0, 0.03 * (x.max() - x.min()))
            self.ax_t.set_xlim(x.min() - pad, x.max() + pad)
            lo, hi = np.nanpercentile(y, [0.5, 99.5])
            ypad = max(0.1, 0.12 * (hi - lo))
            for ax in (self.ax_t, self.ax_f):
                ax.set_ylim(hi + ypad, lo - ypad)  # magnitudes: bright up
        self.ax_f.set_xlim(0, 2)
        self.ax_f.set_xlabel(f"phase (P = {period:.4g} d, S/N {snr:.1f})" if folded else "", fontsize=8)
        self.ax_f.set_visible(folded)  # an empty panel still costs its ticks' text layout
        if folded:
            self.note.set_text("")
        elif period is None or snr is None:
            self.note.set_text("not folded: no periodogram period")
        else:
            self.note.set_text(
                f"not folded: best period {period:.4g} d\nhas S/N {snr:.1f} < {fold_min_snr:g}"
            )
        if not x.size:
            self.note.set_text("no cleaned epochs")
        self.title.set_text(_title(oid, row))

    def _points(self, ax, t: np.ndarray, m: np.ndarray, e: np.ndarray, colour: str, this: bool) -> None:
        """Markers plus error bars as one NaN-separated line (much cheaper than ``errorbar``)."""
        nan = np.full(t.size, np.nan)
        ax.plot(
            np.c_[t, t, nan].ravel(), np.c_[m - e, m + e, nan].ravel(), "-", lw=0.6, color=colour, alpha=0.5
        )
        ax.plot(
            t,
            m,
            "o",
            ms=3 if this else 2.2,
            color=colour,
            alpha=0.9 if this else 0.6,
            mec="k" if this else colour,
            mew=0.3,
        )

    def save(self, path: Path) -> None:
        """Write the current figure as PNG (no software/date metadata, so reruns give the same bytes)."""
        self.fig.savefig(path, dpi=self.dpi, format="png", metadata={"Software": None})

    def close(self) -> None:
        """Release the figure."""
        self.plt.close(self.fig)


def _title(oid: int, row) -> str:
    """Title line: objectid, class and probability, score and rank, cross-match."""
    cls = _value(row, "predicted_class") or "unclassified"
    prob = _value(row, "max_probability")
    score = _value(row, "anomaly_score")
    rank = _value(row, "rank")
    band = _value(row, "band") or "?"
    parts = [f"{oid} ({band})", f"{cls}" + (f" p={prob:.2f}" if prob is not None else "")]
    if score is not None:
        parts.append(f"anomaly score {score:.3f}, rank {rank}")
    xname = _value(row, "xmatch_name")
    if xname:
        parts.append(f"{_value(row, 'xmatch_catalog')}: {xname} ({_value(row, 'xmatch_type')})")
    return "   |   ".join(str(p) for p in parts)
