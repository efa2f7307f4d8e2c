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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from coniferest.label import Label

from skysift.anomaly.detectors import ACTIVE_METHODS, BandDetector, Detector
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
        Threads of the forests, and of the bands' refits to the answers (which run side by side);
        the scores do not depend on it.

    :meth:`with_detectors` builds one over detectors fitted elsewhere (a saved model, a fit sample):
    the candidate pool of an expert session or of the oracle evaluation.
    """

    def __init__(
        self, space: SearchSpace, method: str, settings: DetectorSettings, *, seed: int, n_jobs: int = 1
    ) -> None:
        detectors = {}
        for band, rows in space.band_rows.items():
            if len(rows) < 2:
                logger.warning(
                    "band %d has %d scored object(s): nothing to compare with, score NaN", band, len(rows)
                )
                continue
            detectors[band] = BandDetector.fit(method, space.X[rows], settings, seed=seed, n_jobs=n_jobs)
        self._setup(space, method, detectors, n_jobs)

    @classmethod
    def with_detectors(
        cls,
        space: SearchSpace,
        method: str,
        detectors: Mapping[int, BandDetector],
        *,
        pool: np.ndarray | None = None,
        fixed_percentiles: np.ndarray | None = None,
        ranked_sources: np.ndarray | None = None,
        n_jobs: int = 1,
    ) -> Search:
        """A search over detectors of ``space.X[space.band_rows[band]]`` fitted elsewhere.

        ``pool``: the rows a loop rescores (default: :meth:`pool_rows`); ``fixed_percentiles``: band
        percentiles of every row for a static method (a run's, against its whole release), used
        instead of percentiles within the space; ``ranked_sources``: the order a loop of a static
        method walks (a run's ranking), instead of :meth:`source_order`.
        """
        search = cls.__new__(cls)
        search._setup(space, method, dict(detectors), n_jobs)
        search.pool = None if pool is None else np.asarray(pool, dtype=np.int64)
        search.fixed_percentiles = fixed_percentiles
        search.ranked_sources = None if ranked_sources is None else np.asarray(ranked_sources, dtype=np.int64)
        return search

    def _setup(
        self, space: SearchSpace, method: str, detectors: dict[int, BandDetector], n_jobs: int
    ) -> None:
        """The state of every search; :meth:`with_detectors` then sets its pool, percentiles and order."""
        self.space, self.method, self.detectors = space, method, detectors
        self.n_jobs = n_jobs
        self.pool: np.ndarray | None = None
        self.fixed_percentiles: np.ndarray | None = None
        self.ranked_sources: np.ndarray | None = None
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
        selected = None
        if rows is not None:
            selected = np.zeros(space.n_rows, dtype=bool)
            selected[rows] = True
        tasks = []
        for band, detector in self.detectors.items():
            band_rows = space.band_rows[band]
            local = np.arange(len(band_rows)) if selected is None else np.flatnonzero(selected[band_rows])
            if not len(local):
                continue
            kr, kl = self.known_rows(band, known) if self.active and known else (None, None)
            tasks.append((band_rows[local], detector, local, kr, kl))

        def score(task: tuple) -> np.ndarray:
            return task[1].scores(task[2], task[3], task[4])

        if self.active and self.n_jobs > 1 and len(tasks) > 1:  # the bands' refits are independent
            with ThreadPoolExecutor(min(self.n_jobs, len(tasks))) as pool:
                results = list(pool.map(score, tasks))
        else:
            results = [score(task) for task in tasks]
        for task, result in zip(tasks, results, strict=True):
            out[task[0]] = result
        return out

    def known_rows(self, band: int, known: Mapping[int, Label]) -> tuple[np.ndarray, np.ndarray]:
        """Rows within ``band`` (sorted) of the known sources, and their labels."""
        space = self.space
        rows = space.band_rows[band]
        if not known:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        ids = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
        labels = pd.Series(np.fromiter(known.values(), dtype=np.int64, count=len(known)), index=ids)
        hit = np.flatnonzero(np.isin(space.source_id[rows], ids))
        return hit, labels.loc[space.source_id[rows][hit]].to_numpy(np.int64)

    def labelled_detector(self, band: int, known: Mapping[int, Label]) -> Detector:
        """The band's detector refitted to the known sources (static methods: as fitted)."""
        band_detector = self.detectors[band]
        if not self.active:
            return band_detector.detector
        rows, labels = self.known_rows(band, known)
        return band_detector.detector.with_labels(band_detector.X[rows], labels)

    def combine(self, row_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Band percentile of each row and the source score of each row (see the module doc)."""
        from scipy.stats import rankdata  # here: scipy.stats costs seconds at every snakemake start

        space = self.space
        if self.fixed_percentiles is not None and not self.active:
            pct = np.where(np.isfinite(row_scores), self.fixed_percentiles, np.nan)
            return pct, self._source_max(pct)
        pct = np.full(space.n_rows, np.nan)
        for band in self.detectors:
            rows = space.band_rows[band]
            ok = rows[np.isfinite(row_scores[rows])]
            if len(ok):
                pct[ok] = rankdata(row_scores[ok], method="max") / len(ok)
        return pct, self._source_max(pct)

    def _source_max(self, pct: np.ndarray) -> np.ndarray:
        """The source score of every row: the maximum percentile of its source's rows (NaN if none)."""
        filled = np.where(np.isnan(pct), -np.inf, pct)
        best = np.full(len(self.sources), -np.inf)
        np.maximum.at(best, self._source_index, filled)
        best = np.where(np.isinf(best), np.nan, best)
        return best[self._source_index]

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
        """Rows of the ``pool_size`` best sources of the unlabelled model (None = every row).

        A search built with a ``pool`` (:meth:`with_detectors`) returns that pool.
        """
        if self.pool is not None and self.active:
            return self.pool
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
    prefetch: bool = False,
) -> list[LoopStep]:
    """Ask ``decide(source_id, row_scores)`` about the best unanswered source until ``budget`` answers.

    ``decide`` returns a :class:`~coniferest.label.Label` (UNKNOWN = looked at, could not tell: not
    fitted, not asked again) or None to stop. ``known`` are earlier answers (source_id -> Label:
    other experts, or the answers of an interrupted session); they are never asked again and, for
    active methods, fit the model. ``pool_size`` as ``anomaly.pool_size`` (None = every row).

    ``prefetch`` (an expert at the keyboard): while ``decide`` waits for the answer, the refits to
    both informative answers run in the background, regular first (anomalies are rare), so the next
    candidate is ready when the answer comes (an UNKNOWN answer changes no fit). The scores are
    those of a refit after the answer, bit for bit: a refit is a pure function of the set of answers.
    """
    known = dict(known or {})
    rows = search.pool_rows(pool_size)
    steps: list[LoopStep] = []
    scores = search.row_scores(known, rows) if search.active else search.row_scores()
    static_order = None
    if not search.active:
        ranked = search.ranked_sources
        static_order = search.source_order(scores) if ranked is None else ranked
    # one refit at a time, the likelier answer (regular: anomalies are rare) first; the other is
    # dropped unstarted when the answer comes
    background = ThreadPoolExecutor(1) if prefetch and search.active else None
    try:
        while len(steps) < budget:
            if search.active:
                order = search.source_order(scores, exclude=set(known))
            else:  # the ranking never changes: walk down it
                order = static_order[~np.isin(static_order, list(known))] if known else static_order
            if not len(order):
                logger.info("every candidate has an answer: the loop stops after %d question(s)", len(steps))
                break
            source = int(order[0])
            ahead = {}
            if background is not None:
                for label in (Label.REGULAR, Label.ANOMALY):
                    ahead[label] = background.submit(search.row_scores, {**known, source: label}, rows)
            answer = decide(source, scores)
            if answer is None:
                break
            known[source] = Label(answer)
            steps.append(LoopStep(source, Label(answer)))
            for label, future in ahead.items():
                if label != Label(answer):
                    future.cancel()
            if search.active and Label(answer) != Label.UNKNOWN:
                refit = ahead.get(Label(answer))
                scores = refit.result() if refit is not None else search.row_scores(known, rows)
    finally:
        if background is not None:
            background.shutdown(wait=True, cancel_futures=True)
    return steps
