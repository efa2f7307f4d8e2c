"""Measure a simulated demo release: class mix, magnitudes, epochs per light curve, cadence, catalog labels.

The numbers in docs/realistic_demo.md come from this script (one run per variant, same seed):

    PYTHONPATH=src .venv/bin/python benchmarks/science/demo_stats.py --realism easy --n-objects 20000
    PYTHONPATH=src .venv/bin/python benchmarks/science/demo_stats.py --realism hard --n-objects 20000

It simulates into a scratch directory (or reads ``--root`` if it holds a release) and prints Markdown
tables. "Survives the default cuts" means >= 10 epochs without the 32768 catflags bit and with magerr
<= 1 in at least one band (clean.min_epochs, clean.bad_catflags_mask and clean.max_magerr defaults),
i.e. the source reaches the feature table with the default config.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from skysift.simulate import ALL_CLASSES, RARE_CLASSES, load_truth, simulate_release

MIN_EPOCHS = 10


def read_release(root: Path) -> pd.DataFrame:
    """One row per light curve: objectid, filterid, fieldid, epochs, good epochs, median mag, hmjd."""
    paths = sorted(root.glob("dr*/*/field*/ztf_*.parquet"))
    table = pa.concat_tables(
        [
            pq.read_table(p, columns=["objectid", "filterid", "fieldid", "hmjd", "mag", "magerr", "catflags"])
            for p in paths
        ]
    )
    df = table.to_pandas()
    good = [
        (np.asarray(f) & 32768 == 0) & (np.asarray(e) <= 1.0)
        for f, e in zip(df["catflags"], df["magerr"], strict=True)
    ]
    df["n_epochs"] = df["hmjd"].map(len)
    df["n_good"] = [int(g.sum()) for g in good]
    df["median_mag"] = [
        float(np.median(np.asarray(m)[g])) if g.any() else np.nan
        for m, g in zip(df["mag"], good, strict=True)
    ]
    return df.drop(columns=["mag", "magerr", "catflags"])


def class_table(truth: pd.DataFrame, lcs: pd.DataFrame, summary: dict | None) -> pd.DataFrame:
    """Per class: sources drawn, with a detection, surviving the default cuts, and their fractions."""
    lc = lcs.merge(truth[["objectid", "source_id", "class"]], on="objectid")
    per_src = lc.groupby("source_id").agg(cls=("class", "first"), best=("n_good", "max"))
    detected = per_src["cls"].value_counts()
    kept = per_src.loc[per_src["best"] >= MIN_EPOCHS, "cls"].value_counts()
    drawn = pd.Series(summary["class_counts"]) if summary else detected
    out = pd.DataFrame({"drawn": drawn, "detected": detected, "survive_cuts": kept}).fillna(0).astype(int)
    out = out.loc[[c for c in ALL_CLASSES if c in out.index]]
    for col in ("drawn", "detected", "survive_cuts"):
        out[f"{col}_%"] = 100 * out[col] / max(out[col].sum(), 1)
    return out


def cadence_table(lcs: pd.DataFrame) -> pd.DataFrame:
    """Per field and band: exposures (distinct nights), median/90th-percentile gap between nights, longest gap."""
    rows = []
    for (field, band), grp in lcs.groupby(["fieldid", "filterid"]):
        nights = np.unique(np.floor(np.concatenate(grp["hmjd"].to_numpy())))
        gaps = np.diff(nights)
        rows.append(
            {
                "field": field,
                "band": "gri"[band - 1],
                "nights": nights.size,
                "gap_median_d": float(np.median(gaps)) if gaps.size else np.nan,
                "gap_p90_d": float(np.percentile(gaps, 90)) if gaps.size else np.nan,
                "gap_max_d": float(gaps.max()) if gaps.size else np.nan,
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--realism", choices=["easy", "hard"], default="hard")
    parser.add_argument("--n-objects", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--root", type=Path, default=None, help="an existing demo root (skips the simulation)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or Path(tmp)
        summary = None
        if args.root is None:
            summary = simulate_release(root, realism=args.realism, n_objects=args.n_objects, seed=args.seed)
        truth = load_truth(root)
        lcs = read_release(root)
        limit = 20.5
        print(f"## {args.realism}: {args.n_objects} sources, seed {args.seed}\n")
        classes = class_table(truth, lcs, summary)
        print(classes.to_markdown(floatfmt=".3f"), "\n")
        for name, sel in (("rare families", list(RARE_CLASSES)), ("all", list(classes.index))):
            part = classes.loc[[c for c in sel if c in classes.index]]
            print(
                f"{name}: drawn {part['drawn'].sum()}, detected {part['detected'].sum()}, survive cuts {part['survive_cuts'].sum()}"
            )
        gr = lcs[lcs["filterid"].isin([1, 2])]
        mags = gr["median_mag"].dropna()
        n = gr["n_good"]
        print("\n### light curves (g and r)\n")
        print(
            f"light curves: {len(gr)}; good epochs per light curve: median {n.median():.0f}, quartiles {n.quantile(0.25):.0f}-{n.quantile(0.75):.0f}"
        )
        print(
            f"fraction with < {MIN_EPOCHS} good epochs (dropped by the default cuts): {np.mean(n < MIN_EPOCHS):.3f}; with <= 3: {np.mean(n <= 3):.3f}"
        )
        print(
            f"median magnitude: median {mags.median():.2f}; fraction fainter than {limit - 1} (within 1 mag of the limit): {np.mean(mags > limit - 1):.3f}; fainter than {limit - 0.5}: {np.mean(mags > limit - 0.5):.3f}"
        )
        hist = np.histogram(mags, bins=np.arange(12, 23.5, 1.0))
        print(
            "median-magnitude histogram (r and g):",
            dict(zip([f"{b:.0f}" for b in hist[1][:-1]], hist[0].tolist(), strict=True)),
        )
        print("\n### cadence (distinct nights with an exposure, per field and band)\n")
        print(cadence_table(lcs).to_markdown(index=False, floatfmt=".1f"))
        if summary:
            print("\ncatalog rows:", summary["catalog_rows"])


if __name__ == "__main__":
    main()
