"""Offline anomaly search: per-band detectors, expert labels, an expert-in-the-loop session, evaluation.

Typical use, in memory (a few fields)::

    from skysift.anomaly import SearchSettings, rank_anomalies
    from skysift.config import default_config

    settings = SearchSettings.from_config({**default_config()["anomaly"], "compare": ["aad"]})
    lists = rank_anomalies(["results/features/field000633.parquet"], settings)  # method -> ranked list

A release (the workflow's three rules, :mod:`~skysift.anomaly.release`): fit on a sample
(:func:`run_fit_anomaly_model`), score per batch (:func:`run_score_anomalies`), merge a global top-K
(:func:`run_rank_anomalies`); with a sample and a top-K of every row, the same lists.

Modules: :mod:`~skysift.anomaly.settings` (the typed ``anomaly`` config section),
:mod:`~skysift.anomaly.space` (transformed feature rows, bands, sky sources),
:mod:`~skysift.anomaly.detectors` (isoforest, aad, pineforest, lof, gmm; deterministic refits),
:mod:`~skysift.anomaly.refit` (fast refits over a candidate pool),
:mod:`~skysift.anomaly.engine` (per-band scores, band combination, the question loop),
:mod:`~skysift.anomaly.ranking` (ranked lists), :mod:`~skysift.anomaly.search` (an in-memory search),
:mod:`~skysift.anomaly.sample` (the fit sample), :mod:`~skysift.anomaly.model` (models fitted on it),
:mod:`~skysift.anomaly.store` (saved models: npz + JSON), :mod:`~skysift.anomaly.reference` (band
percentiles against the sample), :mod:`~skysift.anomaly.batch` (one batch scored),
:mod:`~skysift.anomaly.merge` (the global top-K), :mod:`~skysift.anomaly.release` (the three rules),
:mod:`~skysift.anomaly.pool` (the candidate pool), :mod:`~skysift.anomaly.labels` (expert labels
files), :mod:`~skysift.anomaly.free` (catalog knowledge as free answers), :mod:`~skysift.anomaly.experts`
(personalised models: a list per expert, a consensus), :mod:`~skysift.anomaly.session`
(``skysift label``), :mod:`~skysift.anomaly.evaluate` (oracle evaluation), :mod:`~skysift.anomaly.preprocess` (imputation and transforms).
"""

import lazy_loader

# The names of __init__.pyi, imported from their modules when first used: a workflow's rule files import
# only the settings they need, and parsing the workflow does not load scikit-learn, coniferest or astropy.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
