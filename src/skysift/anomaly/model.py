"""A method's detectors fitted on a sample of a release: what ``fit_anomaly_model`` saves and
``score_anomalies`` applies to every batch.

The fit sample (:mod:`skysift.anomaly.sample`) becomes a search space with its own per-band
preprocessors; each method's per-band detectors are fitted on it and refitted to the expert labels
(active methods), exactly as an in-memory search over those rows would (:class:`~skysift.anomaly.engine.Search`).
For each band the model keeps:

``detector``        the fitted :class:`~skysift.anomaly.detectors.Detector` (AAD weights / PineForest
                    trees of the labels)
``preprocessor``    the imputation and transform fitted on the band's sample rows
``reference``       the sample's scores, sorted: the band percentiles of every release row are taken
                    against it (:mod:`skysift.anomaly.reference`)
``sample_objectid`` / ``sample_scores``: a row of the sample keeps the score it got at fit time when its
                    batch is scored (for LOF the leave-self-out score of its fit; for the others the same
                    number scoring would give), so a sample of every row reproduces the in-memory
                    ranking exactly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from skysift.anomaly.detectors import Detector
from skysift.anomaly.engine import Search
from skysift.anomaly.labels import source_labels
from skysift.anomaly.preprocess import AnomalyPreprocessor
from skysift.anomaly.settings import FitSettings, SpaceSettings
from skysift.anomaly.space import SearchSpace, build_space

__all__ = ["BandModel", "MethodModel", "FitSample", "fit_sample_space", "fit_models", "PROBE_ROWS"]

logger = logging.getLogger(__name__)

#: Sample rows whose scores a saved model keeps to check itself when loaded.
PROBE_ROWS = 16


@dataclass
class BandModel:
    """One band of a method's model (module docstring)."""

    detector: Detector
    preprocessor: AnomalyPreprocessor
    reference: np.ndarray
    sample_objectid: np.ndarray
    sample_scores: np.ndarray
    _lookup: pd.Index | None = field(default=None, repr=False)

    def scores(self, objectid: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Scores of rows (objectids and transformed features): the fit-time score of a sample row,
        the detector's score of any other."""
        if self._lookup is None:
            self._lookup = pd.Index(self.sample_objectid)
        at = self._lookup.get_indexer(np.asarray(objectid, dtype=np.int64))
        out = np.empty(len(at))
        found = at >= 0
        out[found] = self.sample_scores[at[found]]
        if (~found).any():
            out[~found] = self.detector.score_samples(X[~found])
        return out


@dataclass
class MethodModel:
    """A method's per-band models, with what they were fitted from."""

    method: str
    feature_names: list[str]
    space: SpaceSettings
    bands: dict[int, BandModel]
    meta: dict = field(default_factory=dict)

    @property
    def preprocessors(self) -> dict[int, AnomalyPreprocessor]:
        """The per-band preprocessors (the same for every method of one fit)."""
        return {band: m.preprocessor for band, m in self.bands.items()}


@dataclass
class FitSample:
    """The transformed rows of the fit sample: the training data of refits (PineForest) and seeds."""

    space: SearchSpace
    meta: dict = field(default_factory=dict)

    def band_X(self, band: int) -> np.ndarray:
        """The sample's transformed rows of one band."""
        return self.space.X[self.space.band_rows[band]]


def fit_sample_space(sample_df: pd.DataFrame, settings: SpaceSettings) -> SearchSpace:
    """The fit sample as a search space (preprocessors fitted per band on it)."""
    return build_space(sample_df, settings)


def fit_models(
    space: SearchSpace,
    settings: FitSettings,
    labels: pd.DataFrame,
    *,
    meta: dict | None = None,
    n_jobs: int = 1,
) -> dict[str, MethodModel]:
    """Every method of ``settings.methods`` fitted on the sample ``space`` and refitted to ``labels``.

    Parameters
    ----------
    space
        The fit sample (:func:`fit_sample_space`).
    settings
        ``anomaly`` settings of the fit (methods, seed, detectors).
    labels
        Merged expert labels (:func:`skysift.anomaly.labels.merge_labels`); their sources' rows must be
        in the sample.
    meta
        What the models were fitted from (batches, rows), saved with them.
    n_jobs
        Threads of the forests (the results do not depend on it).
    """
    known = source_labels(space, labels)
    models = {}
    for method in settings.methods:
        search = Search(space, method, settings.detectors, seed=settings.random_state, n_jobs=n_jobs)
        raw = search.row_scores(known)
        bands = {}
        for band in search.detectors:
            rows = space.band_rows[band]
            detector = search.labelled_detector(band, known)
            scores = raw[rows]
            bands[band] = BandModel(
                detector=detector,
                preprocessor=space.preprocessors[band],
                reference=np.sort(scores[np.isfinite(scores)]),
                sample_objectid=space.objectid[rows].copy(),
                sample_scores=scores.copy(),
            )
        models[method] = MethodModel(
            method, list(space.feature_names), settings.space, bands, dict(meta or {})
        )
        logger.info("%s: fitted %s", method, {b: len(space.band_rows[b]) for b in bands})
    return models
