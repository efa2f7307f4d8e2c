"""The real `snakemake` fetching from fake IRSA/SNAD services on 127.0.0.1 (sources irsa_bulk, snad), and
what reruns after a complete demo run when fetch settings change (params are results)."""

from __future__ import annotations

import re

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import copy_run
from servers import FakeServices
from skysift.layout import md5sum, read_checksums
from test_workflow import TINY, snakemake

pytestmark = pytest.mark.workflow
HTTP = {"timeout": 5, "retries": 3, "backoff": 0.01, "min_interval": 0.0}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from skysift.simulate import simulate_release

    root = tmp_path_factory.mktemp("served")
    simulate_release(root, n_objects=300, fields=[633, 1721], ccds=[1], quadrants=[1, 2], seed=5)
    with FakeServices(root) as services:
        yield root, services


def test_irsa_bulk_run_fetches_then_reruns_without_requests(served, tmp_path):
    root, services = served
    services.faults["0/field000633/ztf_000633_zr_c01_q1_dr24.parquet"].update(status=1, cut=1)
    config = {"source": "irsa_bulk", "fetch": {"fields": [633], "bulk_url": services.bulk_url, "http": HTTP}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    targets = ("results/clean/field000633.parquet",)
    snakemake(tmp_path, *targets)
    wanted = {r: m for r, m in read_checksums(root / "dr24" / "checksum.md5").items() if "field000633" in r}
    for rel, md5 in wanted.items():
        assert md5sum(tmp_path / "results/mirror/dr24" / rel) == md5
    assert not (tmp_path / "results/mirror/dr24/1").exists()
    log = (tmp_path / "logs/fetch_lightcurves/field000633.log").read_text()
    assert "retry" in log and f"{len(wanted)} files verified" in log
    before = sum(c["requests"] for c in services.stats.values())
    again = snakemake(tmp_path, *targets, "--forcerun", "fetch_lightcurves", "--until", "fetch_lightcurves")
    assert "fetch_lightcurves" in again.stdout + again.stderr
    assert sum(c["requests"] for c in services.stats.values()) == before


def test_snad_run_from_an_id_file_batches_by_field(served, tmp_path):
    root, services = served
    ids = (
        pq.read_table(next((root / "dr24/1").glob("field*/ztf_*_zg_*.parquet"))).column("objectid").to_numpy()
    )
    (tmp_path / "ids.txt").write_text("\n".join(map(str, ids[:40])) + "\n")
    config = {"source": "snad", "fetch": {"ids_file": "ids.txt", "snad_url": services.url, "http": HTTP}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({**config, "clean": {"min_epochs": 3}}))
    snakemake(tmp_path, "results/clean/field001721.parquet")
    clean = pq.read_table(tmp_path / "results/clean/field001721.parquet").to_pandas()
    assert set(clean["objectid"]) <= set(ids[:40]) and len(clean) > 20
    assert np.all(clean["fieldid"] == 1721)
    assert (tmp_path / "results/mirror/snad/dr24/checksum.md5").exists()
    assert "snad dr24: 1 queries, 40 objects" in (tmp_path / "logs/query_lightcurves.log").read_text()


def test_execution_settings_rerun_nothing_result_keys_do(tiny_run, tmp_path):
    """After a complete tiny demo run, HTTP/verification/request-size settings plan nothing; demo keys do."""
    config = TINY
    workdir = copy_run(tiny_run[0], tmp_path / "run")
    execution = {"verify": "exists", "batch_size": 7, "http": {**HTTP, "timeout": 1}}
    (workdir / "config.yaml").write_text(yaml.safe_dump({**config, "fetch": execution}))
    out = "\n".join(snakemake(workdir, "-n").stdout.splitlines())
    assert not re.findall(r"^(?:local)?rule (\w+):", out, flags=re.MULTILINE), out[-3000:]
    assert "Nothing to be done" in out
    changed = {**config, "fetch": execution, "demo": {**config["demo"], "catalog_scatter_arcsec": 0.4}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(changed))
    out = snakemake(workdir, "-n", "--until", "fetch_lightcurves").stdout
    assert re.search(r"params have changed since last execution:\s+simulate_survey", out), out[-3000:]
