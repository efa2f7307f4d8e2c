"""Tests of the early_snia and kilonova candidate lists, fed by the per-source classifiers' predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table

from candidates_data import spec
from skysift.anomaly import SearchSettings, rank_anomalies
from skysift.candidates import select_candidates, write_candidates
from skysift.candidates.run import CandidateInputs, preselect_sources
from skysift.candidates.select import source_selection
from skysift.config import default_config
from skysift.io import InputError

N = 60


@pytest.fixture(scope="module")
def tables():
    """Features, anomaly scores and class predictions of N objects, and per-source predictions."""
    rng = np.random.default_rng(8)
    objectid = 633_200_000_000_000 + np.arange(N, dtype=np.int64) * 3
    features = pd.DataFrame(
        {
            "objectid": objectid,
            "filterid": np.int8(2),
            "fieldid": np.int16(633),
            "rcid": np.int8(3),
            "ra": rng.uniform(10, 11, N),
            "dec": rng.uniform(40, 41, N),
            "n_points": rng.integers(20, 400, N),
            "amplitude": rng.normal(0, 1, N).astype(np.float32),
            "skew": rng.normal(0, 1, N).astype(np.float32),
        }
    )
    search = SearchSettings.from_config({**default_config()["anomaly"], "n_trees": 30, "compare": []})
    scores = rank_anomalies(features, search)[search.method]
    predictions = pd.DataFrame(
        {
            "objectid": objectid,
            "predicted_class": pd.array(rng.choice(["constant", "snia"], N), dtype="string"),
            "max_probability": rng.uniform(0.5, 1.0, N),
        }
    )
    # kilonova: three sources; one (a short light curve) is not in the features table
    short = 633_100_000_999_999
    kilonova = pd.DataFrame(
        {
            "source_id": [1, 2, 3],
            "objectid": [objectid[5], short, objectid[9]],
            "filterid": np.array([2, 1, 2], dtype=np.int8),
            "fieldid": [633, 633, 633],
            "ra": [features["ra"][5], 123.25, features["ra"][9]],
            "dec": [features["dec"][5], -5.5, features["dec"][9]],
            "prob_kilonova": [0.2, 0.95, 0.7],
        }
    )
    # early SN Ia: objectid_g / objectid_r only (the r light curve is listed when there is one)
    early = pd.DataFrame(
        {
            "source_id": [10, 11, 12, 13],
            "objectid_g": pd.array([None, objectid[1] - 1, objectid[2] - 1, None], dtype="Int64"),
            "objectid_r": pd.array([objectid[0], objectid[1], None, objectid[3]], dtype="Int64"),
            "prob_snia": [0.9, 0.6, 0.8, np.nan],  # NaN: no rise fitted, never listed
        }
    )
    return features, scores, predictions, {"kilonova": kilonova, "early_snia": early}


def _select(tables, spec, name="list"):
    features, scores, predictions, sources = tables
    return select_candidates(features, scores, predictions, None, spec, name=name, source_predictions=sources)


def test_kilonova_list_is_ordered_by_probability_and_keeps_objects_without_features(tables):
    table = _select(tables, spec("kilonova", top_n=100, min_probability=0.5), "kilonova")
    short = 633_100_000_999_999
    assert list(table["objectid"]) == [short, tables[0]["objectid"][9]]
    assert list(table["list_rank"]) == [1, 2]
    assert list(table["source_probability"]) == [0.95, 0.7]
    assert table["source_probability"].description.startswith("Kilonova classifier probability")
    # the short light curve has no features row: position and band come from the predictions
    assert table["ra"][0] == 123.25 and table["dec"][0] == -5.5 and table["ra"].unit == "deg"
    assert table["band"][0] == "g"
    assert np.ma.getmaskarray(table["rank"])[0] and not np.ma.getmaskarray(table["rank"])[1]
    assert "kilonova" in table.meta["description"] and table.meta["select"] == "kilonova"
    for column in ("objectid", "ra", "dec", "predicted_class", "xmatch_name", "snad_url"):
        assert column in table.colnames
    top1 = _select(tables, spec("kilonova", top_n=1), "kilonova")
    assert list(top1["objectid"]) == [short]


def test_early_snia_list_uses_the_r_objectid_and_skips_unclassified_sources(tables):
    objectid = tables[0]["objectid"]
    table = _select(tables, spec("early_snia", top_n=None), "early_snia")
    assert list(table["objectid"]) == [objectid[0], objectid[2] - 1, objectid[1]]
    assert list(table["source_probability"]) == [0.9, 0.8, 0.6]
    assert "SN Ia" in table["source_probability"].description


def test_source_lists_round_trip_through_every_format(tables, tmp_path):
    table = _select(tables, spec("kilonova", top_n=100, min_probability=0.5), "kilonova")
    ecsv, csv, vot = tmp_path / "kilonova.ecsv", tmp_path / "kilonova.csv", tmp_path / "kilonova.vot"
    write_candidates(table, ecsv, csv, vot)
    back = Table.read(ecsv)
    assert list(back["objectid"]) == list(table["objectid"])
    assert back["source_probability"].description == table["source_probability"].description
    assert back["ra"].unit == "deg"
    assert list(Table.read(vot, format="votable")["objectid"]) == list(table["objectid"])
    assert list(pd.read_csv(csv)["objectid"]) == list(table["objectid"])


def test_source_list_without_its_predictions_is_an_input_error(tables):
    features, scores, predictions, _ = tables
    with pytest.raises(InputError, match=r"candidates\.lists\.kn: select 'kilonova' needs"):
        select_candidates(features, scores, predictions, None, spec("kilonova"), name="kn")
    bad = {"kilonova": pd.DataFrame({"objectid": [1], "probability": [0.5]})}
    with pytest.raises(InputError, match="lack column 'prob_kilonova'"):
        select_candidates(
            features, scores, predictions, None, spec("kilonova"), name="kn", source_predictions=bad
        )


def test_per_batch_preselection_keeps_every_row_a_list_takes(tables, tmp_path):
    """The candidate stage reads the per-source predictions one batch at a time and keeps a running top_n
    per list; the lists made from those rows equal the lists made from every row at once."""
    features, scores, _, _ = tables
    rng = np.random.default_rng(3)
    n = len(features)  # one prediction per sky source, as the classifiers write them
    preds = pd.DataFrame(
        {
            "source_id": np.arange(n),
            "objectid": rng.permutation(features["objectid"].to_numpy()),
            "prob_kilonova": np.round(rng.uniform(0, 1, n), 1),  # ties: the order falls back to objectid
        }
    )
    preds.loc[rng.choice(n, 5, replace=False), "prob_kilonova"] = np.nan
    files = []
    for i in range(3):
        files.append(tmp_path / f"batch{i}.parquet")
        preds.iloc[i * n // 3 : (i + 1) * n // 3].to_parquet(files[-1])
    scores_path = tmp_path / "scores.parquet"
    scores.to_parquet(scores_path)
    median_score = float(scores["anomaly_score"].median())
    lists = {
        "top": spec("kilonova", top_n=4),
        "sure": spec("kilonova", top_n=3, min_probability=0.5),
        "odd": spec("kilonova", top_n=3, min_score=median_score),
        "classes": spec("class", classes=["snia"], top_n=3),  # not a source list: ignored here
    }
    inputs = CandidateInputs(
        features=[], scores=[scores_path], predictions=[], crossmatch=[], manifests=[],
        source_predictions={"kilonova": files, "early_snia": files},  # no list selects early_snia: not read
    )  # fmt: skip
    kept = preselect_sources(inputs, lists)
    assert set(kept) == {"kilonova"}
    assert len(kept["kilonova"]) <= 4 + 3 + 3 < n  # a running top_n per list, not one per batch
    for name, list_spec in lists.items():
        if list_spec.select != "kilonova":
            continue
        whole = source_selection(name, "kilonova", list_spec, scores, preds)
        batched = source_selection(name, "kilonova", list_spec, scores, kept["kilonova"])
        assert len(whole) == list_spec.top_n
        pd.testing.assert_frame_equal(batched, whole)
