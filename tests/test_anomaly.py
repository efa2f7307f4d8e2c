"""Tests of the anomaly search path (settings -> space -> engine.Search -> ranked lists -> files):
sign convention, NaN rows last, ties, determinism, transforms, typed settings."""

from __future__ import annotations

import dataclasses
import logging
import warnings

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from coniferest.isoforest import IsolationForest
from coniferest.label import Label

from skysift.anomaly import (
    RANKED_COLUMNS,
    SCORE_COLUMNS,
    AnomalyPreprocessor,
    AnomalySettings,
    FitSettings,
    OracleSettings,
    RankSettings,
    Search,
    SearchSettings,
    as_label,
    build_space,
    rank_anomalies,
    search_anomalies,
    settings_section,
)
from skysift.config import ConfigError, default_config

N_FEATURES = 8


def settings(**overrides) -> SearchSettings:
    """Search settings: the schema's defaults with ``overrides`` (one method unless ``compare`` is given)."""
    return SearchSettings.from_config({**default_config()["anomaly"], "compare": [], **overrides})


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
            "ra": rng.uniform(0, 10, n),
            "dec": rng.uniform(0, 10, n),
            "n_points": np.int64(50),
        }
    )
    for j in range(N_FEATURES):
        df[f"f{j}"] = X[:, j].astype(np.float32)
    return df, objectid[outlier_rows]


@pytest.fixture(scope="module")
def data():
    return make_features()


def ranked(df: pd.DataFrame, **overrides) -> pd.DataFrame:
    """The primary method's ranked list of ``df``."""
    s = settings(**overrides)
    return rank_anomalies(df, s)[s.method]


# ---------------------------------------------------------------- sign convention


def test_injected_outliers_rank_in_top_5_percent(data):
    df, outliers = data
    scores = ranked(df, n_trees=200)
    assert tuple(scores.columns) == RANKED_COLUMNS and tuple(scores.columns[:4]) == SCORE_COLUMNS
    assert scores["anomaly_score"].dtype == np.float64
    assert scores["anomaly_rank"].tolist() == list(range(1, len(df) + 1))  # returned in rank order
    ranks = scores.set_index("objectid").loc[outliers, "anomaly_rank"]
    assert ranks.max() <= 0.05 * len(df), ranks.to_dict()
    # higher = more anomalous, for the source score and for the raw forest score
    by_id = scores.set_index("objectid")
    for column in ("anomaly_score", "method_score"):
        s = by_id[column]
        assert s.loc[outliers].min() > s.drop(outliers).median(), column
        assert ((s > 0) & (s <= 1)).all(), column
    # filterid travels with its object
    bands = df.set_index("objectid")["filterid"]
    assert (by_id["filterid"] == bands.loc[by_id.index]).all()


def test_method_score_is_minus_coniferest_score_samples_per_band(data):
    df, _ = data
    space = build_space(df, settings(transform="none").space)
    search = Search(space, "isoforest", settings(n_trees=50).detectors, seed=11)
    raw = search.row_scores()
    assert set(search.detectors) == {1, 2}
    for rows in space.band_rows.values():
        X = space.X[rows]
        forest = IsolationForest(n_trees=50, n_subsamples=256, random_seed=11, n_jobs=1).fit(X)
        np.testing.assert_allclose(raw[rows], -forest.score_samples(X))


# ---------------------------------------------------------------- determinism and ties


def test_deterministic_for_a_seed_and_thread_count(data):
    df, _ = data
    s = settings(n_trees=100, random_state=5, compare=["aad", "pineforest"])
    a = rank_anomalies(df, s)
    b = rank_anomalies(df, s)
    c = rank_anomalies(df, s, n_jobs=2)
    for method in s.methods:
        pd.testing.assert_frame_equal(a[method], b[method], check_exact=True)
        pd.testing.assert_frame_equal(a[method], c[method], check_exact=True)
    d = ranked(df, n_trees=100, random_state=6)
    assert not np.allclose(
        a["isoforest"].sort_values("objectid")["method_score"], d.sort_values("objectid")["method_score"]
    )


def test_ties_broken_by_objectid(data):
    df, _ = data
    df = df.head(600).copy()
    # five copies of one far outlier in band 2 (different positions, so different sources): equal scores
    twins = [40, 7, 300, 12, 511]
    df.loc[twins, [f"f{j}" for j in range(N_FEATURES)]] = [30.0, 1.0, -30.0, 0, 0, 0, 0, 0]
    df.loc[twins, "filterid"] = np.int8(2)
    scores = ranked(df, n_trees=100)
    twin_rows = scores.loc[scores["objectid"].isin(df.loc[twins, "objectid"])]
    assert twin_rows["method_score"].nunique() == 1 and twin_rows["anomaly_score"].eq(1.0).all()
    # band 1's most anomalous object ties with them (source score 1, band percentile 1): objectid decides
    best = scores.head(len(twins) + 1)
    assert best["anomaly_score"].eq(1.0).all() and best["band_percentile"].eq(1.0).all()
    assert set(best["filterid"]) == {1, 2} and set(twin_rows.index) < set(best.index)
    assert best["objectid"].is_monotonic_increasing
    assert scores["anomaly_score"].iloc[len(twins) + 1] < 1.0


def test_source_order_ties_fall_back_to_the_smaller_source_id():
    rows = []
    for i, oid in enumerate([50, 10, 30, 20]):  # four identical objects in one band
        rows.append({"objectid": oid, "filterid": 1, "ra": i, "dec": 0.0, "f0": 1.0, "f1": 2.0})
    rows += [
        {"objectid": 100 + i, "filterid": 1, "ra": 10.0 + i, "dec": 0.0, "f0": 0.1 * i, "f1": -0.1 * i}
        for i in range(20)
    ]
    space = build_space(pd.DataFrame(rows), settings().space)
    search = Search(space, "isoforest", settings(n_trees=50).detectors, seed=0)
    scores = search.row_scores()
    equal = np.isin(space.objectid, [10, 20, 30, 50])
    assert np.unique(scores[equal]).size == 1
    order = search.source_order(scores).tolist()
    positions = [order.index(s) for s in (10, 20, 30, 50)]
    assert positions == sorted(positions) and positions == list(range(positions[0], positions[0] + 4))


# ---------------------------------------------------------------- NaN rows, transforms, small inputs


def test_all_nan_rows_are_ranked_last(data, caplog):
    df, _ = data
    df = df.copy()
    empty_rows = [10, 3, 500]
    df.loc[empty_rows, [f"f{j}" for j in range(N_FEATURES)]] = np.nan
    with caplog.at_level(logging.WARNING, logger="skysift.anomaly"):
        scores = ranked(df, n_trees=50)
    assert any("3 object(s) have no finite feature" in r.getMessage() for r in caplog.records)
    tail = scores.tail(3)
    assert tail["anomaly_score"].isna().all() and tail["method_score"].isna().all()
    assert scores["anomaly_score"].iloc[:-3].notna().all()
    assert tail["objectid"].tolist() == sorted(df.loc[empty_rows, "objectid"].tolist())
    assert tail["anomaly_rank"].tolist() == [len(df) - 2, len(df) - 1, len(df)]
    assert tail["drivers"].eq("").all()


def test_transforms_keep_a_huge_outlier_first_and_change_scores():
    df, _ = make_features(n_outliers=0, seed=2)
    huge_id = int(df["objectid"].iloc[123])
    df.loc[123, ["f0", "f1", "f2"]] = [1e6, 5e5, -1e6]
    results = {}
    for transform in ("standardize", "arcsinh", "none"):
        scores = ranked(df, n_trees=100, transform=transform, per_band=False)
        assert int(scores["objectid"].iloc[0]) == huge_id, transform
        results[transform] = scores.sort_values("objectid")["method_score"].to_numpy()
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


def test_small_inputs(data):
    df, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "population < n_subsamples" warning from coniferest
        small = ranked(df.head(40), n_trees=20, n_subsamples=256, per_band=False)
    assert small["anomaly_score"].notna().all()
    one = ranked(df.head(1), n_trees=20)
    assert one["anomaly_score"].isna().all() and one["anomaly_rank"].tolist() == [1]


def test_sklearn_isoforest_agrees_on_outliers(data):
    df, outliers = data
    scores = ranked(df, method="sklearn_isoforest", n_trees=100)
    ranks = scores.set_index("objectid").loc[outliers, "anomaly_rank"]
    assert ranks.max() <= 0.05 * len(df)


def test_invalid_method_and_transform_name_their_config_keys(data):
    df, _ = data
    space = build_space(df.head(100), settings().space)
    with pytest.raises(ValueError, match="anomaly.method"):
        Search(space, "isolation", settings().detectors, seed=0)
    with pytest.raises(ValueError, match="anomaly.transform"):
        build_space(df.head(100), settings(transform="logit").space)
    with pytest.raises(ValueError, match="anomaly.feature_transforms"):
        build_space(df.head(100), settings(feature_transforms={"period": "log"}).space)


# ---------------------------------------------------------------- the workflow entry and its files


def test_search_anomalies_writes_every_list_and_the_scores(data, tmp_path):
    df, _ = data
    s = settings(n_trees=30, compare=["isoforest", "lof"], top_n=7)
    features = tmp_path / "field000700.parquet"
    df.head(400).to_parquet(features)
    ranked_files = [tmp_path / "ranked" / f"{m}.parquet" for m in s.methods]
    top_files = [tmp_path / "ranked" / f"{m}.csv" for m in s.methods]
    results = search_anomalies(
        [features], s, scores=tmp_path / "scores.parquet", ranked=ranked_files, top=top_files
    )
    assert list(results) == ["isoforest", "lof"]
    back = pq.read_table(tmp_path / "scores.parquet").to_pandas()
    pd.testing.assert_frame_equal(back, results["isoforest"], check_exact=True)
    for method, parquet, csv in zip(s.methods, ranked_files, top_files, strict=True):
        pd.testing.assert_frame_equal(pd.read_parquet(parquet), results[method], check_exact=True)
        top = pd.read_csv(csv)
        assert top["objectid"].tolist() == results[method]["objectid"].head(7).tolist()
    with pytest.raises(ValueError, match=r"1 ranked and 2 top output\(s\) for the 2 method\(s\)"):
        search_anomalies([features], s, scores=tmp_path / "s.parquet", ranked=ranked_files[:1], top=top_files)


# ---------------------------------------------------------------- typed settings and labels


def test_settings_come_from_the_schema_and_name_missing_keys():
    section = default_config()["anomaly"]
    full = AnomalySettings.from_config(section)
    assert full.search == SearchSettings.from_config(section)
    assert full.oracle == OracleSettings.from_config(section)
    assert full.search.detectors.n_trees == section["n_trees"] and full.pool_size == section["pool_size"]
    assert full.search.methods[0] == section["method"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        full.search.method = "aad"  # type: ignore[misc]
    missing = {k: v for k, v in section.items() if k != "n_subsamples"}
    with pytest.raises(ConfigError, match=r"anomaly\.n_subsamples"):
        SearchSettings.from_config(missing)
    with pytest.raises(ConfigError, match=r"anomaly\.evaluation\.seeds"):
        AnomalySettings.from_config({**section, "evaluation": {"methods": ["aad"], "budgets": [5]}})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) anomaly\.trees"):
        AnomalySettings.from_config({**section, "trees": 3})


def test_rule_params_hold_only_the_keys_their_outputs_depend_on():
    section = default_config()["anomaly"]
    fit = settings_section(FitSettings, section)
    rank = settings_section(RankSettings, section)
    oracle = settings_section(OracleSettings, section)
    assert not {"pool_size", "evaluation", "anomaly_classes", "labels", "top_k", "top_n"} & set(fit)
    assert set(rank) == {"method", "compare", "top_k", "top_n", "free_answers"}  # exclude_known
    assert not {"method", "compare", "top_n", "top_k", "random_state", "fit_sample", "labels"} & set(oracle)
    # every key of the section is read by someone, and the subsets rebuild the same settings
    # labels are rule inputs; personal is read by `skysift label` (rank_expert_anomalies takes the section)
    assert set(fit) | set(rank) | set(oracle) | {"labels", "personal"} == set(section)
    assert FitSettings.from_config(fit) == FitSettings.from_config(section)
    assert RankSettings.from_config(rank) == RankSettings.from_config(section)
    assert OracleSettings.from_config(oracle) == OracleSettings.from_config(section)
    assert FitSettings.from_config(section).methods == SearchSettings.from_config(section).methods


def test_labels_file_values_are_coniferest_labels():
    assert [as_label(v) for v in ("anomaly", "regular", "unknown")] == [
        Label.ANOMALY,
        Label.REGULAR,
        Label.UNKNOWN,
    ]
    with pytest.raises(ValueError, match="'odd' is not one of"):
        as_label("odd")
