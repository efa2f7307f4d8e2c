"""ZTF alert names by cone search against a local server that speaks ALeRCE's documented ZTF API."""

from __future__ import annotations

import pandas as pd
import pytest

from servers import FakeAlerce
from skysift.candidates.alerts import AlertNameSettings, alert_name_links, lookup_alert_names
from skysift.io import InputError
from skysift.net import FetchError, HttpSettings

FAST = HttpSettings(timeout=5, retries=2, backoff=0.01, backoff_max=0.05, min_interval=0.0)

# two candidates with an alert object nearby (one 0.5" off, one with a farther decoy), one without
CANDIDATES = pd.DataFrame({"objectid": [1, 2, 3], "ra": [10.0, 200.0, 300.0], "dec": [-5.0, 40.0, 10.0]})
OBJECTS = [
    ("ZTF18aaaaaaa", 10.0 + 0.5 / 3600 / 0.99619, -5.0),  # 0.5" east (cos dec = 0.99619)
    ("ZTF19bbbbbbb", 200.0, 40.0 + 0.2 / 3600),
    ("ZTF20decoyyy", 200.0, 40.0 + 1.2 / 3600),  # in the cone but farther
    ("ZTF21farrrrr", 300.0, 10.0 + 5 / 3600),  # outside the cone
]


def settings(url: str) -> AlertNameSettings:
    return AlertNameSettings(url=url, radius_arcsec=1.5, http=FAST)


def test_nearest_alert_object_names_each_candidate_and_answers_are_cached(tmp_path):
    fake = FakeAlerce(OBJECTS)
    with fake as url:
        out = lookup_alert_names(
            CANDIDATES, tmp_path / "names.csv", settings(url), cache_path=tmp_path / "c.json"
        )
        assert fake.requests == 3
        assert out["ztf_name"].tolist()[:2] == ["ZTF18aaaaaaa", "ZTF19bbbbbbb"] and pd.isna(
            out["ztf_name"][2]
        )
        assert out["ztf_sep"][0] == pytest.approx(0.5, abs=0.01)
        back = pd.read_csv(tmp_path / "names.csv")
        assert back.columns.tolist() == ["objectid", "ztf_name", "ztf_sep"] and len(back) == 3
        # a rerun with one new candidate asks only about that one
        more = pd.concat(
            [CANDIDATES, pd.DataFrame({"objectid": [4], "ra": [300.0], "dec": [10.0 + 5 / 3600]})]
        )
        out = lookup_alert_names(more, tmp_path / "names.csv", settings(url), cache_path=tmp_path / "c.json")
        assert fake.requests == 4 and out["ztf_name"].tolist()[3] == "ZTF21farrrrr"


def test_busy_broker_is_retried_and_a_broken_one_named(tmp_path):
    fake = FakeAlerce(OBJECTS)
    with fake as url:
        fake.faults = [503]
        out = lookup_alert_names(
            CANDIDATES[:1], tmp_path / "n.csv", settings(url), cache_path=tmp_path / "c.json"
        )
        assert out["ztf_name"][0] == "ZTF18aaaaaaa" and fake.requests == 2
        with pytest.raises(FetchError, match="HTTP 400"):
            lookup_alert_names(
                CANDIDATES[1:], tmp_path / "n.csv", settings(url + "/wrong"), cache_path=tmp_path / "c.json"
            )
    # what was learned before the failure stays cached
    assert "10.000000,-5.000000,1.5" in (tmp_path / "c.json").read_text()


def test_bad_input_and_links():
    with pytest.raises(InputError, match="ra"):
        lookup_alert_names(
            CANDIDATES[["objectid"]], "x.csv", settings("http://127.0.0.1:9"), cache_path="c.json"
        )
    assert alert_name_links("ZTF18aaaaaaa", "https://alerce.online/object/{ztf_name}") == (
        "https://alerce.online/object/ZTF18aaaaaaa"
    )
    assert alert_name_links(None, "https://x/{ztf_name}") is None
    assert alert_name_links(float("nan"), "https://x/{ztf_name}") is None
