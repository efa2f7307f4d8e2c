"""Sky maps by GraceDB superevent id, downloaded once from a local server speaking GraceDB's REST API."""

from __future__ import annotations

import numpy as np
import pytest

from servers import FakeGraceDB
from skysift.io import InputError
from skysift.net import FetchError, HttpSettings
from skysift.skymap import make_multiorder_map, read_skymap, write_skymap
from skysift.skymap.gracedb import GraceDBSettings, download_superevent_skymap, is_superevent
from test_skymap import SHAPES

FAST = HttpSettings(timeout=5, retries=2, backoff=0.01, backoff_max=0.05, min_interval=0.0)


def settings(url: str, file: str = "bayestar.multiorder.fits") -> GraceDBSettings:
    return GraceDBSettings(url=url, file=file, http=FAST)


def test_superevent_ids():
    assert is_superevent("S190425z") and is_superevent("MS230518abc") and is_superevent("TS200105a")
    assert not is_superevent("maps/S190425z.fits") and not is_superevent("S19042z")


def test_map_is_downloaded_once_retried_and_readable(tmp_path):
    sky = make_multiorder_map(SHAPES["blob"], 6, event_mjd=59000.0, name="blob")
    fits_bytes = write_skymap(sky, tmp_path / "src.fits").read_bytes()
    fake = FakeGraceDB({"S200105ae": {"bayestar.multiorder.fits": fits_bytes, "Bilby.multiorder.fits": b"x"}})
    out = tmp_path / "resources" / "S200105ae.multiorder.fits"
    with fake as url:
        fake.faults = [503]
        download_superevent_skymap("S200105ae", out, settings(url))
        assert out.read_bytes() == fits_bytes and fake.downloads == 1
        download_superevent_skymap("S200105ae", out, settings(url))  # cached: not asked again
        assert fake.downloads == 1
        back = read_skymap(out)
        assert back.multiorder and back.event_mjd == 59000.0
        np.testing.assert_allclose(back.prob, sky.prob)
        with pytest.raises(FetchError, match="no public superevent S000000a"):
            download_superevent_skymap("S000000a", tmp_path / "x.fits", settings(url))
        with pytest.raises(FetchError, match=r"no file 'nope.fits'.*Bilby.multiorder.fits"):
            download_superevent_skymap("S200105ae", tmp_path / "y.fits", settings(url, "nope.fits"))
    assert not (tmp_path / "x.fits").exists() and not (tmp_path / "y.fits").exists()
    with pytest.raises(InputError, match="not a GraceDB superevent id"):
        download_superevent_skymap("maps/a.fits", tmp_path / "z.fits", settings("http://127.0.0.1:9"))


@pytest.mark.workflow
@pytest.mark.e2e
def test_a_superevent_id_in_the_config_is_downloaded_by_a_local_rule(tmp_path):
    """The real snakemake: skymap.maps.gw = a superevent id runs download_gracedb_skymap once."""
    import yaml

    from workflow_runner import run_snakemake

    sky = make_multiorder_map(SHAPES["blob"], 5, event_mjd=59000.0, name="blob")
    fits_bytes = write_skymap(sky, tmp_path / "src.fits").read_bytes()
    fake = FakeGraceDB({"S200105ae": {"bayestar.multiorder.fits": fits_bytes}})
    target = "resources/gracedb/S200105ae/bayestar.multiorder.fits"
    with fake as url:
        config = {"skymap": {"maps": {"gw": "S200105ae"}, "gracedb": {"url": url, "backoff": 0.01}}}
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
        dry = run_snakemake(
            tmp_path, "-n", "--cores", "1", "results/skymap/gw/credible_region.moc.fits"
        ).stdout
        assert "download_gracedb_skymap" in dry and "select_skymap_counterparts" in dry
        run_snakemake(tmp_path, "--cores", "1", target)
        assert (tmp_path / target).read_bytes() == fits_bytes and fake.downloads == 1
