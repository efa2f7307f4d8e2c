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

from skysift.anomaly.batch import BATCH_COLUMNS, score_batch
from skysift.anomaly.detectors import ACTIVE_METHODS, ALL_METHODS, STATIC_METHODS, BandDetector, Detector
from skysift.anomaly.engine import LoopStep, Search, run_loop
from skysift.anomaly.evaluate import (
    anomalous_sources,
    evaluate_methods,
    plot_curves,
    run_evaluation,
    summarise_curves,
)
from skysift.anomaly.experts import consensus_list, expert_lists, run_rank_expert_anomalies
from skysift.anomaly.free import free_answers, is_free, with_free_answers
from skysift.anomaly.labels import (
    LABEL_COLUMNS,
    LABEL_VALUES,
    append_label,
    as_label,
    merge_labels,
    read_labels,
    source_labels,
)
from skysift.anomaly.merge import merge_top_k
from skysift.anomaly.model import BandModel, FitSample, MethodModel, fit_models
from skysift.anomaly.pool import load_pool, pool_search, seed_search
from skysift.anomaly.preprocess import TRANSFORMS, AnomalyPreprocessor
from skysift.anomaly.ranking import RANKED_COLUMNS, SCORE_COLUMNS, ranked_list, write_ranked
from skysift.anomaly.reference import band_percentiles
from skysift.anomaly.release import run_fit_anomaly_model, run_rank_anomalies, run_score_anomalies
from skysift.anomaly.sample import read_fit_sample, sample_sizes
from skysift.anomaly.search import rank_anomalies, search_anomalies
from skysift.anomaly.session import label_session, run_search, viewer_url
from skysift.anomaly.sessionfiles import (
    SessionFiles,
    read_session_files,
    run_describe_label_session,
    write_session_files,
)
from skysift.anomaly.settings import (
    AnomalySettings,
    DetectorSettings,
    EvaluationSettings,
    FitSettings,
    FreeAnswerSettings,
    OracleSettings,
    RankSettings,
    SearchSettings,
    SpaceSettings,
    config_keys,
    settings_section,
)
from skysift.anomaly.space import SearchSpace, build_space
from skysift.anomaly.store import ModelError, load_model, load_sample, save_model, save_sample

__all__ = [
    "ACTIVE_METHODS",
    "ALL_METHODS",
    "STATIC_METHODS",
    "TRANSFORMS",
    "SCORE_COLUMNS",
    "RANKED_COLUMNS",
    "LABEL_COLUMNS",
    "LABEL_VALUES",
    "BATCH_COLUMNS",
    "AnomalySettings",
    "FitSettings",
    "RankSettings",
    "SearchSettings",
    "SpaceSettings",
    "DetectorSettings",
    "OracleSettings",
    "EvaluationSettings",
    "FreeAnswerSettings",
    "free_answers",
    "with_free_answers",
    "is_free",
    "expert_lists",
    "consensus_list",
    "run_rank_expert_anomalies",
    "config_keys",
    "settings_section",
    "AnomalyPreprocessor",
    "Detector",
    "BandDetector",
    "BandModel",
    "MethodModel",
    "FitSample",
    "ModelError",
    "fit_models",
    "read_fit_sample",
    "sample_sizes",
    "band_percentiles",
    "score_batch",
    "merge_top_k",
    "save_model",
    "load_model",
    "save_sample",
    "load_sample",
    "load_pool",
    "pool_search",
    "seed_search",
    "run_fit_anomaly_model",
    "run_score_anomalies",
    "run_rank_anomalies",
    "run_search",
    "SessionFiles",
    "read_session_files",
    "write_session_files",
    "run_describe_label_session",
    "LoopStep",
    "Search",
    "SearchSpace",
    "build_space",
    "run_loop",
    "rank_anomalies",
    "search_anomalies",
    "ranked_list",
    "write_ranked",
    "as_label",
    "source_labels",
    "read_labels",
    "merge_labels",
    "append_label",
    "label_session",
    "viewer_url",
    "anomalous_sources",
    "evaluate_methods",
    "run_evaluation",
    "summarise_curves",
    "plot_curves",
]
