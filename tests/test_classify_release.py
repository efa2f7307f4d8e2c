"""The classifier and candidate lists in the release shape: training reads only the labelled rows,
prediction is per batch, and lists preselected per batch equal the lists made over the whole release."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from skysift.candidates.run import CandidateInputs, preselect
from skysift.candidates.select import select_ids
from skysift.candidates.settings import ListSpec
from skysift.classify.inputs import read_labelled_features
from skysift.io import write_parquet_df
from test_classify import make_features


def _batches(tmp, n_batches=4, seed=5):
    """Per-batch features, scores, predictions and cross-match files of a synthetic release."""
    df, labels = make_features({"constant": 120, "rrlyrae": 60, "snia": 40}, seed=seed)
    rng = np.random.default_rng(seed)
    df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    n = len(df)
    score = np.round(rng.normal(size=n), 1)  # rounded: many ties, the order must still be exact
    rank = pd.Series(-score).rank(method="first").astype(np.int64).to_numpy()
    classes = np.array(["constant", "rrlyrae", "snia"])
    prob = np.round(rng.uniform(0.3, 1.0, size=n), 2)
    scores = pd.DataFrame({"objectid": df["objectid"], "anomaly_score": score, "anomaly_rank": rank})
    preds = pd.DataFrame(
        {
            "objectid": df["objectid"],
            "predicted_class": classes[rng.integers(0, 3, n)],
            "max_probability": prob,
        }
    )
    matched = df["objectid"].to_numpy()[rng.random(n) < 0.3]
    xmatch = pd.DataFrame(
        {
            "objectid": matched,
            "catalog": "SIMBAD",
            "match_name": [f"src{i}" for i in range(len(matched))],
            "match_type": "star",
            "sep_arcsec": 0.5,
            "label": "constant",
        }
    )
    paths = {"features": [], "scores": [], "predictions": [], "crossmatch": []}
    for b, part in enumerate(np.array_split(np.arange(n), n_batches)):
        ids = df["objectid"].to_numpy()[part]
        for name, table in (
            ("features", df),
            ("scores", scores),
            ("predictions", preds),
            ("crossmatch", xmatch),
        ):
            sub = table[table["objectid"].isin(ids)]
            paths[name].append(write_parquet_df(sub, tmp / f"{name}_{b}.parquet"))
    return paths, df, scores, preds, xmatch, labels


def test_training_reads_only_the_labelled_rows(tmp_path):
    paths, df, *_ = _batches(tmp_path)
    some = df["objectid"].to_numpy()[::7]
    got = read_labelled_features(paths["features"], some)
    assert sorted(got["objectid"]) == sorted(some)
    assert list(got.columns) == list(pq.read_schema(paths["features"][0]).names)


def test_per_batch_preselection_holds_every_list_of_the_whole_release(tmp_path):
    from skysift.crossmatch.best import best_crossmatch

    paths, df, scores, preds, xmatch, _ = _batches(tmp_path)
    specs = {
        "anomalies": ListSpec(
            select="anomalies", classes=None, top_n=15, min_score=None, min_probability=None
        ),
        "snia": ListSpec(select="class", classes=["snia"], top_n=10, min_score=None, min_probability=0.5),
        "unknown": ListSpec(
            select="unknown_transients", classes=None, top_n=7, min_score=0.0, min_probability=None
        ),
        "all_rr": ListSpec(
            select="class", classes=["rrlyrae"], top_n=None, min_score=None, min_probability=None
        ),
    }
    inputs = CandidateInputs(
        features=paths["features"], scores=paths["scores"], predictions=paths["predictions"],
        crossmatch=paths["crossmatch"], manifests=[],
    )  # fmt: skip
    winners, n_scored = preselect(inputs, specs, transient_classes=["snia"])
    assert n_scored == len(df)
    # a running top_n per list: at most the lists' rows, whatever the number of batches
    n_rr = int((preds["predicted_class"] == "rrlyrae").sum())
    assert len(winners) <= 15 + 10 + 7 + n_rr < len(df)
    matched = set(best_crossmatch(xmatch).index)
    for name, spec in specs.items():
        full = select_ids(name, spec, scores, preds, matched, ["snia"])
        keep = scores["objectid"].isin(winners)
        sub = select_ids(name, spec, scores[keep], preds[preds["objectid"].isin(winners)], matched, ["snia"])
        assert len(full) > 0 and np.array_equal(full, sub), name
    # one single scores file (not per batch) gives the same preselection
    single = write_parquet_df(scores, tmp_path / "scores.parquet")
    again, n_again = preselect(
        CandidateInputs(**{**inputs.__dict__, "scores": [single]}), specs, transient_classes=["snia"]
    )
    assert np.array_equal(again, winners) and n_again == n_scored
