"""Tests of the expert-in-the-loop anomaly search: labels files, AAD/PineForest, deterministic resume,
the `skysift label` session (stdin, SIGKILL), ranked lists with expert labels."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from astropy.table import Table
from coniferest.label import Label

from anomaly_run import anomaly_section, make_run, model_files
from skysift.anomaly import (
    SCORE_COLUMNS,
    AnomalySettings,
    Search,
    append_label,
    build_space,
    label_session,
    merge_labels,
    read_labels,
    run_evaluation,
    run_loop,
    search_anomalies,
    source_labels,
)
from skysift.anomaly.pool import load_pool, seed_search
from skysift.anomaly.store import load_model, load_sample
from skysift.config import default_config
from skysift.io import InputError

N_FEATURES = 6
ANOMALY, REGULAR, UNKNOWN = Label.ANOMALY, Label.REGULAR, Label.UNKNOWN


def anomaly_settings(**overrides) -> AnomalySettings:
    """The ``anomaly`` section's defaults with ``overrides``."""
    return AnomalySettings.from_config({**default_config()["anomaly"], **overrides})


def make_search(space, method: str, *, n_trees: int, seed: int) -> Search:
    """``method`` over ``space`` with the default detector settings but ``n_trees``."""
    detectors = anomaly_settings(n_trees=n_trees).search.detectors
    return Search(space, method, detectors, seed=seed)


def make_sources(n_sources: int = 400, n_interesting: int = 12, n_boring: int = 40, seed: int = 0):
    """g and r rows of each source (same position); two outlier kinds: 'boring' far off in three of
    f2-f5 (what an isolation forest ranks first), 'interesting' less far off in f0/f1 (what the expert
    wants). Returns the features table and the interesting source ids (smallest member objectid)."""
    rng = np.random.default_rng(seed)
    kinds = np.zeros(n_sources, dtype=int)
    picked = rng.choice(n_sources, n_interesting + n_boring, replace=False)
    kinds[picked[:n_interesting]] = 1
    kinds[picked[n_interesting:]] = 2
    rows = []
    for s in range(n_sources):
        ra, dec = rng.uniform(10, 11), rng.uniform(20, 21)
        for band in (1, 2):
            x = rng.normal(0, 1, N_FEATURES)
            if kinds[s] == 1:
                x[[0, 1]] += rng.uniform(4, 5, 2)
            elif kinds[s] == 2:
                x[rng.choice([2, 3, 4, 5], 3, replace=False)] += rng.choice([-1, 1], 3) * rng.uniform(
                    8, 11, 3
                )
            oid = 633_000_000_000_000 + band * 10**11 + s
            rows.append({"objectid": oid, "filterid": band, "fieldid": 633, "ra": ra, "dec": dec, "n_points": 50,
                         **{f"f{j}": x[j] for j in range(N_FEATURES)}})  # fmt: skip
    df = pd.DataFrame(rows)
    interesting = {633_000_000_000_000 + 10**11 + s for s in np.flatnonzero(kinds == 1)}
    df.attrs["boring"] = [633_000_000_000_000 + 10**11 + int(s) for s in np.flatnonzero(kinds == 2)]
    return df, interesting


@pytest.fixture(scope="module")
def data():
    return make_sources()


@pytest.fixture(scope="module")
def space(data):
    return build_space(data[0], anomaly_settings().search.space)


def oracle(interesting):
    return lambda source, _scores: ANOMALY if source in interesting else REGULAR


# ---------------------------------------------------------------- labels files


def test_labels_round_trip_keeps_every_field(tmp_path):
    path = tmp_path / "alice.csv"
    append_label(path, 633201100000001, "anomaly", "Alice", note='odd "dip", then a flare')
    append_label(path, 633201100000002, "regular", "Alice")
    append_label(path, 633201100000003, "unknown", "Alice", note="too faint\nto tell")
    back = read_labels(path)
    assert back["objectid"].tolist() == [633201100000001, 633201100000002, 633201100000003]
    assert back["label"].tolist() == ["anomaly", "regular", "unknown"]
    assert back["expert"].tolist() == ["Alice"] * 3
    assert back["note"].tolist() == ['odd "dip", then a flare', "", "too faint\nto tell"]
    assert str(back["time"].dt.tz) == "UTC"
    assert back["time"].is_monotonic_increasing
    assert path.read_text().splitlines()[0] == "objectid,label,expert,time,note"


def test_merge_rules_and_provenance(tmp_path):
    a = tmp_path / "alice.csv"
    a.write_text(
        "objectid,label,expert,time,note\n"
        "1,anomaly,alice,2026-01-01T10:00:00Z,first look\n"
        "2,regular,alice,2026-01-02T10:00:00Z,\n"
        "3,anomaly,alice,2026-01-03T10:00:00Z,\n"
        "3,regular,alice,2026-01-03T10:00:00Z,changed my mind\n"
    )
    b = tmp_path / "bob.ecsv"
    Table(
        {
            "objectid": [1, 2, 4],
            "label": ["regular", "anomaly", "REGULAR"],
            "expert": ["bob", "bob", "bob"],
            "time": ["2026-01-05T00:00:00", "2026-01-02T10:00:00+00:00", "2026-01-01T12:00:00+02:00"],
            "note": ["", "", ""],
        }
    ).write(b, format="ascii.ecsv")
    merged = merge_labels([a, b]).set_index("objectid")
    # latest time wins across files (bob re-examined object 1 later)
    assert merged.loc[1, "label"] == "regular" and merged.loc[1, "label_expert"] == "bob"
    # equal times: the file listed later wins
    assert merged.loc[2, "label"] == "anomaly" and merged.loc[2, "label_origin"].startswith(str(b))
    # equal times in one file: the later line wins, and its line number is kept
    assert merged.loc[3, "label"] == "regular" and merged.loc[3, "label_origin"] == f"{a}:5"
    assert merged.loc[3, "label_note"] == "changed my mind"
    assert merged.loc[4, "label"] == "regular" and merged.loc[4, "label_time"] == "2026-01-01T10:00:00Z"
    assert merged["label_votes"].to_dict() == {1: 2, 2: 2, 3: 2, 4: 1}
    assert merged["label_conflict"].to_dict() == {1: True, 2: True, 3: True, 4: False}
    # the order of the list matters only for equal times
    swapped = merge_labels([b, a]).set_index("objectid")
    assert swapped.loc[1, "label"] == "regular" and swapped.loc[2, "label"] == "regular"


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("12,maybe,alice,2026-01-01T00:00:00Z,", r"line 3, column label: 'maybe'"),
        ("ZTF12,anomaly,alice,2026-01-01T00:00:00Z,", r"line 3, column objectid"),
        ("12,anomaly,alice,yesterday,", r"line 3, column time"),
    ],
)
def test_bad_rows_name_file_line_and_column(tmp_path, line, match):
    path = tmp_path / "bad.csv"
    path.write_text(f"objectid,label,expert,time,note\n1,regular,alice,2026-01-01T00:00:00Z,\n{line}\n")
    with pytest.raises(InputError, match=match) as err:
        merge_labels([path])
    assert str(path) in str(err.value)


def test_missing_column_and_missing_file(tmp_path):
    path = tmp_path / "nolabel.csv"
    path.write_text("objectid,expert,time\n1,alice,2026-01-01T00:00:00Z\n")
    with pytest.raises(InputError, match=r"nolabel.csv: missing column\(s\) \['label'\]"):
        read_labels(path)
    with pytest.raises(InputError, match="anomaly.labels: file .*absent.csv does not exist"):
        read_labels(tmp_path / "absent.csv")


def test_source_labels_are_coniferest_labels_and_the_latest_answer_of_a_source_wins(tmp_path, space):
    g, r = int(space.objectid[0]), int(space.objectid[1])  # the g and r rows of source 0
    assert space.source_id[0] == space.source_id[1]
    path = tmp_path / "labels.csv"
    path.write_text(
        "objectid,label,expert,time,note\n"
        f"{g},anomaly,alice,2026-01-01T00:00:00Z,\n"
        f"{r},regular,bob,2026-01-02T00:00:00Z,\n"
        f"{int(space.objectid[2])},unknown,bob,2026-01-02T00:00:00Z,\n"
        "42,anomaly,bob,2026-01-02T00:00:00Z,not in the features\n"
    )
    known = source_labels(space, merge_labels([path]))
    assert known == {int(space.source_id[0]): Label.REGULAR, int(space.source_id[2]): Label.UNKNOWN}
    assert all(type(v) is Label for v in known.values())


# ---------------------------------------------------------------- detectors and the loop


def test_aad_and_pineforest_find_more_than_isoforest(space, data):
    _, interesting = data
    found = {}
    for method in ("isoforest", "aad", "pineforest"):
        steps = run_loop(make_search(space, method, n_trees=100, seed=1), oracle(interesting), budget=30)
        found[method] = sum(s.label == ANOMALY for s in steps)
    # the forest ranks the 40 'boring' far outliers first; the active methods learn they are regular
    assert found["isoforest"] <= 7, found
    assert found["aad"] >= found["isoforest"] + 4, found
    assert found["pineforest"] > found["isoforest"], found


@pytest.mark.parametrize("method", ["aad", "pineforest"])
def test_resume_from_answers_reproduces_the_uninterrupted_sequence(space, data, method):
    _, interesting = data
    full = run_loop(
        make_search(space, method, n_trees=60, seed=3), oracle(interesting), budget=16, pool_size=150
    )
    assert {s.label for s in full} == {ANOMALY, REGULAR}  # the labels really changed the model
    first = run_loop(
        make_search(space, method, n_trees=60, seed=3), oracle(interesting), budget=7, pool_size=150
    )
    # a new process: fresh detectors, only (seed, answers) carried over
    resumed = run_loop(
        make_search(space, method, n_trees=60, seed=3),
        oracle(interesting),
        budget=9,
        known={s.source_id: s.label for s in first},
        pool_size=150,
    )
    assert first + resumed == full


def test_scores_depend_on_the_answers_not_on_their_order(space, data):
    _, interesting = data
    search = make_search(space, "aad", n_trees=60, seed=0)
    sources = sorted(search.sources[:40].tolist())
    answers = {s: (ANOMALY if s in interesting else REGULAR) for s in sources[:10]}
    forward = search.row_scores(answers)
    backward = search.row_scores(dict(reversed(list(answers.items()))))
    np.testing.assert_array_equal(forward, backward)
    assert not np.allclose(forward, search.row_scores({}))


def test_aad_budget_lets_regular_answers_move_a_regularised_model(space, data):
    """With a prior (aad_prior_influence > 0) and coniferest's `auto` budget, answers that are all
    "regular" leave AAD where the isolation forest was (the solver lowers its threshold instead); a
    budget quantile (aad_budget) holds the answered regulars outside the most anomalous fraction, so
    they move the weights. (What that is worth on realistic data: docs/realistic_demo.md.)"""
    boring = data[0].attrs["boring"]

    def search(budget):
        detectors = anomaly_settings(n_trees=60, aad_prior_influence=1.0, aad_budget=budget).search.detectors
        return Search(space, "aad", detectors, seed=0)

    answers = {source: REGULAR for source in boring[:10]}
    auto, quantile = search("auto"), search(0.05)
    np.testing.assert_allclose(auto.row_scores(answers), auto.row_scores({}), rtol=1e-6)
    before, after = quantile.row_scores({}), quantile.row_scores(answers)
    assert not np.allclose(before, after)


def test_sources_take_their_most_anomalous_band(space):
    search = make_search(space, "isoforest", n_trees=60, seed=0)
    raw = search.row_scores()
    pct, source_score = search.combine(raw)
    frame = pd.DataFrame({"source": space.source_id, "pct": pct, "score": source_score})
    assert frame["source"].nunique() == len(frame) // 2  # g and r rows associated by position
    per_source = frame.groupby("source").agg(best=("pct", "max"), score=("score", "first"))
    np.testing.assert_allclose(per_source["score"], per_source["best"])
    for band in (1, 2):  # percentiles within each band reach 1 exactly once
        assert (pct[space.filterid == band] == 1.0).sum() == 1


@pytest.mark.parametrize("method", ["lof", "gmm", "sklearn_isoforest"])
def test_static_sklearn_methods_rank_outliers_high(space, data, method):
    df, interesting = data
    search = make_search(space, method, n_trees=60, seed=0)
    top = set(search.source_order(search.row_scores())[:60].tolist())
    outliers = interesting | set(df.attrs["boring"])
    assert len(top & outliers) >= 40, len(top & outliers)


def test_search_anomalies_writes_ranked_lists_with_labels(tmp_path, data):
    df, interesting = data
    unlabelled = make_search(
        build_space(df, anomaly_settings().search.space), "isoforest", n_trees=60, seed=0
    )
    first_sources = unlabelled.source_order(unlabelled.row_scores())[:3]
    labels = tmp_path / "expert.csv"
    for s in first_sources:
        append_label(labels, int(s), "regular", "carol", note="bogus")
    settings = anomaly_settings(method="isoforest", compare=["aad", "lof"], n_trees=60, top_n=10).search
    ranked_dir = tmp_path / "anomaly" / "ranked"
    results = search_anomalies(
        df,
        settings,
        scores=tmp_path / "anomaly" / "scores.parquet",
        ranked=[ranked_dir / f"{m}.parquet" for m in settings.methods],
        top=[ranked_dir / f"{m}.csv" for m in settings.methods],
        label_files=[labels],
    )
    scores = pq.read_table(tmp_path / "anomaly" / "scores.parquet").to_pandas()
    assert tuple(scores.columns[:4]) == SCORE_COLUMNS
    assert scores["anomaly_rank"].tolist() == list(range(1, len(df) + 1))
    # the three labelled regular sources (both bands) are ranked last, provenance kept
    tail = scores.tail(6)
    assert set(tail["source_id"]) == set(first_sources.tolist())
    assert (tail.loc[tail["objectid"].isin(first_sources), "label_expert"] == "carol").all()
    assert scores.loc[~scores["source_id"].isin(first_sources), "label"].eq("").all()
    for method in ("isoforest", "aad", "lof"):
        ranked = pd.read_parquet(tmp_path / "anomaly" / "ranked" / f"{method}.parquet")
        assert len(ranked) == len(df) and (ranked["method"] == method).all()
        assert len(pd.read_csv(tmp_path / "anomaly" / "ranked" / f"{method}.csv")) == 10
    # drivers name the features the interesting objects were shifted in
    top_interesting = results["isoforest"].loc[lambda d: d["objectid"].isin(interesting)].head(5)
    assert top_interesting["drivers"].str.split().str[0].str.split(":").str[0].isin(["f0", "f1"]).all()


def test_run_evaluation_counts_what_the_oracle_loop_finds(tmp_path, data):
    df, interesting = data
    results = tmp_path / "results"
    section = anomaly_section(method="isoforest", compare=["aad"], n_trees=60)
    make_run(results, {"field000633": df}, section)
    truth = pd.DataFrame({"objectid": df["objectid"], "class": "constant"})
    truth["source_id"] = df["objectid"] % 10**11  # the simulator's source of the g/r rows
    truth.loc[truth["source_id"].isin({i % 10**11 for i in interesting}), "class"] = "kilonova"
    evaluation = {"methods": ["isoforest", "aad"], "budgets": [10, 30], "seeds": [0, 1]}
    settings = anomaly_settings(n_trees=60, anomaly_classes=["kilonova", "tde"], evaluation=evaluation)
    out = {name: tmp_path / f"evaluation_{name}" for name in ("table.csv", "curves.csv", "plot.png")}
    models = dict(zip(["isoforest", "aad"], model_files(results, ["isoforest", "aad"]), strict=True))
    sample = (results / "anomaly/model/sample.npz", results / "anomaly/model/sample.json")
    ranked = {m: results / f"anomaly/ranked/{m}.parquet" for m in ("isoforest", "aad")}
    features = [results / "features/field000633.parquet"]
    summary = run_evaluation(features, truth, settings.oracle, models=models, sample=sample, ranked=ranked,
                             table=out["table.csv"], curves=out["curves.csv"], plot=out["plot.png"])  # fmt: skip
    table = pd.read_csv(out["table.csv"])
    assert list(zip(table["method"], table["budget"], strict=True)) == [
        ("isoforest", 10), ("isoforest", 30), ("aad", 10), ("aad", 30)
    ]  # fmt: skip
    assert (table["n_seeds"] == 2).all() and table["mean"].tolist() == summary["mean"].tolist()
    assert table["random_expectation"].tolist() == pytest.approx([b * 12 / 400 for b in (10, 30, 10, 30)])
    # the curves are the oracle loop's over the pool of aad's top-K, detectors fitted on the sample for seed 1
    model = load_model(*models["aad"])
    pool = load_pool(pd.read_parquet(ranked["aad"]), features, model, pool_size=settings.pool_size)
    search = seed_search(
        pool, load_sample(*sample, model.preprocessors), "aad", settings.search.detectors, seed=1
    )
    steps = run_loop(search, oracle(interesting), budget=30)
    curves = pd.read_csv(out["curves.csv"])
    found = curves.loc[(curves["method"] == "aad") & (curves["seed"] == 1), "found"].tolist()
    assert found == np.cumsum([s.label == ANOMALY for s in steps]).tolist()
    assert found[-1] > 3 * 30 * 12 / 400  # far better than random inspection
    assert out["plot.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match=r"anomaly.evaluation.methods \['lof'\] have no ranked list"):
        lof = anomaly_settings(evaluation={**evaluation, "methods": ["lof"]}).oracle
        run_evaluation(features, truth, lof, models=models, sample=sample, ranked=ranked,
                       table=out["table.csv"], curves=out["curves.csv"], plot=out["plot.png"])  # fmt: skip


# ---------------------------------------------------------------- the terminal session

SESSION = {"method": "aad", "n_trees": 60, "random_state": 2, "pool_size": 150}


SESSION_ARGS = {"expert": "dana", "dr": "dr24", "pool_size": SESSION["pool_size"]}


def session_search(df: pd.DataFrame, method: str = "aad", seed: int = 2, n_trees: int = 60) -> Search:
    """The search a session with SESSION runs (by default)."""
    return make_search(build_space(df, anomaly_settings().search.space), method, n_trees=n_trees, seed=seed)


def shown_sources(text: str) -> list[int]:
    """Source ids in the order the session showed them."""
    return [int(line.split()[2]) for line in text.splitlines() if line.startswith("#")]


def answers_for(sources, interesting) -> str:
    return "".join("y\n" if s in interesting else "n\n" for s in sources)


def test_session_stdin_answers_resume_and_card(tmp_path, data):
    df, interesting = data
    out = io.StringIO()
    # uninterrupted: answer by the oracle for 12 questions (answers computed lazily: feed a big script)
    full_file = tmp_path / "full.csv"
    run_loop_steps = run_loop(session_search(df), oracle(interesting), budget=12, pool_size=150)
    script = answers_for([s.source_id for s in run_loop_steps], interesting)
    n = label_session(
        session_search(df), full_file, stdin=io.StringIO(script), stdout=out, budget=12, **SESSION_ARGS
    )
    assert n == 12
    assert shown_sources(out.getvalue()) == [s.source_id for s in run_loop_steps]
    card = out.getvalue()
    assert "https://ztf.snad.space/dr24/view/" in card and "drivers: f" in card and "band percentile" in card
    # interrupted: 5 answers (the third a skip) with a typo, then quit; the typo is asked again
    skipped = run_loop_steps[2].source_id
    expected = run_loop(
        session_search(df),
        lambda s, _sc: UNKNOWN if s == skipped else (ANOMALY if s in interesting else REGULAR),
        budget=10,
        pool_size=150,
    )
    assert expected[:3] != run_loop_steps[:3]  # the skip changed the model (not fitted as regular)
    part = tmp_path / "part.csv"
    script = answers_for([s.source_id for s in expected[:2]], interesting) + "maybe\n" + "s\n"
    script += answers_for([s.source_id for s in expected[3:5]], interesting) + "q\n"
    out1 = io.StringIO()
    assert (
        label_session(session_search(df), part, stdin=io.StringIO(script), stdout=out1, **SESSION_ARGS) == 5
    )
    assert "'maybe': answer y, n, s or q" in out1.getvalue()
    assert read_labels(part)["label"].tolist()[2] == "unknown"
    # resume: continues with what an uninterrupted session with the same answers would ask
    out2 = io.StringIO()
    script = answers_for([s.source_id for s in expected[5:]], interesting)
    label_session(session_search(df), part, stdin=io.StringIO(script), stdout=out2, budget=5, **SESSION_ARGS)
    assert "5 source(s) already answered" in out2.getvalue()
    shown1 = shown_sources(out1.getvalue())  # the 6th card was on screen when q was typed
    assert shown1 == [s.source_id for s in expected[:6]]
    assert shown1[:5] + shown_sources(out2.getvalue()) == [s.source_id for s in expected]
    assert len(read_labels(part)) == 10


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from skysift.anomaly import AnomalySettings, Search, build_space, label_session
    from skysift.config import default_config
    cfg = {"method": "aad", "n_trees": 60, "random_state": 2, "pool_size": 150}
    settings = AnomalySettings.from_config({**default_config()["anomaly"], **cfg})
    space = build_space(pd.read_parquet(sys.argv[1]), settings.search.space)
    search = Search(space, "aad", settings.search.detectors, seed=2)
    label_session(search, sys.argv[2], expert="eve", dr="dr24", pool_size=150, stdin=sys.stdin, stdout=sys.stdout)
    """
)


def test_killed_session_loses_no_answer(tmp_path, data):
    df, interesting = data
    features = tmp_path / "features.parquet"
    df.to_parquet(features)
    labels = tmp_path / "eve.csv"
    expected = run_loop(session_search(df), oracle(interesting), budget=10, pool_size=150)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(features), str(labels)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        for k, step in enumerate(expected[:4], start=1):
            proc.stdin.write("y\n" if step.source_id in interesting else "n\n")
            proc.stdin.flush()
            deadline = time.monotonic() + 60
            while (len(labels.read_text().splitlines()) if labels.exists() else 0) < k + 1:
                assert time.monotonic() < deadline, "the session did not write its answer"
                time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    saved = read_labels(labels)
    assert len(saved) == 4 and labels.read_text().endswith("\n")
    # resume in a new process state: the remaining questions are those of the uninterrupted run
    out = io.StringIO()
    script = answers_for([s.source_id for s in expected[4:]], interesting)
    label_session(
        session_search(df),
        labels,
        stdin=io.StringIO(script),
        stdout=out,
        budget=6,
        **{**SESSION_ARGS, "expert": "eve"},
    )
    assert shown_sources(out.getvalue()) == [s.source_id for s in expected[4:]]
    assert len(read_labels(labels)) == 10


def test_cli_label_reads_the_run(tmp_path, data, monkeypatch):
    from skysift.cli import main

    df, interesting = data
    results = tmp_path / "results"
    section = {"method": "isoforest", "n_trees": 40, "compare": ["lof"]}
    top = make_run(results, {"field000633": df}, anomaly_section(**section))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"anomaly": section}))
    lc = results / "candidates" / "lightcurves"
    lc.mkdir(parents=True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\nq\n"))
    schema = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
    first = top["isoforest"].iloc[0]  # the release's best source: the session walks down the ranking
    source = int(first["source_id"])
    (lc / f"lc_{int(first['objectid'])}.png").write_bytes(b"png")
    argv = ["label", "--labels", str(tmp_path / "me.csv"), "--expert", "me", "--config", str(tmp_path / "config.yaml"),
            "--schema", str(schema), "--session", str(results / "anomaly" / "session.json")]  # fmt: skip
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert main(argv) == 0
    assert f"source {source} " in out.getvalue()
    assert f"light curve: {lc / f'lc_{int(first.objectid)}.png'}" in out.getvalue()
    saved = read_labels(tmp_path / "me.csv")  # the shown objectid of the top source, answered "n"
    assert saved["label"].tolist() == ["regular"] and saved["expert"].tolist() == ["me"]
    assert saved["objectid"].iloc[0] in set(
        top["isoforest"].loc[top["isoforest"]["source_id"] == source, "objectid"]
    )
    # --method overrides anomaly.method; the answers already given are known, never asked again
    monkeypatch.setattr(sys, "stdin", io.StringIO("q\n"))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert main([*argv, "--method", "lof"]) == 0
    assert "skysift label: method lof, 1 source(s) already answered" in out.getvalue()
    assert f"source {source} " not in out.getvalue()
    # a method without a model of the run is a one-line error that says what to do
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main([*argv, "--method", "aad"]) == 2
    assert "no aad model or top-K table" in err.getvalue() and "anomaly.compare" in err.getvalue()


def test_the_session_file_names_the_run_wherever_the_tree_is_moved(tmp_path, data):
    import shutil

    from skysift.anomaly import read_session_files

    df, _ = data
    make_run(tmp_path / "a" / "results", {"field000633": df}, anomaly_section(n_trees=20, compare=[]))
    shutil.move(tmp_path / "a", tmp_path / "b")
    results = tmp_path / "b" / "results"
    files = read_session_files(results / "anomaly" / "session.json")
    assert files.ranked == {"isoforest": results / "anomaly" / "ranked" / "isoforest.parquet"}
    assert files.models["isoforest"][0].exists() and files.features == (
        results / "features" / "field000633.parquet",
    )
    assert files.lightcurve_dir == results / "candidates" / "lightcurves"
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(InputError, match=r"bad.json: not a session file"):
        read_session_files(bad)
    with pytest.raises(InputError, match=r"missing.json: no such session file"):
        read_session_files(tmp_path / "missing.json")
