"""Per-source multiband rows and the per-source classifier (classify.unit: source)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table

from conftest import TINY_RUN_CONFIG, copy_run
from skysift.classify import ClassifierSettings, LabelSource, run_predictions, run_training
from skysift.config import SCHEMA_PATH, ConfigError, default_config, validate_config
from skysift.features.per_source import source_labels, source_members, source_table
from skysift.features.table import feature_columns
from skysift.io import InputError, write_parquet_df
from test_classify_run import _outputs
from workflow_runner import run_snakemake

CLASSES = ("blue_flat", "red_flat", "blue_var", "red_var")


def two_band_release(n_per_class: int = 60, seed: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    """Per-band feature rows of sources whose class shows only in g and r together.

    ``level`` separates blue from red only as the g - r difference (each band alone spans both),
    ``spread`` separates flat from variable; a g-only or r-only classifier confuses blue and red.
    """
    rng = np.random.default_rng(seed)
    rows, labels = [], {}
    oid = 633_101_100_000_000
    for c in CLASSES:
        for _ in range(n_per_class):
            base = rng.uniform(16.0, 20.0)
            colour = 0.9 if c.startswith("red") else -0.3
            spread = 1.0 if c.endswith("var") else 0.05
            members = []
            for filterid, offset in ((1, colour), (2, 0.0)):
                oid += 7
                rows.append(
                    {
                        "objectid": oid,
                        "filterid": np.int8(filterid),
                        "fieldid": np.int16(633),
                        "rcid": np.int8(4),
                        "ra": 10.0,
                        "dec": 20.0,
                        "n_points": int(rng.integers(20, 90)),
                        "weighted_mean": base + offset + rng.normal(0, 0.05),
                        "amplitude": spread * rng.uniform(0.8, 1.2),
                        "other": rng.normal(),
                    }
                )
                members.append(oid)
                labels[oid] = c
            for row in rows[-2:]:
                row["source_id"] = min(members)
    # a g-only source and a source with two r light curves (a chain): the longer one is used
    oid += 7
    rows.append({**rows[0], "objectid": oid, "source_id": oid, "n_points": 30})
    rows.append({**rows[1], "objectid": oid + 7, "source_id": rows[1]["source_id"], "n_points": 5})
    return pd.DataFrame(rows), pd.Series(labels, name="label")


def test_source_table_puts_g_and_r_side_by_side():
    df, _ = two_band_release(n_per_class=3)
    table = source_table(df)
    assert len(table) == df["source_id"].nunique() and table["objectid"].is_monotonic_increasing
    first = df.iloc[:2].set_index("filterid")
    row = table.set_index("objectid").loc[df.loc[0, "source_id"]]
    assert row["weighted_mean_g"] == pytest.approx(first.loc[1, "weighted_mean"])
    assert row["weighted_mean_r"] == pytest.approx(first.loc[2, "weighted_mean"])  # not the 5-point chain
    assert row["n_points_r"] == first.loc[2, "n_points"] and row["n_bands"] == 2
    assert row["colour_gr_mean"] == pytest.approx(row["weighted_mean_g"] - row["weighted_mean_r"])
    g_only = table.set_index("objectid").loc[df["objectid"].iloc[-2]]
    assert g_only["n_bands"] == 1 and np.isnan(g_only["weighted_mean_r"])
    assert "source_id" not in feature_columns(df)  # an id is never a feature of the per-band model


def test_source_labels_drop_members_that_disagree():
    df, labels = two_band_release(n_per_class=2)
    members = source_members(df)
    src = int(df.loc[0, "source_id"])
    mixed = labels.copy()
    mixed[df.loc[1, "objectid"]] = "something_else"
    assert source_labels(labels, members)[src] == labels[df.loc[0, "objectid"]]
    assert src not in source_labels(mixed, members).index
    assert len(source_labels(mixed, members)) == len(source_labels(labels, members)) - 1


def test_without_the_association_the_error_names_the_config_key():
    df, _ = two_band_release(n_per_class=1)
    with pytest.raises(InputError, match="features.colours: true"):
        source_table(df.drop(columns=["source_id"]))
    config = default_config()
    config["classify"]["unit"] = "source"
    with pytest.raises(ConfigError, match="classify.unit: source needs features.colours: true"):
        validate_config(config, SCHEMA_PATH)
    config["features"]["colours"] = True
    validate_config(config, SCHEMA_PATH)


@pytest.mark.parametrize("unit", ["object", "source"])
def test_the_per_source_classifier_sees_what_one_band_cannot(tmp_path, unit):
    df, labels = two_band_release()
    # batches are fields and the association is per field: a source's rows are in one batch file
    batch = df["source_id"].map(lambda s: hash(int(s)) % 3)
    paths = [write_parquet_df(df[batch == b], tmp_path / f"features_{b}.parquet") for b in range(3)]
    table = tmp_path / "labels.csv"
    labels.rename_axis("objectid").reset_index().to_csv(table, index=False)
    classify = default_config()["classify"]
    classify.update(n_estimators=60, cv_folds=3, unit=unit)
    out = _outputs(tmp_path, unit)
    source = LabelSource.from_inputs(
        {"label_table": str(table)}, {**classify["label_table"], "path": str(table)}
    )
    report = run_training(paths, source, ClassifierSettings.from_config(classify), out)
    macro_f1 = report["cv"]["macro"]["f1"]
    predictions = pd.concat(
        run_predictions(p, out.model, out.metrics, tmp_path / f"pred_{unit}_{i}.parquet")
        for i, p in enumerate(paths)
    )
    assert sorted(predictions["objectid"]) == sorted(df["objectid"])
    if unit == "object":
        assert macro_f1 < 0.8, macro_f1  # one band alone mixes blue and red
        return
    assert json.loads(out.metrics.read_text())["unit"] == "source"
    assert report["n_train"] == 4 * 60 and macro_f1 > 0.95, (report["n_train"], macro_f1)
    same_source = predictions.groupby("source_id")["prob_red_var"].nunique()
    assert (same_source == 1).all()  # every member carries its source's probabilities
    truth = labels.reindex(predictions["objectid"]).to_numpy()
    assert (predictions["predicted_class"].to_numpy() == truth).mean() > 0.95


@pytest.mark.workflow
@pytest.mark.e2e
def test_the_workflow_classifies_sources_and_lists_every_member(tiny_run, tmp_path):
    config = {
        **TINY_RUN_CONFIG,
        "features": {"colours": True},
        "classify": {**TINY_RUN_CONFIG["classify"], "unit": "source", "labels": "truth"},
    }
    workdir = copy_run(tiny_run[0], tmp_path / "run", config)
    run_snakemake(workdir, "--cores", "2", "results/candidates/candidates.ecsv")
    metrics = json.loads((workdir / "results/classify/metrics.json").read_text())
    assert metrics["status"] == "trained" and metrics["unit"] == "source", metrics.get("reason")
    predictions = pd.concat(
        pd.read_parquet(p) for p in (workdir / "results/classify/predictions").glob("*.parquet")
    )
    features = pd.concat(pd.read_parquet(p) for p in (workdir / "results/features").glob("field*.parquet"))
    assert sorted(predictions["objectid"]) == sorted(features["objectid"])
    n_sources = features["source_id"].nunique()  # classes under classify.min_class_count sources are dropped
    assert 0.95 * n_sources <= metrics["n_train"] <= n_sources < len(features), metrics["n_train"]
    assert (predictions.groupby("source_id")["max_probability"].nunique() == 1).all()
    candidates = Table.read(workdir / "results/candidates/candidates.ecsv")
    assert len(candidates) > 0 and "predicted_class" in candidates.colnames
