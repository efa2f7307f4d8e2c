"""The xmatch backend against a real HTTP server on 127.0.0.1 that speaks CDS XMatch (with faults)."""

from __future__ import annotations

import io
import threading

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table

from servers import FakeCDS
from skysift.config import default_config
from skysift.crossmatch import CatalogSpec, crossmatch_objects
from skysift.crossmatch.xmatch import XMatchBanned, XMatchError, XMatchSettings, query_xmatch


@pytest.fixture
def sky():
    """Objects and a SIMBAD-like and VSX-like catalog holding counterparts of some of them."""
    rng = np.random.default_rng(5)
    n = 250
    ra = rng.uniform(359.5, 360.5, n) % 360
    dec = rng.uniform(-1, 1, n)
    objects = pd.DataFrame(
        {"objectid": 633_200_000_000_000 + np.arange(n, dtype=np.int64), "ra": ra, "dec": dec}
    )
    s = np.arange(0, n, 2)
    simbad = Table(
        {
            "main_id": [f"Gaia DR3 {k}" for k in s],
            "ra": (ra[s] + 0.4 / 3600) % 360,
            "dec": dec[s],
            "main_type": np.where(s % 4 == 0, "RRLyr", "EclBin"),
            "coo_bibcode": ["2020yCat.1350....0G"] * len(s),
        }
    )
    v = np.arange(0, n, 5)
    vsx = Table(
        {
            "OID": np.arange(len(v)),
            "Name": [f"ZTF J{k:06d}" for k in v],
            "RAJ2000": ra[v],
            "DEJ2000": dec[v] + 0.7 / 3600,
            "Type": ["EW"] * len(v),
        }
    )
    return objects, {"simbad": simbad, "B/vsx/vsx": vsx}


@pytest.fixture
def cds(sky):
    """A running fake CDS XMatch service; yields (state, url)."""
    state = FakeCDS(sky[1])
    with state as url:
        yield state, url


def _settings(url, tmp_path, **kw) -> XMatchSettings:
    """The schema's crossmatch.xmatch defaults with the fake service, fast retries and ``kw``."""
    section = {
        **default_config()["crossmatch"]["xmatch"],
        "url": url,
        "backoff": 0.01,
        "min_interval": 0.0,
        **kw,
    }
    return XMatchSettings.from_config(section, tmp_path / "cache")


def test_chunks_labels_and_cache(cds, sky, tmp_path):
    state, url = cds
    objects, _ = sky
    specs = [
        CatalogSpec.from_config("simbad", {"backend": "xmatch", "table": "simbad", "radius_arcsec": 1.0}),
        CatalogSpec.from_config(
            "vsx", {"backend": "xmatch", "table": "vizier:B/vsx/vsx", "radius_arcsec": 1.0}
        ),
    ]
    settings = _settings(url, tmp_path, chunk_size=100)
    out = crossmatch_objects(objects, specs, tmp_path / "x.parquet", xmatch_settings=settings)
    assert len(state.posts) == 6  # 250 positions in chunks of 100, two catalogs
    assert [len(p["cat1"].decode().splitlines()) - 1 for p in state.posts[:3]] == [100, 100, 50]
    assert {p["cat2"].decode() for p in state.posts} == {"vizier:simbad", "vizier:B/vsx/vsx"}
    simbad = out[out["catalog"] == "simbad"].set_index("objectid")
    assert len(simbad) == 125 and simbad["sep_arcsec"].between(0.39, 0.41).all()
    first = objects["objectid"].iloc[0]
    assert simbad.loc[first, "match_name"] == "Gaia DR3 0" and simbad.loc[first, "label"] == "rrlyrae"
    assert simbad.loc[first + 2, "label"] == "eclipsing_binary"
    vsx = out[out["catalog"] == "vsx"]
    assert len(vsx) == 50 and (vsx["match_type"] == "EW").all() and (vsx["label"] == "eclipsing_binary").all()
    # a rerun is served from the cache: no new request
    again = crossmatch_objects(objects, specs, xmatch_settings=settings)
    assert len(state.posts) == 6
    pd.testing.assert_frame_equal(again, out)


def test_500_then_success_retries_and_does_not_cache_the_error(cds, sky, tmp_path):
    state, url = cds
    objects, _ = sky
    state.faults = ["500", "500"]
    positions = objects.rename(columns={"objectid": "key"})
    settings = _settings(url, tmp_path)
    got = query_xmatch(positions, "simbad", 1.0, settings)
    assert len(state.posts) == 3 and len(got) == 125
    again = query_xmatch(positions, "simbad", 1.0, settings)  # the cached answer is the good one
    assert len(state.posts) == 3
    pd.testing.assert_frame_equal(again, got)


def test_403_stops_at_once_with_a_clear_message_and_is_not_cached(cds, sky, tmp_path):
    state, url = cds
    objects, _ = sky
    state.faults = ["403"]
    positions = objects.rename(columns={"objectid": "key"})
    with pytest.raises(XMatchBanned, match=r"403.*parallel"):
        query_xmatch(positions, "simbad", 1.0, _settings(url, tmp_path))
    assert len(state.posts) == 1  # no retries against a ban
    assert len(query_xmatch(positions, "simbad", 1.0, _settings(url, tmp_path))) == 125
    assert len(state.posts) == 2


def test_timeouts_are_retried_then_give_up(cds, sky, tmp_path):
    state, url = cds
    objects, _ = sky
    positions = objects.rename(columns={"objectid": "key"})
    state.faults = ["slow"]
    got = query_xmatch(positions, "simbad", 1.0, _settings(url, tmp_path, timeout=0.5))
    assert len(got) == 125 and len(state.posts) == 2
    state.faults = ["slow", "slow"]
    with pytest.raises(
        XMatchError, match=r"sync: no answer within 0.5 s \(timeout\); failed after 2 attempts"
    ):
        query_xmatch(positions, "vizier:B/vsx/vsx", 1.0, _settings(url, tmp_path, timeout=0.5, retries=1))


def test_concurrent_jobs_send_one_request_at_a_time(cds, sky, tmp_path):
    state, url = cds
    objects, _ = sky
    state.delay = 0.2
    positions = objects.rename(columns={"objectid": "key"})
    settings = _settings(url, tmp_path, chunk_size=100)  # two tables: no answer is reused from the cache
    errors = []

    def job(table):
        try:
            query_xmatch(positions, table, 1.0, settings)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(t,)) for t in ("simbad", "vizier:B/vsx/vsx")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(state.posts) == 6
    assert state.max_in_flight == 1


def test_unknown_table_is_refused_without_retry(cds, sky, tmp_path):
    state, url = cds
    positions = sky[0].rename(columns={"objectid": "key"})
    with pytest.raises(XMatchError, match="not available on the XMatch server"):
        query_xmatch(positions, "vizier:J/nope/tab", 1.0, _settings(url, tmp_path))
    assert len(state.posts) == 0


def test_padded_strings_from_the_service_are_stripped(cds, sky, tmp_path):
    """VSX's fixed-width columns keep their padding in a BINARY VOTable; outputs carry the bare strings."""
    state, url = cds
    objects, _ = sky
    state.serialization = "binary"
    vsx = state.catalogs["B/vsx/vsx"]
    vsx["Name"] = [f"  {n}    " for n in vsx["Name"]]
    vsx["Type"] = ["RS                "] * (len(vsx) - 1) + [" EW:  "]
    # what astropy (so astroquery) reads from such an answer still has the padding
    status, body = state.answer({**state.posts_form_of(objects), "cat2": b"vizier:B/vsx/vsx"})
    raw = Table.read(io.BytesIO(body), format="votable", use_names_over_ids=True)
    assert status == 200 and "RS                " in set(raw["Type"])
    spec = CatalogSpec.from_config("vsx", {"backend": "xmatch", "table": "vizier:B/vsx/vsx"})
    out = crossmatch_objects(objects, [spec], xmatch_settings=_settings(url, tmp_path))
    assert len(out) == len(vsx) and set(out["match_type"]) == {"RS", "EW:"}
    assert all(name == name.strip() and name.startswith("ZTF J") for name in out["match_name"])
    assert out.loc[out["match_type"] == "EW:", "label"].tolist() == ["eclipsing_binary"]
