"""Personalised AAD: each expert's answers drive their own model; lists per expert, a consensus list,
and `skysift label --expert NAME` continuing NAME's model."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from anomaly_run import anomaly_section, make_run
from skysift.anomaly import AnomalySettings, append_label, read_labels, read_session_files
from skysift.anomaly.experts import consensus_list, expert_lists, run_rank_expert_anomalies
from skysift.anomaly.session import label_command, run_search
from test_anomaly_active import make_sources

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
SECTION = {"method": "aad", "compare": [], "n_trees": 60, "top_n": 20, "pool_size": 150}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished run (AAD) and its pool search."""
    df, interesting = make_sources(n_sources=300, n_interesting=10, n_boring=30, seed=5)
    results = tmp_path_factory.mktemp("experts") / "results"
    top = make_run(results, {"field000633": df}, anomaly_section(**SECTION))
    settings = AnomalySettings.from_config(anomaly_section(**SECTION))
    files = read_session_files(results / "anomaly" / "session.json")
    return df, interesting, top["aad"], files, settings


def answer(path: Path, expert: str, objectids, label: str) -> None:
    for oid in objectids:
        append_label(path, int(oid), label, expert)


def test_two_experts_models_differ_when_their_answers_differ_and_match_when_they_agree(tmp_path, run):
    df, interesting, ranked, files, settings = run
    first = ranked.drop_duplicates("source_id")["objectid"].head(6).to_numpy()
    a, b, c = tmp_path / "ann.csv", tmp_path / "bob.csv", tmp_path / "cid.csv"
    answer(a, "ann", first, "regular")
    answer(b, "bob", first[:3], "regular")
    answer(b, "bob", first[3:], "anomaly")
    answer(c, "cid", first[::-1], "regular")  # ann's answers, in another order, at other times
    search = run_search(files, settings, method="aad", labelled=first)
    lists = expert_lists(search, [a, b, c])
    assert set(lists) == {"ann", "bob", "cid"}
    ann, bob, cid = (lists[n] for n in ("ann", "bob", "cid"))
    assert ann["objectid"].tolist() == cid["objectid"].tolist()
    np.testing.assert_array_equal(ann["method_score"], cid["method_score"])
    assert not np.allclose(ann["method_score"], bob["method_score"], equal_nan=True)
    assert ann["objectid"].tolist() != bob["objectid"].tolist()
    # each list carries its own expert's answers with their provenance (file:line), nobody else's
    assert set(ann.loc[ann["label"] != "", "label_expert"]) == {"ann"}
    assert ann.loc[ann["label"] != "", "label_origin"].str.startswith(str(a)).all()
    assert set(bob.loc[bob["label"] == "anomaly", "objectid"]) == set(first[3:])

    cons = consensus_list(lists)
    assert cons["consensus_rank"].is_monotonic_increasing and cons["consensus_rank"].iloc[0] == 1
    row = cons.loc[cons["objectid"] == first[4]].iloc[0]
    assert (row["votes_anomaly"], row["votes_regular"]) == (1, 2)
    assert "bob:anomaly@" in row["answers"] and f"({a}:" in row["answers"]
    assert set(cons["objectid"]) == set(ann["objectid"])


def test_rank_expert_anomalies_writes_every_list_and_the_consensus(tmp_path, run):
    df, interesting, ranked, files, settings = run
    first = ranked.drop_duplicates("source_id")["objectid"].head(4).to_numpy()
    a, b = tmp_path / "ann.csv", tmp_path / "bob.csv"
    answer(a, "ann", first, "regular")
    answer(b, "bob", first, "anomaly")
    lists = run_rank_expert_anomalies(files, settings, label_files=[a, b], experts=tmp_path / "experts.parquet",
                                      consensus=tmp_path / "c.parquet", consensus_csv=tmp_path / "c.csv", top_n=10)  # fmt: skip
    table = pd.read_parquet(tmp_path / "experts.parquet")
    assert set(table["expert"]) == {"ann", "bob"} and len(table) == sum(len(v) for v in lists.values())
    assert len(pd.read_csv(tmp_path / "c.csv")) == 10 and len(pd.read_parquet(tmp_path / "c.parquet")) == len(
        lists["ann"]
    )


def shown(text: str) -> list[int]:
    return [int(line.split()[2]) for line in text.splitlines() if line.startswith("#")]


def session(tmp_path: Path, files, expert: str, labels: Path, answers: str, budget: int) -> str:
    out = io.StringIO()
    label_command(labels, expert, config_path=tmp_path / "config.yaml", schema=SCHEMA,
                  session=files.models["aad"][0].parents[2] / "anomaly" / "session.json", budget=budget,
                  stdin=io.StringIO(answers), stdout=out)  # fmt: skip
    return out.getvalue()


def test_label_expert_continues_that_experts_own_model(tmp_path, run):
    df, interesting, ranked, files, settings = run
    other = tmp_path / "bob.csv"
    other.write_text("objectid,label,expert,time,note\n")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"anomaly": {**SECTION, "personal": True,
                                                                      "labels": [str(other)]}}))  # fmt: skip

    def answers(n: int) -> str:  # the oracle: interesting = anomaly; works for any order of questions
        return "n\n" * n

    # uninterrupted: ann answers 8 questions
    whole = session(tmp_path, files, "ann", tmp_path / "whole.csv", answers(8), 8)
    # bob, in the shared file, answers differently about the first sources ann was shown
    answer(other, "bob", [shown(whole)[0], shown(whole)[1]], "anomaly")
    # interrupted: 3 answers, quit, then 5 more; bob's answers are not ann's: ann's model ignores them
    part = tmp_path / "ann.csv"
    first = session(tmp_path, files, "ann", part, answers(3) + "q\n", 8)
    second = session(tmp_path, files, "ann", part, answers(5), 5)
    assert "ann's own model, 3 source(s) already answered" in second
    assert shown(first)[:3] + shown(second) == shown(whole)  # the 4th card of the first was quit
    assert read_labels(part)["expert"].tolist() == ["ann"] * 8
    # bob's own model starts from bob's answers: his first questions differ from ann's
    bob = session(tmp_path, files, "bob", tmp_path / "bob2.csv", answers(3), 3)
    assert "bob's own model, 2 source(s) already answered" in bob
    assert not set(shown(bob)) & set(shown(whole)[:2])
    # without anomaly.personal everyone's answers are known: ann is not asked about bob's sources
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"anomaly": {**SECTION, "labels": [str(other)]}}))
    merged = session(tmp_path, files, "ann", tmp_path / "merged.csv", answers(3), 3)
    assert "2 source(s) already answered" in merged and not set(shown(merged)) & set(shown(whole)[:2])
