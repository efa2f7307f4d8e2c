"""Per-band detectors over a search space, the band-combination rule, and the deterministic expert-in-the-loop search.

Per band (``anomaly.per_band``): one detector per filterid of the :class:`~skysift.anomaly.space.SearchSpace`.
Scores are HIGHER = MORE ANOMALOUS for every method (forests: minus coniferest's / scikit-learn's
``score_samples``, i.e. the isolation score s(x, n) of Liu et al. 2008 in (0, 1]).

Combination rule (as Fink does with the minimum normal-ness over bands): each scored row gets
its band percentile ``p`` = (how many rows of its band score <= it) / (rows of its band), in
(0, 1], 1 = the band's most anomalous object; a source's score is the MAXIMUM of its rows'
``p`` (its most anomalous band), ties broken by the mean ``p`` of its rows, then by the smaller
source id. Every objectid of a source carries the source score. Percentiles make the bands (and
methods with unbounded scores: LOF, GMM, AAD) comparable.

The loop (:func:`run_loop`) asks about SOURCES: the next candidate is the best-ranked source
without an answer; the answer (a coniferest :class:`~coniferest.label.Label`) applies to all its
objectids. The detectors refit from scratch on the set of answers (see
:mod:`skysift.anomaly.detectors`), so the sequence is a pure function of (data, method, seed,
answers): resuming from a labels file reproduces an uninterrupted session exactly.

Candidate pool (``anomaly.pool_size``): to answer an expert within a second on large runs, a
loop rescoring by an active method rescores only the rows of the ``pool_size`` sources ranked
highest by the unlabelled model (fixed at the start, so resumes see the same pool). Demo
(~40k rows, 300 trees): one AAD step over all rows takes ~1 s, over a 2000-source pool ~0.1 s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from coniferest.label import Label

from skysift.anomaly.detectors import ACTIVE_METHODS, BandDetector
from skysift.anomaly.settings import DetectorSettings
from skysift.anomaly.space import SearchSpace

__all__ = ["Search", "run_loop", "LoopStep"]

logger = logging.getLogger(__name__)


class Search:
    """One method over a search space: per-band detectors, row scores given answers, ranking.

    Parameters
    ----------
    space
        The search space (:func:`skysift.anomaly.space.build_space`).
    method
        One of :data:`~skysift.anomaly.detectors.ALL_METHODS`.
    settings
        Detector sizes and method parameters.
    seed
        Random seed of the detectors (``anomaly.random_state``).
    n_jobs
        Threads of the forests (coniferest's scores do not depend on it).
    """

    def __init__(
        self, space: SearchSpace, method: str, settings: DetectorSettings, *, seed: int, n_jobs: int = 1
    ) -> None:
        self.space, self.method, self.seed = space, method, seed
        self.detectors = {}
        for band, rows in space.band_rows.items():
            if len(rows) < 2:
                logger.warning(
                    "band %d has %d scored object(s): nothing to compare with, score NaN", band, len(rows)
                )
                continue
            self.detectors[band] = BandDetector(method, space.X[rows], settings, seed=seed, n_jobs=n_jobs)
        self.sources, self._source_index = np.unique(space.source_id, return_inverse=True)

    @property
    def active(self) -> bool:
        """Whether the scores depend on the answers."""
        return self.method in ACTIVE_METHODS

    def row_scores(
        self, known: Mapping[int, Label] | None = None, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Raw method scores (higher = odder) of every row (NaN unscored or outside ``rows``).

        ``known`` maps source_id -> :class:`~coniferest.label.Label`; it applies to every row of the source.
        """
        space = self.space
        out = np.full(space.n_rows, np.nan)
        known = dict(known or {})
        known_ids = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
        known_labels = np.fromiter(known.values(), dtype=np.int64, count=len(known))
        selected = None
        if rows is not None:
            selected = np.zeros(space.n_rows, dtype=bool)
            selected[rows] = True
        for band, detector in self.detectors.items():
            band_rows = space.band_rows[band]
            local = np.arange(len(band_rows)) if selected is None else np.flatnonzero(selected[band_rows])
            if not len(local):
                continue
            kr = kl = None
            if self.active and len(known_ids):
                hit = np.isin(space.source_id[band_rows], known_ids)
                kr = np.flatnonzero(hit)
                kl = pd.Series(known_labels, index=known_ids).loc[space.source_id[band_rows][kr]].to_numpy()
            out[band_rows[local]] = detector.scores(local, kr, kl)
        return out

    def combine(self, row_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Band percentile of each row and the source score of each row (see the module doc)."""
        from scipy.stats import rankdata  # here: scipy.stats costs seconds at every snakemake start

        space = self.space
        pct = np.full(space.n_rows, np.nan)
        for band in self.detectors:
            rows = space.band_rows[band]
            ok = rows[np.isfinite(row_scores[rows])]
            if len(ok):
                pct[ok] = rankdata(row_scores[ok], method="max") / len(ok)
        filled = np.where(np.isnan(pct), -np.inf, pct)
        best = np.full(len(self.sources), -np.inf)
        np.maximum.at(best, self._source_index, filled)
        best = np.where(np.isinf(best), np.nan, best)
        return pct, best[self._source_index]

    def source_order(self, row_scores: np.ndarray, exclude: set[int] | None = None) -> np.ndarray:
        """Source ids by descending source score (mean band percentile, then source id break ties)."""
        pct, _ = self.combine(row_scores)
        ok = np.isfinite(pct)
        n = len(self.sources)
        best = np.full(n, -np.inf)
        np.maximum.at(best, self._source_index[ok], pct[ok])
        total = np.bincount(self._source_index[ok], weights=pct[ok], minlength=n)
        count = np.bincount(self._source_index[ok], minlength=n)
        keep = count > 0
        if exclude:
            keep &= ~np.isin(self.sources, np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
        mean = np.divide(total, count, out=np.zeros(n), where=count > 0)
        order = np.lexsort((self.sources, -mean, -best))
        return self.sources[order[keep[order]]]

    def pool_rows(self, pool_size: int | None) -> np.ndarray | None:
        """Rows of the ``pool_size`` best sources of the unlabelled model (None = every row)."""
        if not pool_size or not self.active:
            return None
        top = self.source_order(self.row_scores({}))[:pool_size]
        return np.flatnonzero(np.isin(self.space.source_id, top))


@dataclass(frozen=True)
class LoopStep:
    """One question of the loop: which source was shown, and the answer."""

    source_id: int
    label: Label


def run_loop(
    search: Search,
    decide: Callable[[int, np.ndarray], Label | None],
    *,
    budget: int,
    known: Mapping[int, Label] | None = None,
    pool_size: int | None = None,
) -> list[LoopStep]:
    """Ask ``decide(source_id, row_scores)`` about the best unanswered source until ``budget`` answers.

    ``decide`` returns a :class:`~coniferest.label.Label` (UNKNOWN = looked at, could not tell: not
    fitted, not asked again) or None to stop. ``known`` are earlier answers (source_id -> Label:
    other experts, or the answers of an interrupted session); they are never asked again and, for
    active methods, fit the model. ``pool_size`` as ``anomaly.pool_size`` (None = every row).
    """
    known = dict(known or {})
    rows = search.pool_rows(pool_size)
    steps: list[LoopStep] = []
    static_scores = None if search.active else search.row_scores()
    static_order = None if search.active else search.source_order(static_scores)
    while len(steps) < budget:
        if search.active:
            scores = search.row_scores(known, rows)
            order = search.source_order(scores, exclude=set(known))
        else:  # the ranking never changes: walk down it
            scores = static_scores
            order = static_order[~np.isin(static_order, list(known))] if known else static_order
        if not len(order):
            logger.info("every candidate has an answer: the loop stops after %d question(s)", len(steps))
            break
        source = int(order[0])
        answer = decide(source, scores)
        if answer is None:
            break
        known[source] = Label(answer)
        steps.append(LoopStep(source, Label(answer)))
    return steps
