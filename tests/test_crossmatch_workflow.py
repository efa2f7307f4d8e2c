"""The real `snakemake` cross-matching a tiny demo through fake CDS XMatch and TNS services on 127.0.0.1."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from astropy.table import Table

from servers import FakeCDS, FakeTNSCatalog
from skysift.sources import DEMO_CATALOG_COLUMNS
from workflow_runner import run_snakemake

pytestmark = pytest.mark.workflow

KEY = "tns-catalog-s3cr3t-0123456789abcdef"
TINY = {"demo": {"seed": 7, "n_objects": 800, "fields": [633], "ccds": [1], "quadrants": [1, 2]}}
TARGET = "results/crossmatch/field000633.parquet"


def snakemake(workdir, *args: str, env: dict[str, str] | None = None):
    """The real snakemake on one core in ``workdir``."""
    return run_snakemake(workdir, "--cores", "1", *args, env=env)


def _config(workdir, xmatch_url: str, tns_url: str, **changes) -> None:
    """The tiny demo with SIMBAD from CDS XMatch, TNS from its bulk CSV and VSX from the demo's file."""
    crossmatch = {
        "catalogs": {
            "simbad": {"backend": "xmatch", "table": "simbad"},
            "vsx": {"path": "results/demo/catalogs/vsx.parquet", **DEMO_CATALOG_COLUMNS["vsx"]},
            "tns": {"backend": "tns", "radius_arcsec": 1.5},
        },
        "xmatch": {"url": xmatch_url, "backoff": 0.01, "min_interval": 0.0},
        "tns": {"url": tns_url, "bot_id": 4242, "bot_name": "skysift_test", "backoff": 0.01},
        "cache_dir": "cache",
    }
    for key, value in changes.items():  # "xmatch.retries": 9
        section, name = key.split(".")
        crossmatch[section] = {**crossmatch[section], name: value}
    (workdir / "config.yaml").write_text(yaml.safe_dump({**TINY, "crossmatch": crossmatch}))


@pytest.mark.e2e
def test_online_backends_match_like_the_local_files_and_http_settings_rerun_nothing(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(TINY))
    snakemake(tmp_path, TARGET)  # the reference: the demo's simulated catalogs as local files
    ref = pd.read_parquet(tmp_path / TARGET)
    catalogs = tmp_path / "results/demo/catalogs"
    simbad = pd.read_parquet(catalogs / "simbad.parquet").rename(columns={"otype": "main_type"})
    cds = FakeCDS({"simbad": Table.from_pandas(simbad)})
    tns = FakeTNSCatalog(pd.read_parquet(catalogs / "tns.parquet"), KEY)
    env = {"TNS_API_KEY": KEY}
    with cds as xmatch_url, tns as tns_url:
        _config(tmp_path, xmatch_url, tns_url)
        cds.faults = ["500"]  # retried by the HTTP client
        snakemake(tmp_path, TARGET, env=env)
        assert len(cds.posts) == 2 and tns.posts == 1
        got = pd.read_parquet(tmp_path / TARGET)
        columns = ["objectid", "catalog", "match_name", "match_type", "label"]
        for name in ("simbad", "vsx", "tns"):
            expected = ref.loc[ref["catalog"] == name, columns].reset_index(drop=True)
            assert len(expected) > 5, name
            pd.testing.assert_frame_equal(
                got.loc[got["catalog"] == name, columns].reset_index(drop=True), expected
            )
        pd.testing.assert_series_equal(
            got["sep_arcsec"][got["catalog"] == "tns"], ref["sep_arcsec"][ref["catalog"] == "tns"]
        )
        log = (tmp_path / "logs/query_xmatch/simbad/field000633.log").read_text()
        assert "HTTP 500" in log and "retry 1/4" in log
        assert KEY not in (tmp_path / "logs/download_tns_catalog/tns.log").read_text()

        # How to talk to the services is not a result: changing it reruns nothing ...
        changes = {"xmatch.retries": 9, "xmatch.timeout": 30, "xmatch.chunk_size": 7, "tns.backoff_max": 5}
        _config(tmp_path, xmatch_url, tns_url, **changes, **{"tns.max_age_hours": 1, "tns.bot_name": "other"})
        dry = snakemake(tmp_path, TARGET, "-n", env=env)
        assert "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout
        # ... asking another service does
        _config(tmp_path, xmatch_url + "?mirror", tns_url)
        dry = snakemake(tmp_path, TARGET, "-n", env=env)
        assert "query_xmatch" in dry.stdout and "download_tns_catalog" not in dry.stdout
