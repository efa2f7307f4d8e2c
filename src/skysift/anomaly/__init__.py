"""Anomaly search over light-curve features: isolation forests, scores (higher = odder), ranks.

Typical use::

    from skysift.anomaly import search_anomalies, write_scores

    scores = search_anomalies(features_df, method="isoforest", n_trees=300, transform="arcsinh")
    write_scores(scores, "results/anomaly/scores.parquet")
"""

from skysift.anomaly.forest import METHODS, anomaly_scores, make_forest
from skysift.anomaly.preprocess import TRANSFORMS, AnomalyPreprocessor
from skysift.anomaly.search import SCORE_COLUMNS, rank_scores, search_anomalies, write_scores

__all__ = [
    "METHODS",
    "TRANSFORMS",
    "SCORE_COLUMNS",
    "AnomalyPreprocessor",
    "make_forest",
    "anomaly_scores",
    "rank_scores",
    "search_anomalies",
    "write_scores",
]
