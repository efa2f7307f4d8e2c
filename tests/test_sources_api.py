"""irsa_api and snad: query fake services on 127.0.0.1, convert to the DR layout, and check that the
same light curves reach ``clean`` identically whichever source delivered them."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from servers import FakeServices
from skysift.clean import clean_files
from skysift.layout import read_checksums
from skysift.sources.convert import fields_of_objectids, read_cones, read_ids
from skysift.sources.http import FetchError, HttpClient, HttpConfig
from skysift.sources.irsa_api import fetch_irsa_api, irsa_csv_to_epochs, query_irsa_api
from skysift.sources.irsa_bulk import fetch_bulk_batch, fetch_checksums
from skysift.sources.local import fetch_local_batch
from skysift.sources.snad import fetch_snad

FAST = {
    "timeout": 10.0,
    "retries": 3,
    "backoff": 0.01,
    "backoff_max": 0.05,
    "min_interval": 0.0,
    "concurrency": 4,
}
FIELD = 633
# SNAD serves only catflags == 0 epochs, so the comparison drops every flagged epoch.
CLEAN = {"bad_catflags_mask": 65535, "min_epochs": 5}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One field of a simulated release, served by the fake IRSA/SNAD services."""
    from skysift.simulate import simulate_release

    root = tmp_path_factory.mktemp("served")
    simulate_release(root, n_objects=300, fields=[FIELD], ccds=[1, 2], quadrants=[1, 3], seed=11)
    with FakeServices(root) as services:
        _ = services.epochs  # build the tables now, not inside the first (timed) request
        yield root, services


def all_ids(root) -> np.ndarray:
    """Every objectid of the served release."""
    files = sorted((root / "dr24").glob("*/field*/ztf_*.parquet"))
    return np.concatenate([pq.read_table(p, columns=["objectid"]).column(0).to_numpy() for p in files])


def cleaned(release_root, out) -> pd.DataFrame:
    """Verify the field's files, clean them, and return the clean table."""
    files = fetch_local_batch(release_root, FIELD, out.with_suffix(".tsv"))
    clean_files(files, out, CLEAN)
    return pq.read_table(out).to_pandas()


def assert_same_lightcurves(ref: pd.DataFrame, other: pd.DataFrame, *, hmjd_atol=0.0, pos_arcsec=0.0):
    """Equal light curves: keys, lengths and float32 values exact; times and positions within tolerances."""
    assert len(ref) > 100
    assert ref["objectid"].tolist() == other["objectid"].tolist()
    for col in ("filterid", "fieldid", "rcid", "nepochs"):
        assert ref[col].tolist() == other[col].tolist(), col
    for col in ("mag", "magerr", "clrcoeff", "catflags"):
        a, b = np.concatenate(ref[col].to_numpy()), np.concatenate(other[col].to_numpy())
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), col
    a, b = np.concatenate(ref["hmjd"].to_numpy()), np.concatenate(other["hmjd"].to_numpy())
    np.testing.assert_allclose(a, b, rtol=0, atol=hmjd_atol)
    dra = (ref["objra"] - other["objra"]).abs() * np.cos(np.radians(ref["objdec"])) * 3600
    ddec = (ref["objdec"] - other["objdec"]).abs() * 3600
    assert dra.max() <= pos_arcsec + 0.01 and ddec.max() <= pos_arcsec + 0.01


def test_every_source_delivers_the_same_clean_light_curves(served, tmp_path):
    root, services = served
    client = HttpClient(HttpConfig.from_config(FAST))
    ref = cleaned(root / "dr24", tmp_path / "local.parquet")

    fetch_checksums(services.bulk_url, "dr24", tmp_path / "bulk" / "dr24", client)
    files = fetch_bulk_batch(
        services.bulk_url, "dr24", tmp_path / "bulk" / "dr24", FIELD, tmp_path / "b.tsv", http=client
    )
    clean_files(files, tmp_path / "bulk.parquet", CLEAN)
    bulk = pq.read_table(tmp_path / "bulk.parquet").to_pandas()
    assert_same_lightcurves(ref, bulk)

    ids = all_ids(root)
    fetch_irsa_api(services.api_url, "dr24", tmp_path / "api" / "dr24", ids=ids, batch_size=200, http=client)
    api = cleaned(tmp_path / "api" / "dr24", tmp_path / "api.parquet")
    # hjd (JD, ~2.46e6) round-trips to hmjd within a float64 ulp; positions are epoch medians.
    assert_same_lightcurves(ref, api, hmjd_atol=1e-8, pos_arcsec=0.2)

    fetch_snad(services.url, "dr24", tmp_path / "snad" / "dr24", ids=ids, batch_size=200, http=client)
    snad = cleaned(tmp_path / "snad" / "dr24", tmp_path / "snad.parquet")
    assert_same_lightcurves(ref, snad)


def test_cone_queries_find_the_objects_inside(served, tmp_path):
    root, services = served
    table = pq.read_table(next((root / "dr24").glob("*/field*/ztf_*_zr_*.parquet"))).to_pandas()
    picks = table.iloc[[0, 5, 9]]
    cones_csv = tmp_path / "cones.csv"
    pd.DataFrame({"ra": picks["objra"], "dec": picks["objdec"]}).to_csv(cones_csv, index=False)
    cones = read_cones(cones_csv, radius_arcsec=2.0)
    client = HttpClient(HttpConfig.from_config(FAST))
    for name, fetcher, url in (("api", fetch_irsa_api, services.api_url), ("snad", fetch_snad, services.url)):
        files = fetcher(url, "dr24", tmp_path / name / "dr24", cones=cones, filters=["r"], http=client)
        got = pd.concat(pq.read_table(f).to_pandas() for f in files)
        assert set(picks["objectid"]) <= set(got["objectid"]), name
        assert set(got["filterid"]) == {2}
        assert set(read_checksums(tmp_path / name / "dr24" / "checksum.md5")) == {
            f.relative_to(tmp_path / name / "dr24").as_posix() for f in files
        }


def test_api_errors_are_retried_then_named(served, tmp_path):
    root, services = served
    ids = all_ids(root)[:5]
    services.faults["nph"].update(status=1, cut=1)
    client = HttpClient(HttpConfig.from_config(FAST))
    rows = query_irsa_api(services.api_url, "dr24", ids=ids, http=client)
    assert set(rows["oid"]) == set(ids) and rows["oid"].dtype == np.int64
    assert rows["filefracday"].dtype == np.int64 and rows["expid"].dtype == np.int64
    services.faults["snad"].update(status=10)
    with pytest.raises(
        FetchError, match=r"api/v3/data/dr24/oid/full/json: HTTP 500.*failed after 4 attempts"
    ):
        fetch_snad(services.url, "dr24", tmp_path / "snad", ids=ids, http=client)
    services.faults.clear()


def test_missing_hjd_falls_back_to_mjd_with_a_warning(caplog):
    rows = pd.DataFrame(
        {
            "oid": [633207400004730] * 2,
            "expid": [1, 2],
            "hjd": [2458202.8577286243, np.nan],
            "mjd": [58202.353159699996, 58203.35],
            "mag": [18.6746521, 18.7],
            "magerr": [0.046653516, 0.05],
            "catflags": [0, 0],
            "filtercode": ["zr", "zr"],
            "ra": [10.0, 10.0],
            "dec": [20.0, 20.0],
            "field": [633, 633],
            "ccdid": [7, 7],
            "qid": [4, 4],
            "clrcoeff": [0.1, 0.1],
        }
    )
    with caplog.at_level(logging.WARNING):
        epochs = irsa_csv_to_epochs(rows)
    assert "1 of 2 epochs have no hjd" in caplog.text
    np.testing.assert_allclose(epochs["hmjd"], [58202.3577286243, 58203.35], atol=1e-9)
    assert epochs["rcid"].tolist() == [27, 27] and epochs["filterid"].tolist() == [2, 2]


def test_id_and_cone_files(tmp_path):
    (tmp_path / "ids.txt").write_text("633207400004730\n# comment\n1721100100000001\n633207400004730\n")
    ids = read_ids(tmp_path / "ids.txt")
    assert ids.tolist() == [633207400004730, 1721100100000001]
    assert fields_of_objectids(ids) == [633, 1721]
    (tmp_path / "ids.csv").write_text("name,oid\na,633207400004730\n")
    assert read_ids(tmp_path / "ids.csv").tolist() == [633207400004730]
    (tmp_path / "bad.csv").write_text("name,x\na,1\n")
    with pytest.raises(ValueError, match="needs an 'objectid'"):
        read_ids(tmp_path / "bad.csv")
    (tmp_path / "cones.csv").write_text("ra,dec,radius_arcsec\n10,20,3\n11,21,\n")
    with pytest.raises(ValueError, match="missing"):
        read_cones(tmp_path / "ids.csv", 1.0)
    assert read_cones(tmp_path / "cones.csv", 1.5)["ra"].tolist() == [10.0, 11.0]
