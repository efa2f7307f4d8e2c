"""Tests of skysift.candidates: the joined, ranked table and its ECSV/CSV/VOTable files."""

from __future__ import annotations

import csv

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
from astropy.io.votable import parse
from astropy.table import Table

from candidates_data import spec
from skysift.anomaly import SearchSettings, rank_anomalies
from skysift.candidates import CANDIDATE_COLUMNS, make_candidates, select_candidates, write_candidates
from skysift.config import default_config
from skysift.io import InputError

TRICKY = 'SN 2020abc, the "odd" one'


@pytest.fixture(scope="module")
def inputs():
    """Features, scores, predictions (some objects missing) and a cross-match (some objects matched)."""
    rng = np.random.default_rng(3)
    n = 300
    objectid = 600_000_000_000 + np.arange(n, dtype=np.int64) * 11
    features = pd.DataFrame(
        {
            "objectid": objectid,
            "filterid": rng.choice(np.array([1, 2, 3], dtype=np.int8), n),
            "fieldid": np.int16(681),
            "rcid": rng.integers(0, 64, n).astype(np.int8),
            "ra": rng.uniform(10, 11, n),
            "dec": rng.uniform(40, 41, n),
            "n_points": rng.integers(20, 400, n),
            "amplitude": rng.normal(0, 1, n).astype(np.float32),
            "beyond_1_std": rng.normal(0, 1, n).astype(np.float32),
            "skew": rng.normal(0, 1, n).astype(np.float32),
        }
    )
    features.loc[17, ["amplitude", "skew"]] = [40.0, -30.0]
    search = SearchSettings.from_config(
        {**default_config()["anomaly"], "n_trees": 50, "compare": [], "per_band": False}
    )
    scores = rank_anomalies(features, search)[search.method]
    top = scores["objectid"].iloc[:10].to_numpy()
    predictions = pd.DataFrame(
        {
            "objectid": objectid[objectid != top[1]],  # top[1] was never classified
            "predicted_class": pd.array(rng.choice(["constant", "rrlyrae", "snia"], n - 1), dtype="string"),
            "max_probability": rng.uniform(0.34, 1.0, n - 1),
        }
    )
    xmatch = pd.DataFrame(
        {
            "objectid": [top[0], top[0], top[2], top[3]],
            "catalog": ["simbad", "tns", "vsx", "simbad"],
            "match_name": ["SIMBAD 1", TRICKY, "ASASSN-V J1", "Gaia DR3 42"],
            "match_type": ["SN*", "SN Ia", "EW", "Star"],
            "sep_arcsec": [0.2, 0.4, 1.1, 0.7],
            "label": ["snia", "snia", "eclipsing_binary", None],
        }
    )
    return features, scores, predictions, xmatch


def test_table_columns_order_and_joins(inputs):
    features, scores, predictions, xmatch = inputs
    table = make_candidates(features, scores, predictions, xmatch, dr="dr23", top_n=10)
    assert table.colnames == list(CANDIDATE_COLUMNS)
    assert len(table) == 10
    assert table["rank"].tolist() == list(range(1, 11))
    assert table["objectid"][0] == features["objectid"][17]  # the injected outlier
    assert table["ra"].unit == u.deg and table["dec"].unit == u.deg
    assert table["xmatch_sep"].unit == u.arcsec
    assert all(table[name].description for name in table.colnames)
    assert table.meta["dr"] == "dr23" and "description" in table.meta
    by_id = features.set_index("objectid")
    for row in table:
        feat = by_id.loc[row["objectid"]]
        assert row["ra"] == feat["ra"] and row["fieldid"] == feat["fieldid"]
        assert row["band"] == {1: "g", 2: "r", 3: "i"}[int(feat["filterid"])]
        assert row["snad_url"] == f"https://ztf.snad.space/dr23/view/{row['objectid']}"
    # TNS beats SIMBAD for the first object; objects without a match are masked, not dropped
    assert table["xmatch_catalog"][0] == "tns" and table["xmatch_name"][0] == TRICKY
    assert table["xmatch_label"][2] == "eclipsing_binary"
    assert table["xmatch_type"][3] == "Star" and table["xmatch_label"].mask[3]
    assert table["xmatch_name"].mask[4:].all() and table["xmatch_sep"].mask[4:].all()
    # the object without a prediction keeps its row with masked class columns
    assert table["predicted_class"].mask[1] and table["max_probability"].mask[1]
    assert not table["predicted_class"].mask[[0, *range(2, 10)]].any()


def test_ordering_is_stable_and_independent_of_input_order(inputs):
    features, scores, predictions, xmatch = inputs
    a = make_candidates(features, scores, predictions, xmatch, top_n=25)
    shuffled = scores.sample(frac=1.0, random_state=1)
    b = make_candidates(features.iloc[::-1], shuffled, predictions.iloc[::-1], xmatch.iloc[::-1], top_n=25)
    assert a.colnames == b.colnames
    for name in a.colnames:
        assert a[name].tolist() == b[name].tolist(), name  # masked entries compare as None
    # equal ranks fall back to objectid order
    tied = pd.DataFrame(
        {"objectid": [30, 10, 20], "anomaly_score": [0.6, 0.6, 0.6], "anomaly_rank": [1, 1, 1]}
    )
    assert make_candidates(None, tied, None, None)["objectid"].tolist() == [10, 20, 30]


def test_top_n_none_gives_every_object_and_nan_scores_are_masked(inputs):
    features, scores, predictions, xmatch = inputs
    scores = scores.copy()
    scores.loc[scores.index[-1], "anomaly_score"] = np.nan
    table = make_candidates(features, scores, predictions, xmatch, top_n=None)
    assert len(table) == len(scores)
    assert table["anomaly_score"].mask[-1]
    assert len(make_candidates(features, scores, predictions, xmatch, top_n=10_000)) == len(scores)


def test_bad_arguments():
    scores = pd.DataFrame({"objectid": [1], "anomaly_score": [0.5], "anomaly_rank": [1]})
    with pytest.raises(InputError, match="dr"):
        make_candidates(None, scores, None, None, dr="DR24/../x")
    with pytest.raises(InputError, match="anomaly_rank"):
        make_candidates(None, scores.drop(columns="anomaly_rank"), None, None)
    with pytest.raises(ValueError, match="top_n"):
        make_candidates(None, scores, None, None, top_n=-1)


def test_files_round_trip(inputs, tmp_path):
    features, scores, predictions, xmatch = inputs
    table = make_candidates(features, scores, predictions, xmatch, dr="dr24", top_n=20)
    paths = write_candidates(
        table, tmp_path / "out" / "c.ecsv", tmp_path / "out" / "c.csv", tmp_path / "out" / "c.vot.xml"
    )
    assert [p.name for p in paths] == ["c.ecsv", "c.csv", "c.vot.xml"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "c.csv",
        "c.ecsv",
        "c.vot.xml",
    ]  # no temp files

    ecsv = Table.read(paths[0], format="ascii.ecsv")
    assert ecsv.colnames == table.colnames
    for name in table.colnames:
        assert ecsv[name].unit == table[name].unit
        assert ecsv[name].description == table[name].description
    assert ecsv.meta["dr"] == "dr24"
    assert ecsv["objectid"].dtype == np.int64 and ecsv["filterid"].dtype == np.int8
    assert ecsv["xmatch_name"][0] == TRICKY
    assert ecsv["xmatch_name"].mask.tolist() == table["xmatch_name"].mask.tolist()
    np.testing.assert_array_equal(ecsv["anomaly_score"], table["anomaly_score"])

    with open(paths[1], newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == table.colnames
    assert len(rows) == 1 + len(table)
    assert rows[1][table.colnames.index("xmatch_name")] == TRICKY
    assert rows[5][table.colnames.index("xmatch_name")] == ""  # no match: empty cell
    oid = table.colnames.index("objectid")
    assert [int(r[oid]) for r in rows[1:]] == table["objectid"].tolist()

    vot = Table.read(paths[2], format="votable")
    assert len(vot) == len(table)
    assert vot["objectid"].tolist() == table["objectid"].tolist()
    assert vot["ra"].unit == u.deg and vot["xmatch_sep"].unit == u.arcsec
    assert vot["xmatch_name"][0] == TRICKY
    assert vot["rcid"].tolist() == table["rcid"].tolist()
    assert {info.name: info.value for info in parse(paths[2]).resources[0].infos}["dr"] == "dr24"


def test_empty_table_is_written(tmp_path):
    scores = pd.DataFrame({"objectid": [1, 2], "anomaly_score": [0.5, 0.6], "anomaly_rank": [2, 1]})
    table = make_candidates(None, scores, None, None, top_n=0)
    assert len(table) == 0 and table.colnames == list(CANDIDATE_COLUMNS)
    ecsv, _, vot = write_candidates(table, tmp_path / "e.ecsv", tmp_path / "e.csv", tmp_path / "e.xml")
    assert len(Table.read(ecsv, format="ascii.ecsv")) == 0
    assert len(Table.read(vot, format="votable")) == 0


# --- candidate lists (select_candidates) ---------------------------------------------------------


def test_list_columns_probabilities_links_and_round_trip(tmp_path):
    from candidates_data import EVIL, build
    from skysift.candidates import read_alert_names

    data = build(tmp_path)
    names = tmp_path / "names.csv"
    first = int(data["features"]["objectid"][0])
    names.write_text(f"objectid,ztf_name\n{first},ZTF18abcdefg\n")
    table = select_candidates(
        data["features"],
        data["scores"],
        data["predictions"],
        data["xmatch"],
        spec("anomalies", top_n=None),
        name="all",
        dr="dr24",
        nepochs_df=data["nepochs"],
        alert_names_df=read_alert_names(names),
    )
    assert table["list_rank"].tolist() == list(range(1, len(table) + 1))
    probs = [c for c in table.colnames if c.startswith("prob_")]
    assert probs == ["prob_constant", "prob_rrlyrae", "prob_snia"]
    assert table.colnames.index("prob_constant") == table.colnames.index("max_probability") + 1
    assert (table["nepochs"] > table["n_points"]).all()  # DR epochs before the cuts
    assert table["expert_label"].mask.all() and table["dr"][0] == "dr24"
    row = table[table["objectid"] == first][0]
    assert row["alerce_url"] == "https://alerce.online/object/ZTF18abcdefg"
    assert row["fink_url"] == "https://fink-portal.org/ZTF18abcdefg"
    others = table[table["objectid"] != first]
    assert others["alerce_url"].mask.all() and others["fink_url"].mask.all()
    ecsv, _, vot = write_candidates(table, tmp_path / "l.ecsv", tmp_path / "l.csv", tmp_path / "l.vot")
    for back in (Table.read(ecsv, format="ascii.ecsv"), Table.read(vot, format="votable")):
        assert back.colnames == table.colnames
        for name in table.colnames:
            assert back[name].unit == table[name].unit, name
            # the VOTable writer wraps long DESCRIPTION text; XML readers see the same words
            assert " ".join(back[name].description.split()) == table[name].description, name
        assert EVIL in back["xmatch_name"].tolist()
        assert back["period"].unit == u.day
    assert Table.read(ecsv, format="ascii.ecsv").meta["select"] == "anomalies"


def test_class_and_unknown_transient_selections(tmp_path):
    from candidates_data import PERIODIC, TRANSIENT, build, objectid

    data = build(tmp_path)
    args = (data["features"], data["scores"], data["predictions"], data["xmatch"])
    unknown = data["lists"]["unknown_transients"]
    assert sorted(unknown["objectid"].tolist()) == sorted([objectid(TRANSIENT, 1), objectid(TRANSIENT, 2)])
    assert unknown["xmatch_name"].mask.all()
    rr = select_candidates(*args, spec("class", classes=["rrlyrae"], top_n=1), name="rr")
    assert rr["objectid"].tolist() == [objectid(PERIODIC, 2)]  # equal probability: better anomaly rank first
    # the periodic source is predicted rrlyrae but is catalogued: it is never an unknown transient
    as_transient = select_candidates(*args, spec("unknown_transients"), transient_classes=["rrlyrae"])
    assert len(as_transient) == 0
    strict = select_candidates(*args, spec("anomalies", min_score=0.9, top_n=None))
    assert (strict["anomaly_score"] >= 0.9).all() and len(strict) == 4
    assert "score >= 0.9" in strict.meta["description"]
    with pytest.raises(InputError, match="classes"):
        select_candidates(*args, spec("class"), name="bad")
    with pytest.raises(InputError, match="predictions"):
        select_candidates(args[0], args[1], None, args[3], spec("class", classes=["x"]))
    with pytest.raises(InputError, match="select"):
        select_candidates(*args, spec("nope"))


def test_tables_are_byte_identical_when_rewritten(tmp_path):
    from candidates_data import build

    data = build(tmp_path)
    outs = []
    for k in range(2):
        table = select_candidates(
            data["features"].sample(frac=1.0, random_state=k),
            data["scores"].sample(frac=1.0, random_state=k + 10),
            data["predictions"],
            data["xmatch"],
            data["specs"]["anomalies"],
            name="anomalies",
            nepochs_df=data["nepochs"],
        )
        outs.append(
            write_candidates(table, tmp_path / f"{k}.ecsv", tmp_path / f"{k}.csv", tmp_path / f"{k}.vot")
        )
    for a, b in zip(*outs, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.suffix


def test_bad_alert_names_are_rejected(tmp_path):
    from skysift.candidates import read_alert_names

    path = tmp_path / "names.csv"
    path.write_text("objectid,ztf_name\n1,<script>\n")
    with pytest.raises(InputError, match="not ZTF alert names"):
        read_alert_names(path)
    assert read_alert_names(None) is None


def test_ucds_are_read_back_from_votable_and_ecsv(tmp_path):
    """TOPCAT/Aladin find positions, ids and probabilities by UCD: astropy reads them back from both files."""
    from candidates_data import build

    data = build(tmp_path)
    table = select_candidates(
        data["features"],
        data["scores"],
        data["predictions"],
        data["xmatch"],
        spec("anomalies", top_n=None),
        name="all",
        dr="dr24",
        nepochs_df=data["nepochs"],
    )
    ecsv, _, vot = write_candidates(table, tmp_path / "u.ecsv", tmp_path / "u.csv", tmp_path / "u.vot")
    expected = {
        "ra": "pos.eq.ra;meta.main",
        "dec": "pos.eq.dec;meta.main",
        "objectid": "meta.id;meta.main",
        "predicted_class": "src.class",
        "max_probability": "stat.probability",
        "prob_snia": "stat.probability",
        "xmatch_sep": "pos.angDistance",
    }
    for back in (Table.read(ecsv, format="ascii.ecsv"), Table.read(vot, format="votable")):
        ucds = {name: back[name].meta.get("ucd") for name in back.colnames}
        assert {k: ucds[k] for k in expected} == expected
        assert all(ucds.values()), [k for k, v in ucds.items() if not v]
        # exactly one main position and one main id
        assert sum("meta.main" in v for v in ucds.values()) == 3


def test_ucds_are_valid_ucd1plus():
    """Every UCD passes astropy's UCD1+ controlled-vocabulary check."""
    from astropy.io.votable.ucd import check_ucd

    from skysift.candidates.columns import UCDS

    assert [k for k, v in UCDS.items() if not check_ucd(v, check_controlled_vocabulary=True)] == []
