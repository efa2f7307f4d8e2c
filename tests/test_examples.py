"""Every config under config/examples/ runs through the default target, as a user would run it, against
local fake services (IRSA bulk files, SNAD, CDS XMatch) on 127.0.0.1 instead of the real ones.

Each example is taken as shipped; only what points outside this machine (service URLs, the user's own
files) and the size of the run (fields, CCDs, objects) is replaced. A new example needs an adapter
here (``ADAPTERS``): an example without one fails ``test_every_example_has_an_adapter``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from astropy.table import Table

from servers import FakeCDS, FakeServices
from workflow_runner import ROOT, run_snakemake

pytestmark = pytest.mark.workflow

EXAMPLES = ROOT / "config" / "examples"
HTTP = {"timeout": 10, "retries": 3, "backoff": 0.01, "backoff_max": 0.1, "min_interval": 0.0}
FAST = {"classify": {"n_estimators": 30, "cv_folds": 2}, "anomaly": {"n_trees": 50}}
WALL_TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """A small served release (field 633, CCD 1, two quadrants) behind fake IRSA/SNAD and CDS XMatch."""
    from skysift.simulate import simulate_release

    root = tmp_path_factory.mktemp("served")
    simulate_release(root, n_objects=1200, fields=[633], ccds=[1], quadrants=[1, 2], seed=5)
    catalogs = root / "catalogs"
    simbad = pd.read_parquet(catalogs / "simbad.parquet").rename(columns={"otype": "main_type"})
    vsx = pd.read_parquet(catalogs / "vsx.parquet").rename(columns={"name": "Name", "vtype": "Type"})
    gaia = simbad[["ra", "dec"]].assign(Source=[f"{4_000_000_000 + i}" for i in range(len(simbad))])
    cds = FakeCDS(
        {
            name: Table.from_pandas(t)
            for name, t in (("simbad", simbad), ("B/vsx/vsx", vsx), ("I/355/gaiadr3", gaia))
        }
    )
    with FakeServices(root) as fake, cds as xmatch_url:
        yield root, fake, xmatch_url


def _online(config: dict, xmatch_url: str) -> dict:
    """The example's catalogs and HTTP settings pointed at the fakes; the run made small."""
    config["fetch"].update(fields=[633], http={**config["fetch"].get("http", {}), **HTTP})
    config["fetch"].pop("ccds", None)
    crossmatch = config.setdefault("crossmatch", {})
    crossmatch["xmatch"] = {
        **crossmatch.get("xmatch", {}),
        "url": xmatch_url,
        "backoff": 0.01,
        "min_interval": 0.0,
    }
    return {**config, **FAST}


def irsa_bulk(config: dict, workdir: Path, services) -> dict:
    """IRSA's bulk parquet tree: the fake serves the same layout and checksum.md5."""
    _, fake, xmatch_url = services
    config = _online(config, xmatch_url)
    config["fetch"]["bulk_url"] = fake.bulk_url
    return config


def snad_cones(config: dict, workdir: Path, services) -> dict:
    """SNAD's API by cones: the user's cones file is written around a few served objects."""
    root, fake, xmatch_url = services
    truth = pd.read_parquet(root / "truth.parquet").drop_duplicates("source_id").head(25)
    cones = Path(config["fetch"]["cones_file"])
    truth[["ra", "dec"]].to_csv(workdir / cones, index=False)
    config = _online(config, xmatch_url)
    config["fetch"]["snad_url"] = fake.url
    config["clean"] = {**config.get("clean", {}), "min_epochs": 3}
    return config


def gw_demo(config: dict, workdir: Path, services) -> dict:
    """The demo with a sky map that `skysift skymap-demo` centres on a simulated kilonova (as the README says)."""
    config = {**config, **FAST, "demo": {"n_objects": 1500, "fields": [633], "ccds": [1], "seed": 11}}
    config["demo"]["class_fractions"] = {"kilonova": 0.02}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(workdir, "--cores", "2", "results/demo/truth.parquet")
    truth = pd.read_parquet(workdir / "results/demo/truth.parquet")
    kilonova = truth[truth["class"] == "kilonova"].iloc[0]
    skymap = workdir / config["skymap"]["maps"]["gw_demo"]
    subprocess.run(
        [str(Path(sys.executable).with_name("skysift")), "skymap-demo", str(skymap), "--ra", str(kilonova["ra"]),
         "--dec", str(kilonova["dec"]), "--event-mjd", str(kilonova["t0"] - 1.0), "--sigma", "3"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return config


def realistic_demo(config: dict, workdir: Path, services) -> dict:
    """The hard demo variant, as shipped but smaller (one field, one CCD)."""
    return {**config, **FAST, "demo": {**config["demo"], "n_objects": 3000, "fields": [633], "ccds": [1]}}


ADAPTERS: dict[str, Callable[[dict, Path, object], dict]] = {
    "irsa_dr24_field.yaml": irsa_bulk,
    "snad_cones.yaml": snad_cones,
    "gw_demo.yaml": gw_demo,
    "realistic_demo.yaml": realistic_demo,
}


def test_every_example_has_an_adapter():
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(ADAPTERS)


def _published(workdir: Path) -> Path:
    sums = list((workdir / "results/publish").glob("*/SHA256SUMS"))
    assert len(sums) == 1, sums
    return sums[0].parent


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_example_plans_the_default_target(name, services, tmp_path):
    config = ADAPTERS[name](yaml.safe_load((EXAMPLES / name).read_text()), tmp_path, services)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    dry = run_snakemake(tmp_path, "--cores", "2", "-n")
    planned = set(re.findall(r"^(?:local)?rule (\w+):", dry.stdout + dry.stderr, flags=re.MULTILINE))
    assert {
        "fetch_lightcurves",
        "extract_features",
        "make_candidates",
        "publish_candidates",
        "all",
    } <= planned
    if name == "gw_demo.yaml":
        assert "select_skymap_counterparts" in planned


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_example_runs_through_the_default_target(name, services, tmp_path):
    config = ADAPTERS[name](yaml.safe_load((EXAMPLES / name).read_text()), tmp_path, services)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    start = time.monotonic()
    run_snakemake(tmp_path, "--cores", "2")
    WALL_TIMES[name] = time.monotonic() - start
    print(f"{name}: default target in {WALL_TIMES[name]:.0f} s on the fake services")
    anomalies = Table.read(tmp_path / "results/candidates/anomalies.ecsv")
    assert len(anomalies) > 0
    assert (_published(tmp_path) / "anomalies.ecsv").exists()
    metrics = json.loads((tmp_path / "results/classify/metrics.json").read_text())
    if name in ("irsa_dr24_field.yaml", "snad_cones.yaml"):  # catalogs from (fake) CDS XMatch
        xmatch = pd.concat(
            pd.read_parquet(p) for p in (tmp_path / "results/crossmatch").glob("field*.parquet")
        )
        assert {"simbad", "vsx", "gaia"} & set(xmatch["catalog"]), xmatch["catalog"].unique()
    assert metrics.get("status") in ("trained", "skipped"), metrics.keys()
    if name == "gw_demo.yaml":
        assert (tmp_path / "results/skymap/gw_demo/counterparts.ecsv").exists()


@pytest.mark.e2e
def test_irsa_bulk_without_catalogs_publishes_the_anomaly_list(services, tmp_path):
    config = irsa_bulk(yaml.safe_load((EXAMPLES / "irsa_dr24_field.yaml").read_text()), tmp_path, services)
    config["crossmatch"]["catalogs"] = {}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(tmp_path, "--cores", "2")
    metrics = json.loads((tmp_path / "results/classify/metrics.json").read_text())
    assert metrics["status"] == "skipped" and metrics["n_labels"] == 0, metrics
    bundle = _published(tmp_path)
    assert len(Table.read(bundle / "anomalies.ecsv")) > 0
    assert "skipped" in (tmp_path / "logs/train_classifier.log").read_text()
