"""Scale benchmark of the anomaly search: fit + score, and the wait between two questions of a session.

    .venv/bin/python benchmarks/bench_anomaly.py --n 1000000 --features 36 --labels 20 --pool 2000

Synthetic Gaussian features (one band), the config's default detector settings (``--trees``), one thread. Reports: isolation
forest fit + score of every row; one AAD step with ``--labels`` known labels as the session does it
(:class:`skysift.anomaly.engine.Search`, weights reset, QP on the labelled rows only) rescoring
every row vs only a ``--pool`` of candidate sources; the same for PineForest. Prints the 1-minute
load average next to each figure (the machine is shared).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np
import pandas as pd
from coniferest.label import Label


def timed(label: str, func):
    """Run ``func`` once, print wall time and load, return its result."""
    start = time.perf_counter()
    result = func()
    print(f"{label:<48s} {time.perf_counter() - start:8.2f} s   load {os.getloadavg()[0]:.1f}", flush=True)
    return result


def main() -> None:
    """Parse arguments and run the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=36)
    parser.add_argument("--labels", type=int, default=20)
    parser.add_argument("--pool", type=int, default=2000)
    parser.add_argument("--trees", type=int, default=300)
    args = parser.parse_args()

    from skysift.anomaly import AnomalySettings, Search, build_space
    from skysift.config import default_config

    defaults = AnomalySettings.from_config(default_config()["anomaly"]).search
    space_settings = dataclasses.replace(defaults.space, per_source=False)
    detectors = dataclasses.replace(defaults.detectors, n_trees=args.trees)

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        rng.normal(size=(args.n, args.features)), columns=[f"f{j}" for j in range(args.features)]
    )
    df.insert(0, "objectid", np.arange(args.n, dtype=np.int64))
    df.insert(1, "filterid", np.int8(2))
    print(f"n={args.n} features={args.features} trees={args.trees} labels={args.labels} pool={args.pool}")
    space = timed("preprocess (median impute + standardize)", lambda: build_space(df, space_settings))
    timed("isoforest: fit + score every row", lambda: Search(space, "isoforest", detectors, seed=0))
    for method in ("aad", "pineforest"):
        search = timed(f"{method}: fit", lambda m=method: Search(space, m, detectors, seed=0))
        initial = timed(f"{method}: score every row (no label)", lambda s=search: s.row_scores())
        top = np.argsort(-initial)[: args.labels]
        known = {
            int(space.source_id[r]): (Label.ANOMALY if i % 3 == 0 else Label.REGULAR)
            for i, r in enumerate(top)
        }
        timed(
            f"{method}: step, {args.labels} labels, rescore every row",
            lambda s=search, k=known: s.row_scores(k),
        )
        rows = timed(
            f"{method}: choose pool of {args.pool} (once per session)",
            lambda s=search: s.pool_rows(args.pool),
        )
        timed(
            f"{method}: step, {args.labels} labels, rescore pool",
            lambda s=search, k=known, r=rows: s.row_scores(k, r),
        )
        timed(f"{method}: rank (source order) of every row", lambda s=search, i=initial: s.source_order(i))


if __name__ == "__main__":
    main()
