"""Type stub of :mod:`skysift.anomaly`: what the package exports, and from where (read lazily, see __init__.py)."""

from .batch import BATCH_COLUMNS, score_batch
from .detectors import ACTIVE_METHODS, ALL_METHODS, STATIC_METHODS, BandDetector, Detector
from .engine import LoopStep, Search, run_loop
from .evaluate import (
    anomalous_sources,
    evaluate_methods,
    plot_curves,
    run_evaluation,
    summarise_curves,
)
from .experts import consensus_list, expert_lists, run_rank_expert_anomalies
from .free import free_answers, is_free, with_free_answers
from .labels import (
    LABEL_COLUMNS,
    LABEL_VALUES,
    append_label,
    as_label,
    merge_labels,
    read_labels,
    source_labels,
)
from .merge import merge_top_k
from .model import BandModel, FitSample, MethodModel, fit_models
from .pool import load_pool, pool_search, seed_search
from .preprocess import TRANSFORMS, AnomalyPreprocessor
from .ranking import RANKED_COLUMNS, SCORE_COLUMNS, ranked_list, write_ranked
from .reference import band_percentiles
from .release import run_fit_anomaly_model, run_rank_anomalies, run_score_anomalies
from .sample import read_fit_sample, sample_sizes
from .search import rank_anomalies, search_anomalies
from .session import label_session, run_search, viewer_url
from .sessionfiles import (
    SessionFiles,
    read_session_files,
    run_describe_label_session,
    write_session_files,
)
from .settings import (
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
from .space import SearchSpace, build_space
from .store import ModelError, load_model, load_sample, save_model, save_sample

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
