"""Benchmark the local cross-match: 1M positions against a 2M-row catalog (time and peak RSS).

    .venv/bin/python benchmarks/bench_crossmatch.py [--objects 1000000] [--catalog 2000000] [--workers 2]

The catalog is generated: half of its rows are counterparts of objects (0.3" scatter), the rest
random over the sky; objects are uniform over the whole sky, so the sky pre-cut keeps everything
(the worst case; a per-field batch indexes ~1/1000 of it). ``--field`` instead puts the objects
in one 7x7 deg patch to show the pre-cut. If an installed package ships a VSX parquet
(``*vsx*.parquet`` in site-packages), it is matched too. Peak RSS is VmHWM from /proc/self/status.
"""

from __future__ import annotations

import argparse
import site
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skysift.crossmatch import CatalogSpec, crossmatch_objects
from skysift.crossmatch.match import match_sky
from skysift.sky import radec_to_xyz


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def random_sky(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform positions on the sphere (degrees)."""
    return rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def main() -> None:
    """Generate the inputs, run the match, print time and memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--catalog", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--field", action="store_true", help="objects in one 7x7 deg patch")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if args.field:
        ra, dec = rng.uniform(100, 107, args.objects), rng.uniform(20, 27, args.objects)
    else:
        ra, dec = random_sky(rng, args.objects)
    n_cp = min(args.catalog // 2, args.objects)
    pick = rng.choice(args.objects, n_cp, replace=False)
    c_ra, c_dec = random_sky(rng, args.catalog - n_cp)
    sc = 0.3 / 3600
    c_ra = np.r_[ra[pick] + rng.normal(0, sc, n_cp) / np.cos(np.radians(dec[pick])), c_ra] % 360
    c_dec = np.clip(np.r_[dec[pick] + rng.normal(0, sc, n_cp), c_dec], -90, 90)
    # objectids with distinct fields per object so that association does not link them (one band)
    objects = pd.DataFrame(
        {
            "objectid": np.arange(args.objects, dtype=np.int64) + 633 * 10**12 + 2 * 10**11,
            "ra": ra,
            "dec": dec,
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cat.parquet"
        pd.DataFrame(
            {
                "name": np.char.add("C", np.arange(args.catalog).astype(str)),
                "ra": c_ra,
                "dec": c_dec,
                "type": "EW",
            }
        ).to_parquet(path)
        print(f"inputs ready, peak RSS so far {peak_rss_mb():.0f} MB")

        t0 = time.perf_counter()
        m = match_sky(radec_to_xyz(ra, dec), radec_to_xyz(c_ra, c_dec), 1.0, workers=args.workers)
        t_core = time.perf_counter() - t0
        print(
            f"match_sky core: {len(m.obj)} pairs, {len(np.unique(m.obj))} objects matched in {t_core:.1f} s"
        )

        t0 = time.perf_counter()
        spec = CatalogSpec.from_config("vsx", {"path": str(path), "radius_arcsec": 1.0})
        out = crossmatch_objects(
            objects,
            [spec],
            Path(tmp) / "x.parquet",
            all_matches_output=Path(tmp) / "all.parquet",
            workers=args.workers,
        )
        t_full = time.perf_counter() - t0
        recall = np.isin(objects["objectid"].to_numpy()[pick], out["objectid"].to_numpy()).mean()
        print(
            f"crossmatch_objects (read parquet, associate, pre-cut, match, label, write nearest + all): "
            f"{len(out)} objects matched in {t_full:.1f} s; counterpart recall {recall:.4f}"
        )
    print(f"peak RSS {peak_rss_mb():.0f} MB")

    vsx = [p for d in site.getsitepackages() for p in Path(d).rglob("*vsx*.parquet")]
    if not vsx:
        print("no VSX parquet shipped by an installed package: real-catalog run skipped")
    for p in vsx[:1]:
        cat = pd.read_parquet(p)
        print(f"{p}: {len(cat)} rows, columns {list(cat.columns)[:8]}")


if __name__ == "__main__":
    main()
