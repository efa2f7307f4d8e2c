"""Tests of user label tables (CSV/ECSV/parquet, taxonomy mapping, errors) and small-class merging."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table

from skysift.classify import train_classifier
from skysift.classify.labels import LabelSource, labels_from_table
from skysift.classify.pipeline import merge_small_classes
from skysift.io import InputError, write_parquet_df
from test_classify import make_features

TABLE = pd.DataFrame(
    {
        "oid": [633101100000001, 633101100000002, 633101100000003, 633101100000004, 633101100000001],
        "type": ["rrlyrae", "snia", "", "cepheid", "rrlyrae"],  # an empty label, a repeated identical row
    }
)


@pytest.mark.parametrize("suffix", ["csv", "ecsv", "parquet"])
def test_label_table_round_trip_in_every_format(tmp_path, suffix):
    path = tmp_path / f"labels.{suffix}"
    if suffix == "csv":
        TABLE.to_csv(path, index=False)
    elif suffix == "ecsv":
        Table.from_pandas(TABLE).write(path, format="ascii.ecsv")
    else:
        write_parquet_df(TABLE, path)
    labels = labels_from_table(path, id_column="oid", label_column="type")
    assert labels.index.name == "objectid" and labels.index.dtype == np.int64
    assert labels.to_dict() == {
        633101100000001: "rrlyrae",
        633101100000002: "snia",
        633101100000004: "cepheid",
    }


def test_catalog_types_are_mapped_through_the_taxonomy(caplog):
    table = pd.DataFrame({"objectid": [1, 2, 3, 4], "label": ["RRAB", "EA/DM", "MISC", "RRC:"]})
    with caplog.at_level(logging.WARNING, logger="skysift.classify"):
        labels = labels_from_table(table, taxonomy="vsx")
    assert labels.to_dict() == {1: "rrlyrae", 2: "eclipsing_binary", 4: "rrlyrae"}
    assert any("map to no class" in r.getMessage() and "MISC" in r.getMessage() for r in caplog.records)
    with pytest.raises(InputError, match="not a catalog of the taxonomy"):
        labels_from_table(table, taxonomy="gaia")


def test_label_table_errors_name_the_file_and_column(tmp_path):
    path = tmp_path / "labels.csv"
    TABLE.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"labels\.csv.*'objectid'"):
        labels_from_table(path)  # default id column is objectid
    with pytest.raises(InputError, match=r"labels\.csv.*'class'"):
        labels_from_table(path, id_column="oid", label_column="class")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"objectid": ["ZTF18abcdefg"], "label": ["snia"]}).to_csv(bad, index=False)
    with pytest.raises(InputError, match=r"bad\.csv.*'objectid'.*not integer"):
        labels_from_table(bad)
    clash = tmp_path / "clash.csv"
    pd.DataFrame({"objectid": [5, 5], "label": ["snia", "snii"]}).to_csv(clash, index=False)
    with pytest.raises(InputError, match=r"clash\.csv.*different labels"):
        labels_from_table(clash)
    with pytest.raises(InputError, match=r"missing\.csv.*not found"):
        labels_from_table(tmp_path / "missing.csv")


def test_label_source_picks_the_rule_input(tmp_path):
    path = tmp_path / "labels.csv"
    TABLE.to_csv(path, index=False)
    section = {"path": str(path), "id_column": "oid", "label_column": "type", "taxonomy": None}
    labels = LabelSource.from_inputs({"label_table": str(path)}, section).read()
    assert len(labels) == 3
    truth = tmp_path / "truth.parquet"
    write_parquet_df(pd.DataFrame({"objectid": [7, 8], "class": ["snia", "agn"]}), truth)
    assert LabelSource.from_inputs({"truth": str(truth)}, None).read().to_dict() == {7: "snia", 8: "agn"}
    with pytest.raises(InputError, match="classify.label_table"):
        LabelSource(table=str(path)).read()  # a table without its column settings
    with pytest.raises(InputError, match="classify.labels"):
        LabelSource().read()


def test_a_label_table_without_rows_gives_no_labels(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("objectid,label\n")
    section = {"path": str(path), "id_column": "objectid", "label_column": "label", "taxonomy": None}
    labels = LabelSource.from_inputs({"label_table": str(path)}, section).read()
    assert len(labels) == 0 and labels.index.name == "objectid"


def test_small_classes_merge_into_their_group_then_drop(caplog):
    y = np.array(["constant"] * 10 + ["rrlyrae"] * 10 + ["kilonova"] * 2 + ["tde"] * 3 + ["cv"] * 1)
    with caplog.at_level(logging.INFO, logger="skysift.classify"):
        merged_y, merged, dropped = merge_small_classes(y, 5, "merge")
    assert merged == {"cv": "stochastic", "kilonova": "transient", "tde": "transient"}
    assert (merged_y == "transient").sum() == 5
    assert dropped == {"stochastic": 1}  # still below the minimum after merging
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "into its group 'transient'" in messages and "dropping class 'stochastic'" in messages
    _, merged, dropped = merge_small_classes(y, 5, "drop")
    assert merged == {} and dropped == {"cv": 1, "kilonova": 2, "tde": 3}
    # explicit renames come first and count towards the minimum
    _, merged, dropped = merge_small_classes(y, 5, "drop", {"kilonova": "fast", "tde": "fast"})
    assert merged == {"kilonova": "fast", "tde": "fast"} and dropped == {"cv": 1}
    with pytest.raises(ValueError, match="small_classes"):
        merge_small_classes(y, 5, "keep")


def test_training_reports_counts_before_and_after_merging():
    df, labels = make_features({"constant": 40, "rrlyrae": 40, "snia": 3, "snii": 3}, seed=6)
    model, report = train_classifier(
        df, labels, n_estimators=20, min_class_count=5, small_classes="merge", cv_folds=3
    )
    assert report["class_counts_before"] == {"constant": 40, "rrlyrae": 40, "snia": 3, "snii": 3}
    assert report["class_counts"] == {"constant": 40, "rrlyrae": 40, "transient": 6}
    assert report["merged_classes"] == {"snia": "transient", "snii": "transient"}
    assert report["dropped_classes"] == {}
    assert list(model.classes_) == ["constant", "rrlyrae", "transient"]
    # hierarchical mode places a merged group class under that group
    model, report = train_classifier(
        df, labels, n_estimators=10, small_classes="merge", hierarchical=True, cv_folds=0
    )
    assert "transient" in report["classes"]
