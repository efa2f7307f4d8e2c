"""Figures and tables of a classifier's metrics report: confusion matrix, reliability diagram, per-class table."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from astropy.table import Table

from skysift.classify.skipped import SKIPPED
from skysift.io import InputError, atomic_path

__all__ = [
    "per_class_table",
    "write_per_class_table",
    "plot_confusion_matrix",
    "plot_reliability",
    "plot_placeholder",
    "plot_representativeness",
]

logger = logging.getLogger(__name__)


def _pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _cv(report: dict[str, Any]) -> dict[str, Any] | None:
    """The CV section of a report, None when CV (or the whole training) was skipped."""
    cv = report.get("cv", {})
    return None if "skipped" in cv or not cv else cv


def _why_no_cv(report: dict[str, Any]) -> str:
    """Why a report has no CV metrics: the stage was skipped, or CV was."""
    if report.get("status") == SKIPPED:
        return f"skipped: {report.get('reason')}"
    return report.get("cv", {}).get("skipped", "no cross-validation")


def plot_placeholder(path: str | Path, title: str, text: str) -> Path:
    """A PNG that only says ``text`` (e.g. "skipped: 0 labelled objects, ..."), where a stage drew nothing."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.0), dpi=110)
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def per_class_table(report: dict[str, Any]) -> Table:
    """One row per class: support, precision, recall, F1 (CV), then a ``macro avg`` row."""
    cv = _cv(report)
    rows = cv["per_class"] if cv else {}
    names = list(rows) + (["macro avg"] if cv else [])
    table = Table(
        {
            "class": np.array(names, dtype=str),
            "support": np.array([rows[c]["support"] for c in rows] + ([sum(r["support"] for r in rows.values())] if cv else []), dtype=np.int64),
            "precision": np.array([rows[c]["precision"] for c in rows] + ([cv["macro"]["precision"]] if cv else []), dtype=float),
            "recall": np.array([rows[c]["recall"] for c in rows] + ([cv["macro"]["recall"]] if cv else []), dtype=float),
            "f1": np.array([rows[c]["f1"] for c in rows] + ([cv["macro"]["f1"]] if cv else []), dtype=float),
        }
    )  # fmt: skip
    descriptions = {
        "class": "class label (the last row is the unweighted mean over classes)",
        "support": "labelled objects of the class",
        "precision": "cross-validated precision",
        "recall": "cross-validated recall (efficiency)",
        "f1": "cross-validated F1 score",
    }
    for name, text in descriptions.items():
        table[name].description = text
    table.meta["model"] = report.get("model")
    table.meta["cv_folds"] = cv["n_splits"] if cv else None
    if not cv:
        table.meta["note"] = _why_no_cv(report)
    return table


def write_per_class_table(report: dict[str, Any], path: str | Path) -> Path:
    """Write :func:`per_class_table` as ECSV (``.ecsv``) or CSV (``.csv``) atomically."""
    fmt = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv"}.get(Path(path).suffix)
    if fmt is None:
        raise InputError(f"{path}: per-class table must end in .ecsv or .csv")
    with atomic_path(path) as tmp:
        per_class_table(report).write(tmp, format=fmt, overwrite=True)
    return Path(path)


def plot_confusion_matrix(report: dict[str, Any], path: str | Path) -> Path:
    """Row-normalised CV confusion matrix (true class rows, recall on the diagonal) as a PNG."""
    if report.get("status") == SKIPPED:
        return plot_placeholder(path, "confusion matrix", _why_no_cv(report))
    plt = _pyplot()
    cv = _cv(report)
    fig, ax = plt.subplots(figsize=(8, 7), dpi=110)
    if cv:
        labels = cv["confusion_matrix"]["labels"]
        matrix = np.asarray(cv["confusion_matrix"]["matrix"], dtype=float)
        norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        image = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        for i in range(len(labels)):
            for j in range(len(labels)):
                if norm[i, j] >= 0.005:
                    colour = "white" if norm[i, j] > 0.6 else "black"
                    ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=6, color=colour)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        fig.colorbar(image, ax=ax, fraction=0.046, label="fraction of the true class")
        ax.set_title(
            f"{report.get('model')}: {cv['n_splits']}-fold CV, macro recall {cv['macro']['recall']:.2f}"
        )
    else:
        ax.text(0.5, 0.5, _why_no_cv(report), ha="center", va="center", wrap=True)
        ax.set_axis_off()
    fig.tight_layout()
    return _save(fig, path)


def plot_reliability(report: dict[str, Any], path: str | Path) -> Path:
    """Reliability diagram of the CV top-label confidence (accuracy vs confidence, counts below) as a PNG."""
    if report.get("status") == SKIPPED:
        return plot_placeholder(path, "reliability", _why_no_cv(report))
    plt = _pyplot()
    cv = _cv(report)
    fig, (ax, hist) = plt.subplots(2, 1, figsize=(5.5, 6.5), dpi=110, height_ratios=[3, 1], sharex=True)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    if cv and "reliability" in cv:
        rel = cv["reliability"]
        bins = [b for b in rel["bins"] if b["count"]]
        conf = [b["confidence"] for b in bins]
        acc = [b["accuracy"] for b in bins]
        ax.plot(
            conf, acc, "o-", color="tab:blue", label=f"CV (ECE {rel['ece']:.3f}, Brier {rel['brier']:.3f})"
        )
        centres = [(b["low"] + b["high"]) / 2 for b in rel["bins"]]
        width = rel["bins"][0]["high"] - rel["bins"][0]["low"]
        hist.bar(centres, [b["count"] for b in rel["bins"]], width=width * 0.9, color="tab:blue", alpha=0.6)
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(
        f"reliability: {report.get('model')} (calibration {report.get('params', {}).get('calibration', 'none')})"
    )
    hist.set_xlabel("confidence (highest class probability)")
    hist.set_ylabel("objects")
    hist.set_yscale("log")
    fig.tight_layout()
    return _save(fig, path)


def plot_representativeness(
    block: dict[str, Any],
    shifts: pd.DataFrame,
    labelled: pd.DataFrame,
    unlabelled: pd.DataFrame,
    path: str | Path,
    *,
    n_bars: int = 15,
    n_hist: int = 3,
) -> Path:
    """Labelled vs unlabelled objects as a PNG: KS statistic of the most shifted features (bars, SMD
    written beside them) and overlaid histograms (fraction of each side per bin; log bins for
    heavy-tailed positive features) of the top ``n_hist`` features."""
    if block.get("auc") is None:
        return plot_placeholder(
            path, "representativeness of the labels", f"not tested: {block.get('skipped')}"
        )
    plt = _pyplot()
    top = shifts.dropna(subset=["ks"]).head(n_bars)
    hist_features = top["feature"].head(n_hist).tolist()
    fig = plt.figure(figsize=(11, 1.2 + 0.32 * max(len(top), 6)), dpi=110)
    grid = fig.add_gridspec(max(len(hist_features), 1), 2, width_ratios=[1.2, 1])
    bars = fig.add_subplot(grid[:, 0])
    y = np.arange(len(top))[::-1]
    bars.barh(y, top["ks"], color="tab:red", alpha=0.7)
    bars.set_yticks(y, top["feature"], fontsize=7)
    for yy, ks, smd in zip(y, top["ks"], top["smd"], strict=True):
        bars.text(ks, yy, f" SMD {smd:+.2f}" if np.isfinite(smd) else "", va="center", fontsize=6)
    bars.set_xlim(0, 1.15)
    bars.set_xlabel("KS statistic, labelled vs unlabelled")
    bars.set_title(
        f"two-sample AUC {block['auc']:.2f} (warn > {block['auc_warn']:g}): {block['verdict'].replace('_', ' ')}",
        fontsize=9,
    )
    for i, name in enumerate(hist_features):
        ax = fig.add_subplot(grid[i, 1])
        a = pd.to_numeric(labelled[name], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(unlabelled[name], errors="coerce").to_numpy(dtype=float)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        both = np.r_[a, b]
        lo, mid, hi = np.percentile(both, [1, 50, 99]) if both.size else (0.0, 0.0, 0.0)
        heavy_tail = lo > 0 and hi > 20 * mid  # e.g. chi2: log bins, or one bin holds everything
        edges = (np.geomspace if heavy_tail else np.linspace)(lo, hi, 41) if hi > lo else 10
        if heavy_tail:
            ax.set_xscale("log")
        for values, style in (
            (b, {"histtype": "stepfilled", "alpha": 0.4, "color": "grey", "label": f"unlabelled ({b.size})"}),
            (a, {"histtype": "step", "lw": 1.5, "color": "tab:red", "label": f"labelled ({a.size})"}),
        ):
            ax.hist(values, bins=edges, weights=np.full(values.size, 1 / max(values.size, 1)), **style)
        ax.set_title(f"{name} (fraction per bin)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    """Save a figure as PNG atomically and close it."""
    plt = _pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    logger.info("wrote %s", path)
    return Path(path)
