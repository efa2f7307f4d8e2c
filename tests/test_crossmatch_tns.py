"""The tns backend against a real HTTP server on 127.0.0.1 that checks the key and the bot User-Agent."""

from __future__ import annotations

import json
import logging
import os
import time

import numpy as np
import pandas as pd
import pytest

from servers import FakeTNSCatalog
from skysift.config import default_config
from skysift.crossmatch import CatalogSpec, crossmatch_objects
from skysift.crossmatch.tns import TNSError, TNSSettings, download_tns_catalog
from skysift.io import InputError

KEY = "s3cr3t-tns-key-0123456789abcdef"
BOT_ID, BOT_NAME = 4242, "skysift_test"


@pytest.fixture
def tns_server(tmp_path):
    """Serves the zip to a POST with the right api_key and User-Agent, 401 otherwise; 503 on demand."""
    from skysift.simulate import simulate_release

    simulate_release(tmp_path / "demo", seed=3, n_objects=600, fields=[633], ccds=[1], quadrants=[1, 2])
    catalog = pd.read_parquet(tmp_path / "demo" / "catalogs" / "tns.parquet")
    fake = FakeTNSCatalog(catalog, KEY, bot_id=BOT_ID, bot_name=BOT_NAME)
    with fake as url:
        yield fake, url


def _settings(url: str, **kw) -> TNSSettings:
    """The schema's crossmatch.tns defaults with the fake service, the test bot, fast retries and ``kw``."""
    section = default_config()["crossmatch"]["tns"]
    section.update(url=url, api_key_env="SKYSIFT_TEST_TNS_KEY", bot_id=BOT_ID, bot_name=BOT_NAME)
    section.update(backoff=0.01, min_interval=0.0, **kw)
    return TNSSettings.from_config(section)


def test_download_cache_match_and_the_key_never_leaks(tns_server, tmp_path, monkeypatch, caplog):
    fake, url = tns_server
    monkeypatch.setenv("SKYSIFT_TEST_TNS_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "tns.parquet"
    df = download_tns_catalog(_settings(url), tmp_path / "cache", out)
    assert fake.posts == 1 and len(df) == len(fake.catalog)
    assert {"objid", "name", "ra", "declination", "type", "discoverydate"} <= set(df.columns)
    # fresh cache: no new download; stale cache: downloaded again
    download_tns_catalog(_settings(url), tmp_path / "cache", out)
    assert fake.posts == 1
    old = time.time() - 48 * 3600
    os.utime(tmp_path / "cache" / "tns_public_objects.csv.zip", (old, old))
    download_tns_catalog(_settings(url, max_age_hours=24), tmp_path / "cache", out)
    assert fake.posts == 2
    # match objects at the TNS positions (1.5")
    cat = fake.catalog
    objects = pd.DataFrame(
        {
            "objectid": 633_200_000_000_000 + np.arange(len(cat)),
            "ra": cat["ra"],
            "dec": cat["declination"] + 1 / 3600,
        }
    )
    spec = CatalogSpec.from_config("tns", {"backend": "tns", "path": str(out), "radius_arcsec": 1.5})
    result = crossmatch_objects(objects, [spec], tmp_path / "x.parquet")
    assert len(result) == len(cat)
    assert (result["match_name"].to_numpy() == cat["name"].to_numpy()).all()
    assert (result.loc[cat["type"].to_numpy() == "SN Ia", "label"] == "snia").all()
    # the key is nowhere: logs, outputs, cache
    assert KEY not in caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.name.endswith(".zip"):
            assert KEY.encode() not in path.read_bytes(), path


def test_wrong_key_missing_key_and_retries(tns_server, tmp_path, monkeypatch, caplog):
    fake, url = tns_server
    monkeypatch.setenv("SKYSIFT_TEST_TNS_KEY", "wrong")
    with pytest.raises(TNSError, match=r"HTTP 401.*SKYSIFT_TEST_TNS_KEY") as err:
        download_tns_catalog(_settings(url), tmp_path / "c1", tmp_path / "t.parquet")
    assert "wrong" not in str(err.value)
    assert not (tmp_path / "c1" / "tns_public_objects.csv.zip").exists()
    monkeypatch.delenv("SKYSIFT_TEST_TNS_KEY")
    with pytest.raises(InputError, match="SKYSIFT_TEST_TNS_KEY"):
        download_tns_catalog(_settings(url), tmp_path / "c2", tmp_path / "t.parquet")
    monkeypatch.setenv("SKYSIFT_TEST_TNS_KEY", KEY)
    fake.faults = ["503", "429"]
    caplog.set_level(logging.DEBUG)
    download_tns_catalog(_settings(url), tmp_path / "c3", tmp_path / "t.parquet")
    assert fake.posts == 1 + 3 and "retry 2/4" in caplog.text and KEY not in caplog.text


def test_user_agent_is_the_tns_marker():
    from skysift.net import tns_user_agent

    agent = tns_user_agent(12, "bot name")
    assert agent.startswith("tns_marker{") and json.loads(agent.removeprefix("tns_marker")) == {
        "tns_id": 12,
        "type": "bot",
        "name": "bot name",
    }
