"""Pool-based active learning: query strategies, a label oracle, learning curves averaged over seeds.

One run (:func:`active_learning_curve`) splits the labelled objects into a held-out *test* set
and a *pool*; it draws ``n_initial`` random pool objects as the first training labels, then
repeatedly fits the model, scores the test set, and asks the oracle for the labels of the
``batch_size`` pool objects the strategy picks, until ``budget`` labels have been bought. The
oracle only knows the pool: asking it for a test object is an error, so the test set can
never leak into training. :func:`run_active_learning` repeats this for every strategy and
seed (the same split and initial labels for every strategy of one seed: paired comparisons).

Strategies (Settles 2009): ``uncertainty`` (least confident, 1 - max p), ``margin`` (smallest
gap between the two most probable classes), ``entropy`` (Shannon entropy of p) and ``random``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split

from skysift.classify.pipeline import build_pipeline
from skysift.classify.skipped import TooFewLabels
from skysift.crossmatch.best import clean_labels
from skysift.features.table import as_features_frame, features_matrix
from skysift.io import InputError, atomic_path

__all__ = [
    "STRATEGIES",
    "LabelOracle",
    "query_scores",
    "select_batch",
    "active_learning_curve",
    "run_active_learning",
    "summarise_curves",
    "active_learning_inputs",
    "empty_curves",
    "min_labels",
    "plot_learning_curves",
]

logger = logging.getLogger(__name__)

#: Query strategies (config ``classify.active_learning.strategies``).
STRATEGIES: tuple[str, ...] = ("uncertainty", "margin", "entropy", "random")


class LabelOracle:
    """Answers label queries from known labels, for the pool objects only, and counts them."""

    def __init__(self, labels: np.ndarray, pool: np.ndarray) -> None:
        self._labels = np.asarray(labels)
        self._pool = set(np.asarray(pool).tolist())
        self.queried: list[int] = []

    def query(self, idx: Sequence[int] | np.ndarray) -> np.ndarray:
        """Labels of objects ``idx`` (row indices); refuses objects outside the pool or asked twice."""
        idx = np.asarray(idx, dtype=np.int64)
        outside = [int(i) for i in idx if int(i) not in self._pool]
        if outside:
            raise InputError(
                f"oracle asked for {len(outside)} object(s) outside the pool, e.g. {outside[:5]}"
            )
        again = set(self.queried) & set(idx.tolist())
        if again or len(set(idx.tolist())) != idx.size:
            raise InputError(f"oracle asked twice for object(s) {sorted(again)[:5]}")
        self.queried.extend(idx.tolist())
        return self._labels[idx]

    @property
    def n_queries(self) -> int:
        """Number of labels given so far."""
        return len(self.queried)


def query_scores(proba: np.ndarray, strategy: str) -> np.ndarray:
    """Informativeness of each object (higher = query first) from its class probabilities."""
    if strategy == "uncertainty":
        return 1.0 - proba.max(axis=1)
    if strategy == "margin":
        if proba.shape[1] < 2:
            return np.zeros(proba.shape[0])
        top2 = np.sort(proba, axis=1)[:, -2:]
        return -(top2[:, 1] - top2[:, 0])
    if strategy == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.nansum(np.where(proba > 0, proba * np.log(proba), 0.0), axis=1)
    raise ValueError(f"active-learning strategy {strategy!r} is not one of {list(STRATEGIES)}")


def select_batch(
    strategy: str, proba: np.ndarray | None, n: int, rng: np.random.Generator, n_pool: int | None = None
) -> np.ndarray:
    """Positions (into the unlabelled pool) of the ``n`` objects to query next.

    Ties are broken at random (``rng``), so a strategy is deterministic given the seed.
    """
    size = n_pool if proba is None else proba.shape[0]
    n = min(n, size)
    if strategy == "random":
        return np.sort(rng.choice(size, size=n, replace=False))
    if strategy not in STRATEGIES:
        raise ValueError(f"active-learning strategy {strategy!r} is not one of {list(STRATEGIES)}")
    scores = query_scores(proba, strategy)
    order = np.lexsort((rng.random(size), -scores))
    return np.sort(order[:n])


def _metrics(y_true: np.ndarray, y_pred: np.ndarray, positive: str | None) -> dict[str, float]:
    """Test-set scores of one iteration (purity/efficiency of ``positive`` when given)."""
    out = {
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
    }
    if positive is not None:
        t, p = y_true == positive, y_pred == positive
        out["purity"] = float(precision_score(t, p, zero_division=0))
        out["efficiency"] = float(recall_score(t, p, zero_division=0))
    return out


def _take(X: np.ndarray | pd.DataFrame, rows: Sequence[int] | np.ndarray) -> np.ndarray | pd.DataFrame:
    """Rows of an array or DataFrame by position."""
    rows = np.asarray(rows, dtype=np.int64)
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]


def _split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified pool/test split of row indices (classes with one member go to the pool)."""
    idx = np.arange(y.size)
    counts = pd.Series(y).value_counts()
    single = np.isin(y, counts[counts < 2].index)
    strat_idx = idx[~single]
    pool, test = train_test_split(
        strat_idx, test_size=test_fraction, random_state=seed, stratify=y[strat_idx]
    )
    return np.sort(np.concatenate([pool, idx[single]])), np.sort(test)


def active_learning_curve(
    X: np.ndarray | pd.DataFrame,
    y: np.ndarray,
    make_model: Callable[[int], Any],
    *,
    strategy: str,
    seed: int,
    n_initial: int = 10,
    batch_size: int = 10,
    budget: int = 200,
    test_fraction: float = 0.3,
    positive_class: str | None = None,
    split: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One active-learning run: test scores after every batch, and the run's bookkeeping.

    ``make_model(seed)`` returns an unfitted classifier. ``split`` = (pool, test) row indices
    (default: a stratified split seeded by ``seed``). Returns the curve (one row per fit:
    n_labels, n_queries and the scores) and ``{"pool", "test", "initial", "queried", "labelled"}``
    row indices with the last fitted ``model``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"active-learning strategy {strategy!r} is not one of {list(STRATEGIES)}")
    y = np.asarray(y).astype(str)
    pool, test = split if split is not None else _split(y, test_fraction, seed)
    if n_initial + budget > pool.size:
        raise InputError(
            f"active learning needs n_initial + budget = {n_initial + budget} labels but the pool has "
            f"{pool.size}; lower classify.active_learning.budget"
        )
    rng = np.random.default_rng(seed)
    init_rng = np.random.default_rng([seed, 1])  # the same initial labels for every strategy of a seed
    initial = np.sort(init_rng.choice(pool, size=n_initial, replace=False))
    oracle = LabelOracle(y, pool)
    labelled = list(initial)
    known = list(oracle.query(initial))
    unlabelled = np.setdiff1d(pool, initial)
    rows = []
    while True:
        model = make_model(seed)
        # a model needs two classes: until then predict the only class seen
        if len(set(known)) > 1:
            model.fit(_take(X, labelled), np.asarray(known))
            y_pred = np.asarray(model.predict(_take(X, test))).astype(str)
        else:
            y_pred = np.full(test.size, known[0])
        rows.append(
            {
                "strategy": strategy,
                "seed": seed,
                "n_labels": len(labelled),
                "n_queries": oracle.n_queries - n_initial,
                **_metrics(y[test], y_pred, positive_class),
            }
        )
        spent = oracle.n_queries - n_initial
        if spent >= budget or unlabelled.size == 0:
            break
        n = min(batch_size, budget - spent)
        proba = (
            model.predict_proba(_take(X, unlabelled))
            if len(set(known)) > 1 and strategy != "random"
            else None
        )
        if proba is None and strategy != "random":
            proba = np.full((unlabelled.size, 1), 1.0)  # one class seen: every object equally (un)informative
        picked = unlabelled[select_batch(strategy, proba, n, rng, n_pool=unlabelled.size)]
        known.extend(oracle.query(picked))
        labelled.extend(picked.tolist())
        unlabelled = np.setdiff1d(unlabelled, picked)
    info = {
        "pool": pool,
        "test": test,
        "initial": initial,
        "queried": np.asarray(oracle.queried[n_initial:]),
        "labelled": np.asarray(labelled),
        "model": model if len(set(known)) > 1 else None,
    }
    return pd.DataFrame(rows), info


def min_labels(n_initial: int, test_fraction: float) -> int:
    """The fewest labelled objects active learning can run on: the pool (1 - ``test_fraction``) must hold
    the ``n_initial`` labels and at least one query."""
    n = n_initial + 2
    while int(n * (1 - test_fraction)) - n_initial - 1 < 1:
        n += 1
    return n


def empty_curves(positive_class: str | None = None) -> pd.DataFrame:
    """A learning-curve table without rows (a skipped run), with the columns of :func:`run_active_learning`."""
    metrics = ["balanced_accuracy", "macro_f1", "accuracy"]
    if positive_class is not None:
        metrics += ["purity", "efficiency"]
    columns = {"strategy": "object", "seed": "int64", "n_labels": "int64", "n_queries": "int64"}
    return pd.DataFrame(
        {c: pd.Series(dtype=t) for c, t in {**columns, **dict.fromkeys(metrics, "float64")}.items()}
    )


def run_active_learning(
    X: np.ndarray | pd.DataFrame,
    y: np.ndarray,
    make_model: Callable[[int], Any],
    *,
    strategies: Sequence[str] = ("uncertainty", "margin", "random"),
    seeds: Sequence[int] = (0, 1, 2),
    n_initial: int = 10,
    batch_size: int = 10,
    budget: int = 200,
    test_fraction: float = 0.3,
    positive_class: str | None = None,
) -> pd.DataFrame:
    """Learning curves of every strategy and seed (long table: strategy, seed, n_labels, scores)."""
    y = np.asarray(y).astype(str)
    needs = min_labels(n_initial, test_fraction)
    n_classes = len(set(y.tolist()))
    if y.size < needs or n_classes < 2:
        raise TooFewLabels(
            f"{y.size} labelled objects in {n_classes} class(es), needs >= {needs} in >= 2 classes "
            f"(classify.active_learning.n_initial = {n_initial} plus a {test_fraction:.0%} test set)",
            n_labels=y.size,
            needs=needs,
        )
    largest = int(y.size * (1 - test_fraction)) - n_initial - 1
    if budget > largest:
        logger.warning(
            "active learning: budget %d capped to %d (the pool size minus the initial labels)",
            budget,
            largest,
        )
        budget = largest
    curves = []
    for seed in seeds:
        split = _split(y, test_fraction, seed)
        for strategy in strategies:
            curve, _ = active_learning_curve(
                X,
                y,
                make_model,
                strategy=strategy,
                seed=seed,
                n_initial=n_initial,
                batch_size=batch_size,
                budget=budget,
                positive_class=positive_class,
                split=split,
            )
            last = curve.iloc[-1]
            logger.info(
                "seed %d %-11s: %d labels, balanced accuracy %.3f, macro F1 %.3f",
                seed,
                strategy,
                last["n_labels"],
                last["balanced_accuracy"],
                last["macro_f1"],
            )
            curves.append(curve)
    return pd.concat(curves, ignore_index=True)


def active_learning_inputs(
    features: pd.DataFrame,
    labels: pd.Series,
    *,
    model: str = "random_forest",
    n_estimators: int = 50,
    n_jobs: int = 1,
) -> tuple[pd.DataFrame, np.ndarray, Callable[[int], Any]]:
    """The labelled objects' feature matrix, their labels, and a model factory (seed -> unfitted pipeline)."""
    df = as_features_frame(features)
    clean = clean_labels(labels).dropna()
    clean.index = clean.index.astype(np.int64)
    aligned = clean.reindex(df["objectid"].to_numpy())
    keep = aligned.notna().to_numpy()
    X, names = features_matrix(df.loc[keep])
    y = aligned.to_numpy(dtype=object)[keep].astype(str)
    logger.info("active learning over %d labelled objects, %d classes", y.size, len(set(y.tolist())))

    def make_model(seed: int) -> Any:
        """The classifier of one run."""
        return build_pipeline(model, n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs)

    return pd.DataFrame(X, columns=names), y, make_model


def summarise_curves(curves: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean, standard deviation, min and max over seeds per strategy and number of labels."""
    if metrics is None:
        metrics = [c for c in curves.columns if c not in ("strategy", "seed", "n_labels", "n_queries")]
    grouped = curves.groupby(["strategy", "n_labels"], sort=True)[list(metrics)]
    out = grouped.agg(["mean", "std", "min", "max"])
    out.columns = [f"{m}_{stat}" for m, stat in out.columns]
    out["n_seeds"] = grouped.size()
    return out.reset_index()


def plot_learning_curves(
    summary: pd.DataFrame, path: str | Path, metric: str = "balanced_accuracy", title: str | None = None
) -> Path:
    """Metric vs number of labels per strategy (mean over seeds, band = ±1 std) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {
        "uncertainty": "tab:red",
        "margin": "tab:orange",
        "entropy": "tab:purple",
        "random": "tab:blue",
    }
    names = {"uncertainty": "UncSampling", "margin": "MarginSampling", "entropy": "EntropySampling"}
    fig, ax = plt.subplots(figsize=(6.5, 4.5), dpi=110)
    for strategy, part in summary.groupby("strategy", sort=True):
        x = part["n_labels"].to_numpy()
        mean = part[f"{metric}_mean"].to_numpy()
        std = np.nan_to_num(part[f"{metric}_std"].to_numpy())
        colour = colours.get(str(strategy))
        label = names.get(str(strategy), "RandomSampling" if strategy == "random" else str(strategy))
        ax.plot(x, mean, color=colour, label=label, lw=1.8)
        ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.2, lw=0)
    n_seeds = int(summary["n_seeds"].max()) if len(summary) else 0
    ax.set_xlabel("number of labels")
    ax.set_ylabel(metric.replace("_", " ") + " (held-out test set)")
    ax.set_title(title or f"active learning: mean ± std over {n_seeds} seeds")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    logger.info("wrote %s", path)
    return Path(path)
