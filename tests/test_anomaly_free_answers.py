"""Catalog knowledge as free answers: cross-matched sources of a common class are known regulars,
kept apart from the experts' labels files, fitted by AAD exactly as the same answers given by an expert."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from anomaly_run import anomaly_section, make_run
from skysift.anomaly import AnomalySettings, append_label, read_labels, run_evaluation
from skysift.anomaly.free import CATALOG_PREFIX, free_answers, is_free, with_free_answers
from skysift.anomaly.labels import merge_labels
from skysift.anomaly.session import label_command
from test_anomaly_active import make_sources

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
FREE = {"enabled": True, "classes": ["eclipsing_binary", "SN Ia"], "max_sep_arcsec": 1.0, "max_answers": 1000,
        "exclude_known": False}  # fmt: skip
SECTION = {"method": "aad", "compare": ["isoforest"], "n_trees": 60, "top_n": 20}


@pytest.fixture(scope="module")
def data():
    return make_sources(n_sources=300, n_interesting=10, n_boring=30, seed=3)


def write_crossmatch(path: Path, df: pd.DataFrame) -> tuple[list[int], list[int]]:
    """A cross-match table naming the 'boring' outliers eclipsing binaries (both bands); plus a far match,
    a class that is not listed and a raw TNS type that is. Returns (known sources, sources not known)."""
    boring = [int(o) for o in df.attrs["boring"]]
    known, not_known = boring[:-2], boring[-2:]
    rows = []
    for oid in df["objectid"]:
        source = 633_000_000_000_000 + 10**11 + int(oid) % 10**11
        if source in known[:-1]:
            rows.append(("simbad", f"V* {source}", "EB*", 0.3, "eclipsing_binary"))
        elif source == known[-1]:
            rows.append(("tns", f"SN 2026{source % 1000}", "SN Ia", 0.5, ""))  # raw type listed
        elif source == not_known[0]:
            rows.append(("simbad", f"V* {source}", "EB*", 1.8, "eclipsing_binary"))  # too far
        elif source == not_known[1]:
            rows.append(("simbad", f"Lev {source}", "Lev", 0.2, "microlensing"))  # not listed
        else:
            continue
        rows[-1] = (int(oid), *rows[-1])
    table = pd.DataFrame(
        rows, columns=["objectid", "catalog", "match_name", "match_type", "sep_arcsec", "label"]
    )
    table["match_mag"] = np.nan
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(path)
    return known, not_known


def settings(**free) -> AnomalySettings:
    return AnomalySettings.from_config(anomaly_section(**SECTION, free_answers={**FREE, **free}))


def test_free_answers_are_catalog_derived_regulars(tmp_path, data):
    df, _ = data
    xm = tmp_path / "crossmatch" / "field000633.parquet"
    known, not_known = write_crossmatch(xm, df)
    free = free_answers([xm], settings().free_answers)
    sources = set(633_000_000_000_000 + 10**11 + free["objectid"] % 10**11)
    assert sources == set(known)  # not the far match, not the unlisted class
    assert len(free) == 2 * len(known)  # both bands of each source
    assert (free["label"] == "regular").all() and is_free(free).all()
    assert set(free["label_expert"]) == {f"{CATALOG_PREFIX}simbad", f"{CATALOG_PREFIX}tns"}
    assert (free["label_origin"] == str(xm)).all()
    assert set(free["known_class"]) == {"eclipsing_binary", "SN Ia"}
    assert free_answers([xm], settings(enabled=False).free_answers).empty
    capped = free_answers([xm], settings(max_answers=5).free_answers)
    assert len(capped) == 5 and set(capped["objectid"]) <= set(free["objectid"])
    # read batch by batch: the capped subset does not depend on how the rows are split into files
    table = pd.read_parquet(xm).sort_values("objectid", ignore_index=True)
    halves = [tmp_path / "split" / f"field{i}.parquet" for i in (1, 2)]
    halves[0].parent.mkdir()
    middle = len(table) // 2
    table.iloc[:middle].to_parquet(halves[0])
    table.iloc[middle:].to_parquet(halves[1])
    for order in (halves, halves[::-1]):
        split = free_answers(order, settings(max_answers=5).free_answers)
        assert split["objectid"].tolist() == capped["objectid"].tolist()
    # an expert's answer about an objectid wins over the catalog's
    expert = tmp_path / "e.csv"
    append_label(expert, int(free["objectid"].iloc[0]), "anomaly", "ann")
    both = with_free_answers(merge_labels([expert]), free)
    row = both.loc[both["objectid"] == free["objectid"].iloc[0]].iloc[0]
    assert row["label"] == "anomaly" and row["label_expert"] == "ann" and row["known_class"] == ""
    assert len(both) == len(free)


def test_free_answers_never_reach_a_labels_file_and_rank_as_explicit_answers(tmp_path, data):
    df, _ = data
    xm = tmp_path / "free" / "results" / "crossmatch" / "field000633.parquet"
    known, _ = write_crossmatch(xm, df)
    expert = tmp_path / "expert.csv"
    append_label(expert, int(df["objectid"].iloc[7]), "regular", "ann", note="checked")
    before = expert.read_bytes()
    section = anomaly_section(**SECTION, labels=[str(expert)], free_answers=FREE)
    top = make_run(
        tmp_path / "free" / "results", {"field000633": df}, section, label_files=[expert], crossmatch=[xm]
    )
    assert expert.read_bytes() == before  # never appended to
    assert read_labels(expert)["expert"].tolist() == ["ann"]
    fitted = pd.read_parquet(tmp_path / "free" / "results" / "anomaly" / "model" / "labels.parquet")
    assert is_free(fitted).sum() == 2 * len(known)  # the derived table the models were fitted with
    aad = top["aad"]
    free_rows = aad.loc[aad["label_expert"].str.startswith(CATALOG_PREFIX)]
    assert set(free_rows["source_id"]) == set(known)
    assert (free_rows["label_origin"] == str(xm)).all() and (free_rows["known_class"] != "").all()
    assert aad.loc[aad["objectid"] == df["objectid"].iloc[7], "label_expert"].item() == "ann"

    # the same answers given explicitly by an expert: the same AAD ranking, row for row
    explicit = tmp_path / "explicit.csv"
    append_label(explicit, int(df["objectid"].iloc[7]), "regular", "ann", note="checked")
    for oid in free_rows["objectid"]:
        append_label(explicit, int(oid), "regular", "bob")
    top_explicit = make_run(tmp_path / "explicit" / "results", {"field000633": df}, anomaly_section(**SECTION),
                            label_files=[explicit])  # fmt: skip
    assert aad["objectid"].tolist() == top_explicit["aad"]["objectid"].tolist()
    np.testing.assert_array_equal(aad["method_score"], top_explicit["aad"]["method_score"])
    # ... and not the ranking without them: the answers did change the model
    plain = make_run(tmp_path / "plain" / "results", {"field000633": df}, anomaly_section(**SECTION),
                     label_files=[expert])  # fmt: skip
    assert not np.array_equal(plain["aad"]["method_score"], aad["method_score"])
    assert (
        plain["aad"]["source_id"].head(len(known) * 2).isin(known).sum()
        > aad["source_id"].head(len(known) * 2).isin(known).sum()
    )


def test_exclude_known_leaves_the_known_sources_out(tmp_path, data):
    df, _ = data
    xm = tmp_path / "results" / "crossmatch" / "field000633.parquet"
    known, not_known = write_crossmatch(xm, df)
    section = anomaly_section(**SECTION, free_answers={**FREE, "exclude_known": True})
    top = make_run(tmp_path / "results", {"field000633": df}, section, crossmatch=[xm])
    for table in top.values():
        assert not table["source_id"].isin(known).any() and table["source_id"].isin(not_known).any()
        assert table["anomaly_rank"].tolist() == list(range(1, len(table) + 1))
        assert len(table) == len(df) - 2 * len(known)


def test_label_session_never_asks_about_free_answers_nor_writes_them(tmp_path, data):
    df, _ = data
    results = tmp_path / "results"
    known, _ = write_crossmatch(results / "crossmatch" / "field000633.parquet", df)
    section = {**SECTION, "free_answers": FREE}
    make_run(results, {"field000633": df}, anomaly_section(**section),
             crossmatch=[results / "crossmatch" / "field000633.parquet"])  # fmt: skip
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"anomaly": section}))
    out = io.StringIO()
    labels = tmp_path / "me.csv"
    n = label_command(labels, "me", config_path=tmp_path / "config.yaml", schema=SCHEMA,
                      session=results / "anomaly" / "session.json", budget=40, stdin=io.StringIO("n\n" * 40),
                      stdout=out)  # fmt: skip
    assert n == 40
    assert f"{len(known)} source(s) already answered ({len(known)} by the catalogs)" in out.getvalue()
    shown = {int(line.split()[2]) for line in out.getvalue().splitlines() if line.startswith("#")}
    assert len(shown) == 40 and not shown & set(known)
    saved = read_labels(labels)
    assert len(saved) == 40 and (saved["expert"] == "me").all()


def test_the_oracle_evaluation_starts_from_the_free_answers(tmp_path, data):
    df, interesting = data
    results = tmp_path / "results"
    xm = results / "crossmatch" / "field000633.parquet"
    known, _ = write_crossmatch(xm, df)
    section = anomaly_section(**SECTION, free_answers=FREE, pool_size=None,
                              evaluation={"methods": ["isoforest", "aad"], "budgets": [10, 30], "seeds": [0]})  # fmt: skip
    make_run(results, {"field000633": df}, section, crossmatch=[xm])
    truth = pd.DataFrame(
        {
            "objectid": df["objectid"],
            "class": np.where(
                (633_000_000_000_000 + 10**11 + df["objectid"] % 10**11).isin(interesting),
                "kilonova",
                "constant",
            ),
        }
    )
    model = results / "anomaly" / "model"
    kwargs = dict(models={m: (model / f"{m}.npz", model / f"{m}.json") for m in ("isoforest", "aad")},
                  sample=(model / "sample.npz", model / "sample.json"),
                  ranked={m: results / "anomaly" / "ranked" / f"{m}.parquet" for m in ("isoforest", "aad")})  # fmt: skip
    oracle = AnomalySettings.from_config(section).oracle
    with_free = run_evaluation([results / "features" / "field000633.parquet"], truth, oracle, table=tmp_path / "t.csv",
                               curves=tmp_path / "c.csv", plot=tmp_path / "p.png", crossmatch=[xm], **kwargs)  # fmt: skip
    curves = pd.read_csv(tmp_path / "c.csv")
    without = run_evaluation([results / "features" / "field000633.parquet"], truth, oracle, table=tmp_path / "t0.csv",
                             curves=tmp_path / "c0.csv", plot=tmp_path / "p0.png", **kwargs)  # fmt: skip
    # isoforest walks down its ranking: the known 'boring' outliers it ranks first are skipped, so it
    # finds at least as many interesting sources in 10 questions, and strictly more here
    iso = with_free.set_index(["method", "budget"])["mean"]
    iso0 = without.set_index(["method", "budget"])["mean"]
    assert iso[("isoforest", 10)] > iso0[("isoforest", 10)]
    assert len(curves) == 60
