"""Offline anomaly search: per-band detectors, expert labels, an expert-in-the-loop session, evaluation.

Typical use::

    from skysift.anomaly import SearchSettings, rank_anomalies
    from skysift.config import default_config

    settings = SearchSettings.from_config({**default_config()["anomaly"], "compare": ["aad"]})
    lists = rank_anomalies(["results/features/field000633.parquet"], settings)  # method -> ranked list

Modules: :mod:`~skysift.anomaly.settings` (the typed ``anomaly`` config section),
:mod:`~skysift.anomaly.space` (transformed feature rows, bands, sky sources),
:mod:`~skysift.anomaly.detectors` (isoforest, aad, pineforest, lof, gmm; deterministic refits),
:mod:`~skysift.anomaly.engine` (per-band scores, band combination, the question loop),
:mod:`~skysift.anomaly.ranking` (ranked lists), :mod:`~skysift.anomaly.search` (the
``search_anomalies`` rule), :mod:`~skysift.anomaly.labels` (expert labels files),
:mod:`~skysift.anomaly.session` (``skysift label``), :mod:`~skysift.anomaly.evaluate` (oracle
evaluation), :mod:`~skysift.anomaly.preprocess` (imputation and transforms).
"""

from skysift.anomaly.detectors import ACTIVE_METHODS, ALL_METHODS, STATIC_METHODS, BandDetector
from skysift.anomaly.engine import LoopStep, Search, run_loop
from skysift.anomaly.evaluate import (
    anomalous_sources,
    evaluate_methods,
    plot_curves,
    run_evaluation,
    summarise_curves,
)
from skysift.anomaly.labels import (
    LABEL_COLUMNS,
    LABEL_VALUES,
    append_label,
    as_label,
    merge_labels,
    read_labels,
    source_labels,
)
from skysift.anomaly.preprocess import TRANSFORMS, AnomalyPreprocessor
from skysift.anomaly.ranking import RANKED_COLUMNS, SCORE_COLUMNS, ranked_list, write_ranked
from skysift.anomaly.search import rank_anomalies, search_anomalies
from skysift.anomaly.session import label_session, viewer_url
from skysift.anomaly.settings import (
    AnomalySettings,
    DetectorSettings,
    EvaluationSettings,
    OracleSettings,
    SearchSettings,
    SpaceSettings,
    config_keys,
    settings_section,
)
from skysift.anomaly.space import SearchSpace, build_space

__all__ = [
    "ACTIVE_METHODS",
    "ALL_METHODS",
    "STATIC_METHODS",
    "TRANSFORMS",
    "SCORE_COLUMNS",
    "RANKED_COLUMNS",
    "LABEL_COLUMNS",
    "LABEL_VALUES",
    "AnomalySettings",
    "SearchSettings",
    "SpaceSettings",
    "DetectorSettings",
    "OracleSettings",
    "EvaluationSettings",
    "config_keys",
    "settings_section",
    "AnomalyPreprocessor",
    "BandDetector",
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
