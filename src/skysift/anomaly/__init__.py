"""Offline anomaly search: per-band detectors, expert labels, an expert-in-the-loop session, evaluation.

Typical use::

    from skysift.anomaly import run_search

    run_search(["results/features/field000633.parquet"], {"method": "aad", "compare": ["isoforest"]},
               "results/anomaly", label_files=["labels/alice.csv"])

Modules: :mod:`~skysift.anomaly.detectors` (isoforest, aad, pineforest, lof, gmm; deterministic
refits), :mod:`~skysift.anomaly.engine` (per-band scores, band combination, the question loop),
:mod:`~skysift.anomaly.labels` (expert labels files), :mod:`~skysift.anomaly.search` (the ranked
lists), :mod:`~skysift.anomaly.session` (``skysift label``), :mod:`~skysift.anomaly.evaluate`
(oracle evaluation), :mod:`~skysift.anomaly.forest` / :mod:`~skysift.anomaly.preprocess` (building blocks).
"""

from skysift.anomaly.detectors import ACTIVE_METHODS, ALL_METHODS, STATIC_METHODS, BandDetector
from skysift.anomaly.engine import LoopStep, Search, SearchSpace, build_space, run_loop
from skysift.anomaly.evaluate import anomalous_sources, evaluate_methods, plot_curves, summarise_curves
from skysift.anomaly.forest import METHODS, anomaly_scores, make_forest
from skysift.anomaly.labels import LABEL_COLUMNS, LABEL_VALUES, append_label, merge_labels, read_labels
from skysift.anomaly.preprocess import TRANSFORMS, AnomalyPreprocessor
from skysift.anomaly.search import (
    RANKED_COLUMNS,
    SCORE_COLUMNS,
    rank_scores,
    ranked_list,
    run_search,
    search_anomalies,
    source_labels,
    write_scores,
)
from skysift.anomaly.session import label_session, viewer_url

__all__ = [
    "ACTIVE_METHODS",
    "ALL_METHODS",
    "STATIC_METHODS",
    "METHODS",
    "TRANSFORMS",
    "SCORE_COLUMNS",
    "RANKED_COLUMNS",
    "LABEL_COLUMNS",
    "LABEL_VALUES",
    "AnomalyPreprocessor",
    "BandDetector",
    "LoopStep",
    "Search",
    "SearchSpace",
    "build_space",
    "run_loop",
    "make_forest",
    "anomaly_scores",
    "rank_scores",
    "search_anomalies",
    "write_scores",
    "run_search",
    "ranked_list",
    "source_labels",
    "read_labels",
    "merge_labels",
    "append_label",
    "label_session",
    "viewer_url",
    "anomalous_sources",
    "evaluate_methods",
    "summarise_curves",
    "plot_curves",
]
