"""Oracle evaluation: anomalies found vs questions asked, per method, averaged over seeds.

The demo's truth table answers for the expert: a source (see :mod:`skysift.anomaly.space`) is an
anomaly when the true class of any of its objectids is in ``anomaly.anomaly_classes``; every other
answer is "regular". Each method runs the loop an expert would (:func:`~skysift.anomaly.engine.run_loop`)
for ``max(budgets)`` questions and each seed, over the candidate pool an expert gets: the first
``anomaly.pool_size`` sources of the method's global top-K (:mod:`skysift.anomaly.pool`). Each seed
fits the method's detectors anew on the saved fit sample; active methods refit to the answers and
rescore the pool, static ones walk down the pool by band percentiles within it (``lof`` has no
randomness: its seeds agree). Outputs: the curves (method, seed, query, found), a table of the mean,
std, min and max found at each budget, and a PNG of the mean curves (shaded min-max) with the
random-inspection expectation (anomalous sources of the release / its sources, from the truth table),
in the spirit of coniferest's PLAsTiCC figure. :func:`run_evaluation` is the ``evaluate_anomalies`` rule.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from coniferest.label import Label

from skysift.anomaly.engine import Search, run_loop
from skysift.anomaly.free import free_answers
from skysift.anomaly.labels import source_labels
from skysift.anomaly.settings import OracleSettings
from skysift.anomaly.space import SearchSpace
from skysift.io import InputError, atomic_path

__all__ = [
    "anomalous_sources",
    "evaluate_methods",
    "release_counts",
    "summarise_curves",
    "plot_curves",
    "run_evaluation",
]

#: A saved file pair: (npz, json).
ModelFiles = tuple[str | Path, str | Path]

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
    make_search: Callable[[str, int], Search],
    anomalies: Callable[[Search], set[int]],
    settings: OracleSettings,
    *,
    known: Callable[[Search], Mapping[int, Label]] | None = None,
) -> pd.DataFrame:
    """Run the oracle loop of every (method, seed) of ``anomaly.evaluation`` for ``max(budgets)`` questions.

    ``make_search(method, seed)`` builds the search of one run, ``anomalies(search)`` the anomalous
    source ids of its space, ``known(search)`` the answers given before the first question (the free
    answers: never asked, fitted by the active methods). Returns the curves: method, seed, query (1..),
    found (anomalies so far), seconds (of the run).
    """
    evaluation = settings.evaluation
    rows = []
    for method in evaluation.methods:
        for seed in evaluation.seeds:
            start = time.perf_counter()
            search = make_search(method, seed)
            odd = anomalies(search)
            steps = run_loop(
                search,
                lambda source, _scores, odd=odd: Label.ANOMALY if source in odd else Label.REGULAR,
                budget=max(evaluation.budgets),
                known=known(search) if known is not None else None,
                pool_size=settings.pool_size,
            )
            seconds = time.perf_counter() - start
            found = np.cumsum([s.label == Label.ANOMALY for s in steps])
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


def release_counts(
    truth_df: pd.DataFrame, objectids: np.ndarray, anomaly_classes: Iterable[str]
) -> tuple[int, int]:
    """Anomalous sources and sources of the release (the truth's sources of the scored objectids)."""
    truth = truth_df.loc[truth_df["objectid"].isin(objectids)]
    key = "source_id" if "source_id" in truth else "objectid"
    odd = truth.loc[truth["class"].astype(str).isin(set(anomaly_classes)), key]
    return int(odd.nunique()), int(truth[key].nunique())


def run_evaluation(
    features: Sequence[str | Path],
    truth: str | Path | pd.DataFrame,
    settings: OracleSettings,
    *,
    models: Mapping[str, ModelFiles],
    sample: ModelFiles,
    ranked: Mapping[str, str | Path],
    table: str | Path,
    curves: str | Path,
    plot: str | Path,
    crossmatch: Sequence[str | Path] = (),
    n_jobs: int = 1,
) -> pd.DataFrame:
    """The ``evaluate_anomalies`` rule: oracle curves, the summary table and the figure.

    Parameters
    ----------
    features
        Every batch's feature table (the pool's rows are read from them).
    truth
        The demo's truth table (objectid, class, source_id), or its parquet file.
    settings
        The evaluation settings (:meth:`OracleSettings.from_config`).
    models, sample, ranked
        The run's saved models (method -> (npz, json)), fit sample (npz, json) and top-K tables
        (method -> parquet); every method of ``anomaly.evaluation.methods`` needs its model and table.
    table, curves, plot
        Output files: the summary per method and budget (CSV), the curves (CSV), the figure (PNG).
    crossmatch
        The cross-match tables: with ``anomaly.free_answers.enabled`` every loop starts from the free
        answers (:mod:`skysift.anomaly.free`); their rows join the pool.

    Returns
    -------
    pandas.DataFrame
        The summary table.
    """
    from skysift.anomaly.pool import load_pool, seed_search
    from skysift.anomaly.store import load_model, load_sample

    missing = [m for m in settings.evaluation.methods if m not in models or m not in ranked]
    if missing:
        raise InputError(
            f"anomaly.evaluation.methods {missing} have no ranked list: add them to anomaly.compare"
        )
    truth_df = truth if isinstance(truth, pd.DataFrame) else pd.read_parquet(truth)
    for col in ("objectid", "class"):
        if col not in truth_df:
            raise InputError(f"truth table lacks column {col!r}; expected the demo survey's truth.parquet")
    free = free_answers(crossmatch, settings.free_answers)
    fit_sample = None
    pools = {}
    for method in settings.evaluation.methods:
        model = load_model(*models[method], n_jobs=n_jobs)
        if fit_sample is None:
            fit_sample = load_sample(*sample, preprocessors=model.preprocessors)
        pools[method] = load_pool(pd.read_parquet(ranked[method]), features, model,
                                  pool_size=settings.pool_size, labelled=free["objectid"].to_numpy(np.int64))  # fmt: skip

    def make_search(method: str, seed: int) -> Search:
        return seed_search(pools[method], fit_sample, method, settings.detectors, seed=seed, n_jobs=n_jobs)

    def odd(search: Search) -> set[int]:
        return anomalous_sources(search.space, truth_df, settings.anomaly_classes)

    scored = np.concatenate(
        [pd.read_parquet(p, columns=["objectid"])["objectid"].to_numpy(np.int64) for p in features]
    )
    n_anomalies, n_sources = release_counts(truth_df, scored, settings.anomaly_classes)

    def free_known(search: Search) -> dict[int, Label]:
        return source_labels(search.space, free.loc[free["objectid"].isin(search.space.objectid)])

    curves_df = evaluate_methods(make_search, odd, settings, known=free_known)
    summary = summarise_curves(curves_df, settings.evaluation.budgets, n_anomalies, n_sources)
    for frame, path in ((summary, table), (curves_df, curves)):
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False, float_format="%.4g")
    plot_curves(curves_df, plot, n_anomalies=n_anomalies, n_sources=n_sources)
    return summary
