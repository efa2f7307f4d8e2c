"""The anomaly search of a release: fit on a sample, score per batch, merge a global top-K.

With a sample and a top-K of every row the three rule functions give what one in-memory search gives,
bit for bit (every method, with expert labels); saved models reload and score bit for bit and refuse
what they cannot reproduce; the merge is the global order; the fast refits of a candidate pool equal
coniferest's own refits."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from coniferest.label import Label
from scipy.stats import rankdata

from anomaly_run import anomaly_section, make_run
from skysift.anomaly import (
    BATCH_COLUMNS,
    RANKED_COLUMNS,
    BandDetector,
    Detector,
    FitSettings,
    ModelError,
    SearchSettings,
    band_percentiles,
    build_space,
    fit_models,
    load_model,
    merge_labels,
    merge_top_k,
    rank_anomalies,
    read_fit_sample,
    sample_sizes,
    save_model,
)
from skysift.anomaly.merge import CHUNK_ROWS
from skysift.anomaly.ranking import rank_order
from skysift.anomaly.sample import sample_rows

ALL = ["isoforest", "aad", "pineforest", "lof", "gmm", "sklearn_isoforest"]


def field_sources(field: int, n_sources: int = 250, n_odd: int = 8, seed: int = 0) -> pd.DataFrame:
    """g and r rows of ``n_sources`` sources of one field (same position per source), 6 features, a few
    sources far off in two of them, some NaN."""
    rng = np.random.default_rng(seed + field)
    ra0 = (field % 360) * 0.5
    rows = []
    odd = set(rng.choice(n_sources, n_odd, replace=False).tolist())
    for s in range(n_sources):
        ra, dec = ra0 + rng.uniform(0, 1), rng.uniform(20, 21)
        for band in (1, 2):
            x = rng.normal(0, 1, 6)
            if s in odd:
                x[rng.choice(6, 2, replace=False)] += rng.choice([-1, 1], 2) * rng.uniform(6, 9, 2)
            x[rng.random(6) < 0.03] = np.nan
            rows.append({"objectid": field * 10**12 + band * 10**11 + s, "filterid": np.int8(band),
                         "fieldid": np.int16(field), "ra": ra, "dec": dec, "n_points": 40,
                         **{f"f{j}": np.float32(x[j]) for j in range(6)}})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def batches():
    return {f"field{f:06d}": field_sources(f) for f in (633, 634, 1721)}


@pytest.fixture(scope="module")
def labels_file(tmp_path_factory, batches):
    path = tmp_path_factory.mktemp("labels") / "alice.csv"
    ids = [int(df["objectid"].iloc[i]) for df in batches.values() for i in (0, 7, 40)]
    lines = [
        f"{oid},{'anomaly' if i % 2 else 'regular'},alice,2026-01-0{1 + i}T00:00:00Z,"
        for i, oid in enumerate(ids)
    ]
    path.write_text("objectid,label,expert,time,note\n" + "\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------- the full sample is the in-memory search


def test_release_path_equals_the_in_memory_search_with_a_full_sample(tmp_path, batches, labels_file):
    section = anomaly_section(method="isoforest", compare=ALL[1:], n_trees=30, top_n=5)
    top = make_run(tmp_path, batches, section, label_files=[labels_file])
    features = sorted((tmp_path / "features").glob("*.parquet"))
    expected = rank_anomalies(
        features, SearchSettings.from_config(section), labels=merge_labels([labels_file])
    )
    assert list(top) == ALL
    for method in ALL:
        pd.testing.assert_frame_equal(top[method], expected[method], check_exact=True, obj=method)
        back = pd.read_parquet(tmp_path / f"anomaly/ranked/{method}.parquet")
        pd.testing.assert_frame_equal(back, expected[method], check_exact=True, obj=method)
        csv = pd.read_csv(tmp_path / f"anomaly/ranked/{method}.csv")
        assert csv["objectid"].tolist() == expected[method]["objectid"].head(5).tolist()
    # labels were fitted: a regular source is ranked after every other scored row
    aad = top["aad"]
    regular = aad["source_id"].isin(aad.loc[aad["label"] == "regular", "source_id"])
    scored = aad["anomaly_score"].notna()
    assert (
        regular.sum() >= 2
        and aad.loc[~regular & scored, "anomaly_rank"].max() < aad.loc[regular & scored, "anomaly_rank"].min()
    )
    # every batch table: every row of the batch, in rank order, with a batch rank
    for name, df in batches.items():
        per_batch = pd.read_parquet(tmp_path / "anomaly/scores/aad" / f"{name}.parquet")
        assert list(per_batch.columns) == list(BATCH_COLUMNS)
        assert per_batch["batch_rank"].tolist() == list(range(1, len(df) + 1))
        assert set(per_batch["objectid"]) == set(df["objectid"])
        assert not per_batch["source_excess"].any()  # nothing lies beyond a sample of every row
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "anomaly/scores.parquet"), expected["isoforest"])


def test_a_top_k_shorter_than_the_release_is_its_head(tmp_path, batches):
    section = anomaly_section(compare=[], n_trees=30, top_k=37)
    top = make_run(tmp_path, batches, section)["isoforest"]
    expected = rank_anomalies(
        sorted((tmp_path / "features").glob("*.parquet")), SearchSettings.from_config(section)
    )
    pd.testing.assert_frame_equal(top, expected["isoforest"].head(37), check_exact=True)
    assert list(top.columns) == list(RANKED_COLUMNS)


# ---------------------------------------------------------------- a sample


def test_sample_sizes_are_proportional_and_every_row_when_small():
    assert sample_sizes([1000, 3000, 6000], 1000) == [100, 300, 600]
    assert sum(sample_sizes([7, 11, 13, 1], 10)) == 10
    assert sample_sizes([7, 11, 13, 1], 10) == [2, 4, 4, 0]  # largest remainders (3.4/4.2 -> 4, then 2.2)
    assert sample_sizes([5, 6], 11) == [5, 6]
    rows = sample_rows("field000633", 1000, 50, seed=3)
    assert len(np.unique(rows)) == 50 and (np.diff(rows) > 0).all()
    np.testing.assert_array_equal(rows, sample_rows("field000633", 1000, 50, seed=3))
    assert not np.array_equal(rows, sample_rows("field000634", 1000, 50, seed=3))
    assert not np.array_equal(rows, sample_rows("field000633", 1000, 50, seed=4))


def test_fit_sample_is_stratified_and_holds_the_labelled_sources(tmp_path, batches):
    paths = []
    for name, df in batches.items():
        paths.append(tmp_path / f"{name}.parquet")
        df.to_parquet(paths[-1])
    settings = FitSettings.from_config(anomaly_section()).space
    labelled = int(batches["field000634"]["objectid"].iloc[11])  # g row of source 5 of field 634
    sample, meta = read_fit_sample(paths, settings, fit_sample=300, seed=0, labelled=np.array([labelled]))
    assert [b["sampled"] for b in meta["batches"]] == [100, 100, 100] and not meta["every_row"]
    # the labelled object's source (its g and r rows) joined the sample
    assert {labelled, labelled + 10**11} <= set(sample["objectid"]) or {labelled, labelled - 10**11} <= set(
        sample["objectid"]
    )
    assert 300 <= len(sample) <= 302 and sample["objectid"].is_unique
    # per batch, the rows kept their file order
    for df in batches.values():
        part = sample.loc[sample["fieldid"] == df["fieldid"].iloc[0], "objectid"]
        assert part.tolist() == [o for o in df["objectid"] if o in set(part)]
    again, _ = read_fit_sample(paths, settings, fit_sample=300, seed=0, labelled=np.array([labelled]))
    pd.testing.assert_frame_equal(sample, again)


def test_a_sampled_fit_still_ranks_the_outliers_first(tmp_path, batches):
    section = anomaly_section(compare=["aad"], n_trees=60, fit_sample=400, top_k=60)
    top = make_run(tmp_path, batches, section)
    meta = json.loads((tmp_path / "anomaly/model/isoforest.json").read_text())["fit"]
    assert meta["sample_rows"] == 400 and meta["release_rows"] == 1500
    # the shifted sources (2 x 8 per field) fill the head of the global ranking
    odd = set()
    for df in batches.values():
        f = df[[f"f{j}" for j in range(6)]].abs().max(axis=1)
        odd |= set(df.loc[f > 5, "objectid"])
    for method in ("isoforest", "aad"):
        head = top[method].head(30)
        assert head["objectid"].isin(odd).mean() > 0.7, method
        assert ((head["band_percentile"] >= 0) & (head["band_percentile"] <= 1)).all()


# ---------------------------------------------------------------- percentiles against the sample


def test_percentiles_of_the_sample_are_its_rank_percentiles():
    scores = np.round(np.random.default_rng(1).normal(size=500), 2)  # many ties
    pct, excess = band_percentiles(np.sort(scores), scores)
    np.testing.assert_array_equal(pct, rankdata(scores, method="max") / len(scores))
    assert not excess.any()


def test_percentiles_between_and_beyond_the_sample():
    reference = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    pct, excess = band_percentiles(reference, np.array([-1.0, 0.0, 0.5, 2.0, 3.75, 4.0, 6.0, np.nan]))
    np.testing.assert_allclose(pct[:7], [0.0, 0.2, 0.3, 0.6, 0.95, 1.0, 1.0])
    np.testing.assert_allclose(excess[:7], [0, 0, 0, 0, 0, 0, 1.0])  # (6 - 4) / (4 - median 2)
    assert np.isnan(pct[7]) and np.isnan(excess[7])
    grid = np.linspace(-2, 8, 401)
    p, e = band_percentiles(np.sort(np.random.default_rng(0).normal(size=50)), grid)
    assert (np.diff(p) >= 0).all() and (np.diff(e) >= 0).all()


# ---------------------------------------------------------------- saved models


@pytest.fixture(scope="module")
def fitted(batches, labels_file):
    section = anomaly_section(method="isoforest", compare=ALL[1:], n_trees=25)
    frame = pd.concat(batches.values(), ignore_index=True)
    space = build_space(frame, FitSettings.from_config(section).space)
    return space, fit_models(space, FitSettings.from_config(section), merge_labels([labels_file]))


@pytest.mark.parametrize("method", ALL)
def test_saved_models_reload_and_score_bit_for_bit(tmp_path, fitted, method):
    space, models = fitted
    save_model(models[method], tmp_path / "m.npz", tmp_path / "m.json")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as arrays:  # plain arrays, no pickled objects
        assert all(arrays[k].dtype != object for k in arrays.files)
    back = load_model(tmp_path / "m.npz", tmp_path / "m.json")
    new = np.random.default_rng(5).normal(size=(40, space.X.shape[1]))  # rows the model never saw
    for band, m in models[method].bands.items():
        b = back.bands[band]
        np.testing.assert_array_equal(b.detector.score_samples(new), m.detector.score_samples(new))
        np.testing.assert_array_equal(b.detector.signature(new), m.detector.signature(new))
        np.testing.assert_array_equal(b.reference, m.reference)
        np.testing.assert_array_equal(
            b.preprocessor.transform_matrix(new), m.preprocessor.transform_matrix(new)
        )


def test_a_model_saved_before_a_detector_key_existed_loads_with_its_default(tmp_path, fitted):
    """A run fitted by an older skysift (no anomaly.aad_budget in the saved settings) still loads, so
    `skysift label` and the oracle keep working on it after an upgrade."""
    _, models = fitted
    save_model(models["aad"], tmp_path / "m.npz", tmp_path / "m.json")
    meta = json.loads((tmp_path / "m.json").read_text())
    for band in meta["bands"].values():
        del band["settings"]["aad_budget"]
    (tmp_path / "m.json").write_text(json.dumps(meta))
    back = load_model(tmp_path / "m.npz", tmp_path / "m.json")
    assert {b.detector.settings.aad_budget for b in back.bands.values()} == {"auto"}


def test_a_model_that_does_not_reproduce_its_probes_is_refused(tmp_path, fitted):
    _, models = fitted
    save_model(models["aad"], tmp_path / "m.npz", tmp_path / "m.json")
    with np.load(tmp_path / "m.npz") as arrays:
        data = {k: arrays[k] for k in arrays.files}
    data["b1/weights"] = data["b1/weights"][::-1].copy()  # another model's weights
    np.savez(tmp_path / "m.npz", **data)
    with pytest.raises(ModelError, match=r"does not reproduce its scores.*--forcerun fit_anomaly_model"):
        load_model(tmp_path / "m.npz", tmp_path / "m.json")
    with pytest.raises(ModelError, match="no saved anomaly model"):
        load_model(tmp_path / "none.npz", tmp_path / "m.json")


def test_a_model_with_untrusted_types_is_refused(tmp_path, fitted):
    import skops.io
    from sklearn.preprocessing import FunctionTransformer

    _, models = fitted
    save_model(models["sklearn_isoforest"], tmp_path / "m.npz", tmp_path / "m.json")
    with np.load(tmp_path / "m.npz") as arrays:
        data = {k: arrays[k] for k in arrays.files}
    data["b1/skops"] = np.frombuffer(skops.io.dumps(FunctionTransformer(os.system)), dtype=np.uint8)
    np.savez(tmp_path / "m.npz", **data)
    with pytest.raises(ModelError, match="does not trust"):
        load_model(tmp_path / "m.npz", tmp_path / "m.json")


# ---------------------------------------------------------------- fast refits of a pool


@pytest.mark.parametrize("method", ["aad", "pineforest"])
def test_pool_refits_equal_coniferest_refits(fitted, method):
    space, _ = fitted
    X = space.X[space.band_rows[1]]
    settings = FitSettings.from_config(anomaly_section(n_trees=25)).detectors
    band = BandDetector.fit(method, X, settings, seed=3)
    pool = np.arange(20, 220)
    known_rows = np.array([3, 50, 90, 200])
    labels = np.array([Label.ANOMALY, Label.REGULAR, Label.UNKNOWN, Label.ANOMALY])
    expected = Detector.fit(method, X, settings, seed=3).with_labels(
        X[known_rows[[0, 1, 3]]], labels[[0, 1, 3]]
    )
    for _ in range(3):  # first call: coniferest; second: builds the cache; third: from the cache
        np.testing.assert_array_equal(band.scores(pool, known_rows, labels), expected.score_samples(X[pool]))
    unlabelled = Detector.fit(method, X, settings, seed=3).with_labels(X[:0], labels[:0])
    np.testing.assert_array_equal(band.scores(pool), unlabelled.score_samples(X[pool]))


# ---------------------------------------------------------------- the merge


def batch_table(rng: np.random.Generator, start: int, n: int) -> pd.DataFrame:
    """A per-batch scores table with coarse (tied) scores, some regulars, NaN rows and tail excess."""
    score = np.round(rng.uniform(0, 1, n), 1)
    score[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame({c: "" for c in BATCH_COLUMNS}, index=range(n))
    df = df.assign(objectid=np.arange(start, start + n, dtype=np.int64), filterid=np.int8(1), anomaly_score=score,
                   source_id=np.arange(start, start + n), method="isoforest", method_score=score,
                   band_percentile=np.round(score * rng.uniform(0.8, 1, n), 2), label_conflict=False,
                   source_excess=np.where(score == 1.0, np.round(rng.uniform(0, 1, n), 1), 0.0),
                   source_regular=rng.random(n) < 0.05)  # fmt: skip
    order = rank_order(df["objectid"].to_numpy(), df["band_percentile"].to_numpy(), df["anomaly_score"].to_numpy(),
                       df["source_regular"].to_numpy(), df["source_excess"].to_numpy())  # fmt: skip
    df = df.iloc[order].reset_index(drop=True)
    df["batch_rank"] = np.arange(1, n + 1)
    return df.loc[:, list(BATCH_COLUMNS)]


def test_merge_is_the_global_order(tmp_path):
    rng = np.random.default_rng(0)
    tables = [batch_table(rng, 10_000 * i, n) for i, n in enumerate([300, 1, 5000, 2600, 0, 40])]
    paths = []
    for i, t in enumerate(tables):
        paths.append(tmp_path / f"b{i}.parquet")
        t.to_parquet(paths[-1])
    every = pd.concat(tables, ignore_index=True)
    order = rank_order(every["objectid"].to_numpy(), every["band_percentile"].to_numpy(), every["anomaly_score"].to_numpy(),
                       every["source_regular"].to_numpy(), every["source_excess"].to_numpy())  # fmt: skip
    for k in (1, 100, CHUNK_ROWS + 5, len(every), len(every) + 10):
        top = merge_top_k(paths, k)
        assert top["objectid"].tolist() == every["objectid"].to_numpy()[order[:k]].tolist(), k
        assert top["anomaly_rank"].tolist() == list(range(1, min(k, len(every)) + 1))
    assert list(top.columns) == list(RANKED_COLUMNS)
