"""Reproducible, batch-stratified row samples of a release: which rows each batch gives.

A sample of ``n`` rows is shared among the batches in proportion to their rows (largest remainders,
ties to the earlier batch), and each batch draws its share without replacement from a generator
seeded with ``(seed, crc32(batch name))``: the same config gives the same sample, and a batch's draw
does not depend on the other batches' names. A release with at most ``n`` rows is taken whole.

Shared by the models that fit on a sample of the release (the anomaly fit sample, the classifier's
representativeness check), so it lives below both of them.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["batch_name_of", "sample_rows", "sample_sizes"]


def batch_name_of(path: str | Path) -> str:
    """The batch name of a per-batch file (its stem, e.g. ``field000633``)."""
    return Path(path).name.split(".")[0]


def sample_sizes(counts: Sequence[int], fit_sample: int) -> list[int]:
    """Rows each batch gives to a sample of ``fit_sample`` rows (all of them when the release is smaller)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total <= fit_sample:
        return counts.tolist()
    exact = counts * (fit_sample / total)
    sizes = np.floor(exact).astype(np.int64)
    remainder = exact - sizes
    extra = fit_sample - int(sizes.sum())
    order = np.lexsort((np.arange(len(counts)), -remainder))  # largest remainders, earlier batch first
    sizes[order[:extra]] += 1
    return np.minimum(sizes, counts).tolist()


def sample_rows(name: str, n_rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted row indices a batch gives to the sample (every row when ``size`` >= ``n_rows``)."""
    if size >= n_rows:
        return np.arange(n_rows)
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(name.encode())])
    return np.sort(rng.choice(n_rows, size, replace=False))
