"""Cost per light curve of the transient fits (Bazin, Villar per band; Rainbow per g+r source) on demo data.

Takes the first ``--light-curves`` cleaned demo light curves of one batch (simulated if
``--clean`` is not given: one demo field, cleaned with the default cuts), then, serially in this
process, times ``extract_table`` with the default magnitude features alone and with each
per-band fit, and ``source_rainbow_fits`` on the associated g+r sources of the same rows. Reports
wall and CPU seconds (the CPU figure is what counts on a loaded machine) and per light curve / per
source milliseconds, and how many fits failed or stopped at a reduced chi2 > 3.

Run:  python benchmarks/bench_fits.py --workdir /tmp/skysift-bench-fits [--light-curves 1000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq


def _timed(fn):
    """Run fn(); return its result, wall seconds and process CPU seconds (all threads)."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    """Print a markdown table of the fit costs."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--clean", type=Path, help="a cleaned batch parquet (default: simulate and clean one)")
    ap.add_argument("--light-curves", type=int, default=1000)
    args = ap.parse_args()

    from skysift.clean import batch_reader, clean_files
    from skysift.features.fits import source_rainbow_fits
    from skysift.features.magnitude import extract_table_counted
    from skysift.io import write_parquet

    clean = args.clean
    if clean is None:
        clean = args.workdir / "clean.parquet"
        if not clean.exists():
            from skysift.simulate import simulate_release

            simulate_release(args.workdir / "release", n_objects=3000, fields=[633], seed=3)
            clean_files(sorted((args.workdir / "release").glob("dr24/*/field*/*.parquet")), clean, {})
    table = pq.read_table(clean)
    # Keep whole g+r sources: take the first rows of each filter so that pairs exist.
    filt = table.column("filterid").to_numpy()
    half = args.light_curves // 2
    rows = np.concatenate([np.flatnonzero(filt == 1)[:half], np.flatnonzero(filt == 2)[:half]])
    sub = table.take(np.sort(rows))
    n = sub.num_rows
    points = np.diff(sub.column("hmjd").combine_chunks().offsets.to_numpy())
    print(f"{n} light curves, {np.median(points):.0f} points (median), from {clean}")
    subset = args.workdir / "subset.parquet"
    write_parquet(sub, subset)

    results = []
    (_, counts), wall, cpu = _timed(lambda: extract_table_counted(sub, "default", 10))
    results.append(("default magnitude features (36)", "", n, wall, cpu, ""))
    base_cpu = cpu
    for fits, algorithm in (
        (["bazin"], "mcmc-lmsder"),
        (["bazin"], "lmsder"),
        (["villar"], "mcmc-lmsder"),
        (["villar"], "lmsder"),
    ):
        (out, counts), wall, cpu = _timed(
            lambda f=fits, a=algorithm: extract_table_counted(
                sub, "default", 10, transient_fits=f, transient_fit_algorithm=a
            )
        )
        chi2 = out.column(f"{fits[0]}_fit_reduced_chi2").to_numpy(zero_copy_only=False)
        note = f"failed {counts[f'{fits[0]}_fit_failed']}, reduced chi2 > 3: {int(np.sum(chi2 > 3))}"
        results.append((f"+ {fits[0]}", algorithm, n, wall - 0, cpu - base_cpu, note))
    (rainbow, counts), wall, cpu = _timed(lambda: source_rainbow_fits(batch_reader([subset]), 10))
    chi2 = rainbow["rainbow_fit_reduced_chi2"].to_numpy()[::2]
    note = f"failed {counts['failed']}, reduced chi2 > 3: {int(np.sum(chi2 > 3))}"
    results.append(("rainbow (per g+r source)", "least_squares", counts["fitted"], wall, cpu, note))

    print("| fit | algorithm | light curves / sources | wall s | CPU s (fit only) | CPU ms each | notes |")
    print("|---|---|---|---|---|---|---|")
    for name, alg, count, wall, cpu, note in results:
        print(
            f"| {name} | {alg} | {count} | {wall:.1f} | {cpu:.2f} | {1e3 * cpu / max(1, count):.2f} | {note} |"
        )


if __name__ == "__main__":
    main()
