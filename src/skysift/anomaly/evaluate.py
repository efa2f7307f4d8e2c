"""Oracle evaluation: anomalies found vs questions asked, per method, averaged over seeds.

The demo's truth table answers for the expert: a source (see :mod:`skysift.anomaly.engine`) is an
anomaly when the true class of any of its objectids is in ``anomaly.anomaly_classes`` (default
the rare classes kilonova, microlensing, flare, cv, tde, slsn and artefact); every other answer
is "regular". Each method runs the same loop an expert would (:func:`~skysift.anomaly.engine.run_loop`,
same candidate pool) for ``max(budgets)`` questions and each seed; static methods simply walk
down their ranking (``lof`` has no randomness: its seeds agree). Outputs: the curves (method, seed, query, found), a table of the mean,
std, min and max found at each budget, and a PNG of the mean curves (shaded min-max) with the
random-inspection expectation, in the spirit of coniferest's PLAsTiCC figure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from skysift.anomaly.engine import Search, SearchSpace, run_loop
from skysift.io import InputError, atomic_path

__all__ = ["anomalous_sources", "evaluate_methods", "summarise_curves", "plot_curves"]

logger = logging.getLogger(__name__)


def anomalous_sources(space: SearchSpace, truth_df: pd.DataFrame, anomaly_classes: Iterable[str]) -> set[int]:
    """Source ids with at least one objectid whose true class is an anomaly class."""
    missing = [c for c in ("objectid", "class") if c not in truth_df.columns]
    if missing:
        raise InputError(f"truth table lacks column(s) {missing}; expected the demo survey's truth.parquet")
    classes = set(anomaly_classes)
    unknown = classes - set(truth_df["class"].astype(str))
    if unknown:
        logger.warning("anomaly.anomaly_classes %s do not occur in the truth table", sorted(unknown))
    odd = truth_df.loc[truth_df["class"].astype(str).isin(classes), "objectid"].to_numpy(np.int64)
    return set(np.unique(space.source_id[np.isin(space.objectid, odd)]).tolist())


def evaluate_methods(
    space: SearchSpace,
    anomalies: set[int],
    methods: Iterable[str],
    seeds: Iterable[int],
    budget: int,
    anomaly: Mapping,
    *,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Run the oracle loop of every (method, seed); returns curves: method, seed, query, found, seconds."""
    rows = []
    for method in methods:
        for seed in seeds:
            start = time.perf_counter()
            search = Search.from_config(space, method, anomaly, seed=seed, n_jobs=n_jobs)
            steps = run_loop(
                search,
                lambda source, _scores: -1 if source in anomalies else 1,
                budget=budget,
                pool_size=anomaly.get("pool_size"),
            )
            seconds = time.perf_counter() - start
            found = np.cumsum([s.code == -1 for s in steps])
            logger.info(
                "%s seed %d: %d anomalies in %d questions (%.1f s)",
                method,
                seed,
                found[-1] if len(found) else 0,
                len(steps),
                seconds,
            )
            rows.append(
                pd.DataFrame(
                    {
                        "method": method,
                        "seed": int(seed),
                        "query": np.arange(1, len(steps) + 1),
                        "found": found.astype(np.int64),
                        "seconds": seconds,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def summarise_curves(
    curves: pd.DataFrame, budgets: Iterable[int], n_anomalies: int, n_sources: int
) -> pd.DataFrame:
    """Anomalies found within each budget: mean, std, min, max over seeds, per method."""
    out = []
    for (method, seed), curve in curves.groupby(["method", "seed"], sort=False):
        for budget in budgets:
            within = curve.loc[curve["query"] <= budget, "found"]
            out.append(
                {
                    "method": method,
                    "seed": seed,
                    "budget": budget,
                    "found": int(within.iloc[-1]) if len(within) else 0,
                }
            )
    per_seed = pd.DataFrame(out)
    table = (
        per_seed.groupby(["method", "budget"], sort=False)["found"]
        .agg(mean="mean", std="std", min="min", max="max", n_seeds="count")
        .reset_index()
    )
    table["random_expectation"] = table["budget"] * n_anomalies / max(n_sources, 1)
    table["seconds_per_run"] = table["method"].map(curves.groupby("method")["seconds"].mean())
    return table


def plot_curves(curves: pd.DataFrame, out_png: str | Path, *, n_anomalies: int, n_sources: int) -> Path:
    """Mean anomalies found vs questions per method (min-max band over seeds) and random inspection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for method, group in curves.groupby("method", sort=False):
        wide = group.pivot(index="query", columns="seed", values="found").ffill()
        ax.plot(wide.index, wide.mean(axis=1), label=f"{method} ({wide.shape[1]} seeds)")
        ax.fill_between(wide.index, wide.min(axis=1), wide.max(axis=1), alpha=0.2)
    q = np.arange(0, int(curves["query"].max()) + 1)
    ax.plot(q, q * n_anomalies / max(n_sources, 1), "k:", label="random inspection")
    ax.set_xlabel("questions to the expert (sources inspected)")
    ax.set_ylabel("anomalies found")
    ax.set_title(f"oracle evaluation: {n_anomalies} anomalous of {n_sources} sources")
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out_png = Path(out_png)
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=100, format="png", metadata={"Software": None})
    plt.close(fig)
    return out_png
