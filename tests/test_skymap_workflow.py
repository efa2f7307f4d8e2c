"""Acceptance: a sky map centred on a simulated kilonova of a tiny demo run finds it at the top, and three
demo candidates round-trip through a fake TNS (real snakemake, one tiny run shared by this module)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from astropy.table import Table

from conftest import TINY_RUN_CONFIG, copy_run
from servers import FakeTNSBulk
from skysift.candidates import SELECTIONS
from skysift.cli import main as cli_main
from skysift.lightcurves import manifest_files, read_epochs
from workflow_runner import ROOT, run_snakemake

KEY = "tns-bulk-s3cr3t-workflow-0123456789"
LISTS = {
    "anomalies": {"select": "anomalies", "top_n": 100},
    "unknown_transients": {"select": "unknown_transients", "top_n": 100, "min_probability": 0.4},
    # the kilonova list of skysift.candidates (searched when that selection exists)
    **(
        {"kilonova": {"select": "kilonova", "top_n": 100, "min_probability": 0.5}}
        if "kilonova" in SELECTIONS
        else {}
    ),
}
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())["properties"]


def known(section: str, values: dict) -> dict:
    """The overrides the config schema knows (cheaper training where the keys exist)."""
    props = SCHEMA[section]["properties"]
    return {k: v for k, v in values.items() if k in props}


KILONOVA_TRAINING = {
    "n_basis": 100,
    "n_kilonova": 150,
    "n_per_class": 30,
    "n_constant": 300,
    "n_estimators": 50,
}
#: The session's tiny run (conftest) with lighter training and the candidate lists searched here.
TINY = {
    **TINY_RUN_CONFIG,
    "classify": {
        "n_estimators": 30,
        "cv_folds": 3,
        **({"kilonova": KILONOVA_TRAINING} if "kilonova" in SCHEMA["classify"]["properties"] else {}),
    },
    "anomaly": {"n_trees": 50, **known("anomaly", {"compare": []})},
    "candidates": {"lists": LISTS},
}

pytestmark = [pytest.mark.workflow, pytest.mark.e2e]


def snakemake(workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real snakemake on the repository's Snakefile inside ``workdir`` (fails the test on error)."""
    return run_snakemake(workdir, "--cores", "2", *args, env=env)


@pytest.fixture(scope="module")
def run(tiny_run, tmp_path_factory):
    """Tiny run up to the candidate lists; two maps (flat RING, multi-order) centred on a listed kilonova."""
    workdir = copy_run(tiny_run[0], tmp_path_factory.mktemp("gw") / "run", config=TINY)
    snakemake(workdir, *[f"results/candidates/{name}.ecsv" for name in LISTS])
    unconfigured = snakemake(workdir, "-n").stdout

    truth = pd.read_parquet(workdir / "results/demo/truth.parquet")
    kilonovae = set(truth.loc[truth["class"] == "kilonova", "objectid"])
    listed = {n: [o for o in Table.read(workdir / f"results/candidates/{n}.ecsv")["objectid"] if o in kilonovae]
              for n in LISTS}  # fmt: skip
    home = next(n for n in ("kilonova", "unknown_transients", "anomalies") if listed.get(n))
    target = int(listed[home][0])
    # the kilonova's DR epochs (too few for results/clean): the merger half a day before the first one
    epochs = read_epochs(manifest_files(sorted((workdir / "results/fetch").glob("*.tsv"))), [target])
    event = float(epochs["hmjd"].min()) - 0.5
    table = workdir / f"results/candidates/{home}.ecsv"
    common = ["--objectid", str(target), "--table", str(table), "--event-mjd", str(event), "--sigma", "3"]
    assert (
        cli_main(
            ["skymap-demo", str(workdir / "gw_flat.fits"), *common, "--nside", "256", "--ordering", "ring"]
        )
        == 0
    )
    assert (
        cli_main(["skymap-demo", str(workdir / "gw_moc.fits"), *common, "--multiorder", "--max-order", "11"])
        == 0
    )

    config = {
        **TINY,
        "skymap": {"maps": {"gw_flat": "gw_flat.fits", "gw_moc": "gw_moc.fits"}, "window_days": [0, 14]},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    configured = snakemake(workdir, "-n").stdout
    snakemake(workdir, *[f"results/skymap/{m}/counterparts.ecsv" for m in ("gw_flat", "gw_moc")])
    return {"workdir": workdir, "target": target, "home": home, "event": event, "listed": listed,
            "dry": (unconfigured, configured), "config": config}  # fmt: skip


def test_maps_join_the_default_target_only_when_configured(run):
    unconfigured, configured = run["dry"]
    assert "select_skymap_counterparts" not in unconfigured
    assert "rule select_skymap_counterparts" in configured or "select_skymap_counterparts " in configured
    assert "report_to_tns" not in configured


@pytest.mark.parametrize("name", ["gw_flat", "gw_moc"])
def test_the_kilonova_is_at_the_top(run, name):
    out = run["workdir"] / "results/skymap" / name
    table = Table.read(out / "counterparts.ecsv")
    row = table[table["objectid"] == run["target"]]
    assert len(row) == 1, f"kilonova {run['target']} (list {run['home']}) missing from {name}"
    assert row["skymap_rank"][0] <= 3 and row["credible_level"][0] < 0.05
    assert run["home"] in row["lists"][0].split(",")
    assert row["n_before"][0] == 0 and row["dt_first"][0] == pytest.approx(0.5, abs=1e-6)
    assert all(table["credible_level"] <= 0.9) and all((table["dt_first"] >= 0) & (table["n_window"] > 0))
    assert list(table["skymap_rank"]) == list(range(1, len(table) + 1))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counterparts"] == len(table) and summary["event_mjd"] == pytest.approx(run["event"])
    # a 3-degree Gaussian: the 90% region is a cap of radius 3 sqrt(2 ln 10) = 6.4 deg, ~130 deg^2
    assert 110 < summary["region_area_deg2"] < 150
    assert (out / "skymap.png").read_bytes()[:4] == b"\x89PNG"
    from mocpy import MOC  # the credible region as a MOC beside the table, with the same area

    moc = MOC.load(str(out / "credible_region.moc.fits"), format="fits")
    assert moc.sky_fraction * 41252.96 == pytest.approx(summary["region_area_deg2"], rel=1e-4)
    assert (run["workdir"] / f"logs/select_skymap_counterparts/{name}.log").exists()
    assert (run["workdir"] / f"results/benchmarks/select_skymap_counterparts/{name}.tsv").exists()


def test_three_demo_candidates_round_trip_through_the_fake_tns(run, monkeypatch):
    """The workflow builds the report and never sends it; `skysift report-tns --send` sends it exactly once."""
    workdir = run["workdir"]
    fake = FakeTNSBulk(KEY, pending_polls=1)
    with fake as url:
        report = {"skymap": "gw_moc", "top_n": 3, "reporting_group_id": 42, "reporter": "skysift test",
                  "url": url, "bot_id": 4242, "bot_name": "skysift_test", "poll_initial_seconds": 0.2,
                  "min_interval": 0}  # fmt: skip
        (workdir / "config.yaml").write_text(yaml.safe_dump({**run["config"], "tns_report": report}))
        snakemake(workdir, "report_to_tns", env={"TNS_API_KEY": KEY})
        assert not fake.bodies  # the workflow never sends
        built = json.loads((workdir / "results/tns/at_report.json").read_text())
        selection = json.loads((workdir / "results/tns/selection.json").read_text())
        assert selection["sent"] is False and selection["entries"] == len(built["at_report"])
        manifests = sorted(str(p) for p in (workdir / "results/fetch").glob("*.tsv"))
        args = ["report-tns", str(workdir / "results/skymap/gw_moc/counterparts.ecsv"), str(workdir / "sent.json"),
                "--config", str(workdir / "config.yaml"), "--manifests", *manifests, "--send",
                "--ledger", str(workdir / "results/tns/sent.jsonl")]  # fmt: skip
        monkeypatch.setenv("TNS_API_KEY", KEY)
        assert cli_main(args) == 0
        assert cli_main(args) == 2  # a second send is refused: the ledger has them
    sent = json.loads((workdir / "sent.json").read_text())
    assert list(fake.reports.values()) == [sent] and sent == built  # what the workflow built is what was sent
    counterparts = Table.read(workdir / "results/skymap/gw_moc/counterparts.ecsv")
    refused = {r["objectid"] for r in selection["refused"]}
    expected = [f"ZTFDR{o}" for o in counterparts["objectid"][:3] if int(o) not in refused]
    assert [e["internal_name"] for e in sent["at_report"].values()] == expected and expected
    log = (workdir / "logs/report_to_tns.log").read_text()
    assert "skysift report-tns --send" in log and KEY not in log
