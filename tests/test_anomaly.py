"""Tests of skysift.anomaly: isolation-forest scores, sign convention, ranks, NaN handling."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from coniferest.isoforest import IsolationForest

from skysift.anomaly import AnomalyPreprocessor, rank_scores, search_anomalies, write_scores
from skysift.features.table import features_matrix

N_FEATURES = 8


def make_features(n: int = 2000, n_outliers: int = 10, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Gaussian bulk plus far-away outliers (shifted in a few random features); returns outlier ids."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, size=(n, N_FEATURES))
    X[:, 1] = rng.lognormal(0.0, 0.5, n)  # a skewed feature, like a period or amplitude
    outlier_rows = rng.choice(n, n_outliers, replace=False)
    for row in outlier_rows:
        cols = rng.choice(N_FEATURES, 3, replace=False)
        X[row, cols] += rng.choice([-1, 1], 3) * rng.uniform(8, 12, 3)
    X[rng.random(X.shape) < 0.03] = np.nan  # sparse NaN everywhere, outliers included
    objectid = np.arange(n, dtype=np.int64) * 3 + 1_000_000
    df = pd.DataFrame(
        {
            "objectid": objectid,
            "filterid": rng.choice(np.array([1, 2], dtype=np.int8), n),
            "fieldid": np.int16(700),
            "rcid": np.int8(0),
            "ra": rng.uniform(0, 1, n),
            "dec": rng.uniform(0, 1, n),
            "n_points": np.int64(50),
        }
    )
    for j in range(N_FEATURES):
        df[f"f{j}"] = X[:, j].astype(np.float32)
    return df, objectid[outlier_rows]


@pytest.fixture(scope="module")
def data():
    return make_features()


def test_injected_outliers_rank_in_top_5_percent(data):
    df, outliers = data
    scores = search_anomalies(df, n_trees=200)
    assert list(scores.columns) == ["objectid", "filterid", "anomaly_score", "anomaly_rank"]
    assert scores["anomaly_score"].dtype == np.float64
    assert scores["anomaly_rank"].tolist() == list(range(1, len(df) + 1))  # returned in rank order
    ranks = scores.set_index("objectid").loc[outliers, "anomaly_rank"]
    assert ranks.max() <= 0.05 * len(df), ranks.to_dict()
    # higher = more anomalous: the outliers' scores are above every ordinary object's median
    s = scores.set_index("objectid")["anomaly_score"]
    assert s.loc[outliers].min() > s.drop(outliers).median()
    assert ((s > 0) & (s <= 1)).all()
    # filterid travels with its object
    by_id = df.set_index("objectid")["filterid"]
    assert (scores.set_index("objectid")["filterid"] == by_id.loc[scores["objectid"]]).all()


def test_score_is_minus_coniferest_score_samples(data):
    df, _ = data
    ours = search_anomalies(df, n_trees=50, transform="none", random_state=11).sort_values("objectid")
    X, _ = features_matrix(df)
    Xt = AnomalyPreprocessor("none").fit_transform(X)
    raw = IsolationForest(n_trees=50, n_subsamples=256, random_seed=11, n_jobs=1).fit(Xt).score_samples(Xt)
    order = np.argsort(df["objectid"].to_numpy())
    np.testing.assert_allclose(ours["anomaly_score"].to_numpy(), -raw[order])


def test_deterministic_for_a_seed_and_thread_count(data):
    df, _ = data
    a = search_anomalies(df, n_trees=100, random_state=5)
    b = search_anomalies(df, n_trees=100, random_state=5)
    c = search_anomalies(df, n_trees=100, random_state=5, n_jobs=2)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    d = search_anomalies(df, n_trees=100, random_state=6)
    assert not np.allclose(
        a.sort_values("objectid")["anomaly_score"], d.sort_values("objectid")["anomaly_score"]
    )


def test_transforms_keep_a_huge_outlier_first_and_change_scores():
    df, _ = make_features(n_outliers=0, seed=2)
    huge_id = int(df["objectid"].iloc[123])
    df.loc[123, ["f0", "f1", "f2"]] = [1e6, 5e5, -1e6]
    results = {}
    for transform in ("standardize", "arcsinh", "none"):
        scores = search_anomalies(df, n_trees=100, transform=transform)
        assert int(scores["objectid"].iloc[0]) == huge_id, transform
        results[transform] = scores.sort_values("objectid")["anomaly_score"].to_numpy()
    # arcsinh compresses the tails: the rest of the ranking really changes
    assert not np.allclose(results["arcsinh"], results["none"])
    # isolation forests split uniformly between min and max: an affine rescaling changes nothing
    np.testing.assert_allclose(results["standardize"], results["none"], rtol=1e-6)


def test_arcsinh_transform_is_robust_and_monotone():
    X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 3.0], [1e9, 2.0]])
    pre = AnomalyPreprocessor("arcsinh").fit(X)
    Xt = pre.transform_matrix(X)
    assert np.isfinite(Xt).all()
    assert Xt[1, 1] == pytest.approx(pre.transform_matrix(np.array([[0.0, 2.0]]))[0, 1])  # median-imputed
    assert np.all(np.diff(Xt[:, 0]) > 0)
    assert Xt[3, 0] < 25  # arcsinh(1e9) ~ 21: logarithmic tail


def test_all_nan_rows_are_ranked_last(data, caplog):
    df, _ = data
    df = df.copy()
    feature_cols = [f"f{j}" for j in range(N_FEATURES)]
    empty_rows = [10, 3, 500]
    df.loc[empty_rows, feature_cols] = np.nan
    with caplog.at_level(logging.WARNING, logger="skysift.anomaly"):
        scores = search_anomalies(df, n_trees=50)
    assert any("3 object(s) have no finite feature" in r.getMessage() for r in caplog.records)
    tail = scores.tail(3)
    assert tail["anomaly_score"].isna().all()
    assert scores["anomaly_score"].iloc[:-3].notna().all()
    assert tail["objectid"].tolist() == sorted(df.loc[empty_rows, "objectid"].tolist())
    assert tail["anomaly_rank"].tolist() == [len(df) - 2, len(df) - 1, len(df)]


def test_rank_ties_broken_by_objectid():
    scores = np.array([0.5, 0.7, 0.5, np.nan, 0.7, np.nan])
    objectid = np.array([30, 20, 10, 5, 40, 1])
    ranks = rank_scores(scores, objectid)
    assert ranks.tolist() == [4, 1, 3, 6, 2, 5]


def test_invalid_method_and_transform_name_their_config_keys(data):
    df, _ = data
    with pytest.raises(ValueError, match="anomaly.method"):
        search_anomalies(df, method="aad")
    with pytest.raises(ValueError, match="anomaly.transform"):
        search_anomalies(df, transform="logit")


def test_sklearn_isoforest_method_agrees_on_outliers(data):
    df, outliers = data
    scores = search_anomalies(df, method="sklearn_isoforest", n_trees=100)
    ranks = scores.set_index("objectid").loc[outliers, "anomaly_rank"]
    assert ranks.max() <= 0.05 * len(df)


def test_small_inputs(data):
    df, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "population < n_subsamples" warning from coniferest
        small = search_anomalies(df.head(40), n_trees=20, n_subsamples=256)
    assert small["anomaly_score"].notna().all()
    one = search_anomalies(df.head(1), n_trees=20)
    assert one["anomaly_score"].isna().all() and one["anomaly_rank"].tolist() == [1]


def test_write_scores_round_trip(data, tmp_path):
    df, _ = data
    scores = search_anomalies(df.head(300), n_trees=20)
    path = write_scores(scores, tmp_path / "anomaly" / "scores.parquet")
    back = pq.read_table(path).to_pandas()
    pd.testing.assert_frame_equal(back, scores, check_dtype=True)
