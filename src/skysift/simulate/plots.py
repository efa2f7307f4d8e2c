"""A picture for humans: example light curves of every demo class."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from skysift.io import InputError
from skysift.simulate.truth import load_truth
from skysift.simulate.variants import ALL_CLASSES

__all__ = ["plot_examples"]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------
# a picture for humans

_PERIODIC = {"rrlyrae", "cepheid", "eclipsing_binary", "delta_scuti"}
_WINDOW = {"snia": (-40, 120), "snii": (-30, 200), "snibc": (-30, 100), "slsn": (-120, 300), "tde": (-80, 300),
           "kilonova": (-5, 10), "microlensing": (-150, 150), "pec_sn": (-30, 150), "fbot": (-5, 30)}  # fmt: skip
_COLOURS = {1: ("tab:green", "o"), 2: ("tab:red", "o"), 3: ("#6b3e1f", "s")}


def _find_release(root: Path, dr: str | None) -> Path:
    """The release directory under a demo root (the only ``drNN`` directory unless ``dr`` is given)."""
    if dr is not None:
        return root / dr
    found = sorted(p for p in root.glob("dr*") if p.is_dir() and (p / "checksum.md5").exists())
    if len(found) != 1:
        raise InputError(
            f"{root}: expected one release directory drNN with checksum.md5, found {[p.name for p in found]}"
        )
    return found[0]


def plot_examples(
    root: str | Path,
    out_png: str | Path,
    per_class: int = 2,
    *,
    classes: list[str] | tuple[str, ...] | None = None,
    dr: str | None = None,
    seed: int = 0,
) -> Path:
    """Draw light curves of ``per_class`` objects per class into a grid PNG (g green, r red, i brown).

    Periodic classes are phase-folded on their true period; transients are zoomed on their peak.
    Flagged epochs (catflags != 0) are drawn as x markers. The objects are drawn at random (``seed``)
    from the better-sampled half of each class; ``classes`` restricts the plot to some classes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = Path(root)
    truth = load_truth(root)
    release = _find_release(root, dr)
    paths = sorted(release.glob("*/field*/ztf_*.parquet"))
    table = pa.concat_tables([pq.read_table(p) for p in paths])
    nep = dict(zip(table["objectid"].to_numpy(), table["nepochs"].to_numpy(), strict=True))
    truth["nepochs"] = truth["objectid"].map(nep).fillna(0)
    per_src = truth.groupby("source_id")["nepochs"].sum()
    rng = np.random.default_rng(seed)
    chosen: list[tuple[str, int]] = []
    for cls in classes or ALL_CLASSES:
        srcs = truth.loc[truth["class"] == cls, "source_id"].unique()
        if srcs.size == 0:
            continue
        good = srcs[per_src.loc[srcs].to_numpy() >= np.quantile(per_src.loc[srcs].to_numpy(), 0.5)]
        pick = rng.choice(good, min(per_class, good.size), replace=False)
        chosen += [(cls, int(s)) for s in sorted(pick)]
    wanted = truth[truth["source_id"].isin([s for _, s in chosen])]
    sub = table.filter(pc.is_in(table["objectid"], value_set=pa.array(wanted["objectid"].to_numpy())))
    lcs = {int(o): i for i, o in enumerate(sub["objectid"].to_numpy())}
    ncols = 4
    nrows = max(1, int(np.ceil(len(chosen) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.6 * nrows), squeeze=False)
    for ax, (cls, s) in zip(axes.ravel(), chosen, strict=False):
        rows = wanted[wanted["source_id"] == s]
        first = rows.iloc[0]
        for _, row in rows.iterrows():
            i = lcs.get(int(row["objectid"]))
            if i is None:
                continue
            t = np.asarray(sub["hmjd"][i].as_py())
            m = np.asarray(sub["mag"][i].as_py())
            e = np.asarray(sub["magerr"][i].as_py())
            fl = np.asarray(sub["catflags"][i].as_py())
            x = t
            if cls in _PERIODIC:
                x = np.mod((t - row["t0"]) / row["period"] + 0.25, 1.0) - 0.25
            c, marker = _COLOURS[int(row["filterid"])]
            good = fl == 0
            ax.errorbar(x[good], m[good], e[good], fmt=marker, ms=2, lw=0.6, color=c, alpha=0.8)
            ax.plot(x[~good], m[~good], "x", ms=4, color=c, alpha=0.9)
        if cls in _WINDOW and np.isfinite(first["t0"]):
            lo, hi = _WINDOW[cls]
            ax.set_xlim(first["t0"] + lo, first["t0"] + hi)
        ax.invert_yaxis()
        label = f"{cls} ({first['subclass']})"
        if cls in _PERIODIC:
            label += f" P={first['period']:.3g} d, folded"
        elif np.isfinite(first["redshift"]):
            label += f" z={first['redshift']:.3f}"
        ax.set_title(f"{label}\nsource {s}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(chosen) :]:
        ax.set_visible(False)
    fig.tight_layout()
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
