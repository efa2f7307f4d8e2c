"""KD-tree sky matching against brute force, RA wrap-around, poles, pre-cut, association on the demo."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pandas as pd
import pytest
from astropy.coordinates import SkyCoord

from skysift.crossmatch import CatalogSpec, crossmatch_objects, read_objects
from skysift.crossmatch.match import match_sky, precut_catalog
from skysift.sky import angular_separation_arcsec, associate_sources, radec_to_xyz


def _sky_with_hard_places(rng: np.random.Generator, n_obj: int, n_cat: int, radius: float):
    """Objects spread over the sky, a third at RA ~0/360 and a third within 0.01 deg of a pole."""
    k = n_obj // 3
    ra = np.r_[
        rng.uniform(0, 360, k), rng.uniform(-0.002, 0.002, k) % 360, rng.uniform(0, 360, n_obj - 2 * k)
    ]
    dec = np.r_[
        np.degrees(np.arcsin(rng.uniform(-1, 1, k))),
        rng.uniform(-60, 60, k),
        np.where(rng.random(n_obj - 2 * k) < 0.5, 1, -1) * rng.uniform(89.99, 90.0, n_obj - 2 * k),
    ]
    # catalog: 1-4 neighbours of each object within ~2 radii (true offsets, so wrap/pole are real),
    # plus random decoys
    src = rng.integers(0, n_obj, n_cat)
    c = SkyCoord(ra[src] * u.deg, dec[src] * u.deg)
    moved = c.directional_offset_by(
        rng.uniform(0, 360, n_cat) * u.deg, rng.uniform(0, 2 * radius, n_cat) * u.arcsec
    )
    return ra, dec, moved.ra.deg, moved.dec.deg


def _brute_force(ra, dec, c_ra, c_dec, radius):
    """Every pair within the radius by astropy's all-pairs separation (independent of the KD-tree)."""
    obj = SkyCoord(ra * u.deg, dec * u.deg)
    cat = SkyCoord(c_ra * u.deg, c_dec * u.deg)
    sep = obj[:, None].separation(cat[None, :]).to_value(u.arcsec)
    i, j = np.nonzero(sep <= radius)
    return sep, set(zip(i.tolist(), j.tolist(), strict=True))


@pytest.mark.parametrize("seed", [1, 2])
def test_all_pairs_and_nearest_equal_brute_force_including_wrap_and_poles(seed):
    rng = np.random.default_rng(seed)
    radius = 3.0
    ra, dec, c_ra, c_dec = _sky_with_hard_places(rng, 300, 1500, radius)
    sep, expected = _brute_force(ra, dec, c_ra, c_dec, radius)
    m = match_sky(radec_to_xyz(ra, dec), radec_to_xyz(c_ra, c_dec), radius, k=2)  # k=2 forces ball searches
    got = set(zip(m.obj.tolist(), m.cat.tolist(), strict=True))
    borderline = {(i, j) for i, j in got ^ expected if abs(sep[i, j] - radius) < 1e-6}
    assert got ^ expected == borderline
    assert len(expected) > 500
    wrapped = [(i, j) for i, j in expected if abs(c_ra[j] - ra[i]) > 180]
    polar = [(i, j) for i, j in expected if abs(dec[i]) > 89.98]
    assert len(wrapped) > 20 and len(polar) > 20  # the hard places were really exercised
    np.testing.assert_allclose(m.sep_arcsec, sep[m.obj, m.cat], atol=1e-7)
    # nearest: first row per object is the brute-force minimum
    first = np.r_[True, m.obj[1:] != m.obj[:-1]]
    assert np.array_equal(m.cat[first], np.argmin(sep[m.obj[first]], axis=1))
    # sorted by object then separation
    assert np.all(np.diff(m.obj) >= 0)


def test_separation_formula_is_accurate_for_tiny_and_large_angles():
    assert angular_separation_arcsec(
        np.array([359.9999999]), np.array([0.0]), np.array([0.0000001]), np.array([0.0])
    )[0] == pytest.approx(0.2e-6 * 3600, rel=1e-6)
    assert angular_separation_arcsec(
        np.array([10.0]), np.array([89.9999]), np.array([190.0]), np.array([89.9999])
    )[0] == pytest.approx(0.72, rel=1e-6)
    assert angular_separation_arcsec(np.array([0.0]), np.array([0.0]), np.array([180.0]), np.array([0.0]))[
        0
    ] == pytest.approx(180 * 3600)


def test_precut_keeps_every_match_and_cuts_far_sky():
    rng = np.random.default_rng(3)
    ra = rng.uniform(-3, 3, 2000) % 360  # a field across RA 0
    dec = rng.uniform(30, 36, 2000)
    c_ra, c_dec = rng.uniform(0, 360, 200_000), np.degrees(np.arcsin(rng.uniform(-1, 1, 200_000)))
    c_ra[:2000], c_dec[:2000] = (ra + 0.5 / 3600) % 360, dec  # counterparts at the edges too
    obj_xyz, cat_xyz = radec_to_xyz(ra, dec), radec_to_xyz(c_ra, c_dec)
    keep = precut_catalog(obj_xyz, cat_xyz, 1.0)
    assert keep[:2000].all()
    assert keep[2000:].mean() < 0.005  # a ~4 deg cap is ~0.15 % of the sky
    full = match_sky(obj_xyz, cat_xyz, 1.0)
    cut = match_sky(obj_xyz, cat_xyz[keep], 1.0)
    assert np.array_equal(full.cat, np.flatnonzero(keep)[cut.cat])


def test_crossmatch_writes_nearest_and_all_matches(tmp_path):
    objects = pd.DataFrame({"objectid": [1, 2], "ra": [359.99995, 120.0], "dec": [10.0, -89.99999]})
    cat = pd.DataFrame(
        {
            "name": ["near", "far", "pole"],
            "ra": [0.0000, 359.9997, 300.0],
            "dec": [10.0, 10.0, -89.9999],
            "type": ["RRAB", "EW", "M"],
        }
    )
    cat.to_parquet(tmp_path / "vsx.parquet")
    spec = CatalogSpec.from_config("vsx", {"path": str(tmp_path / "vsx.parquet"), "radius_arcsec": 1.5})
    out = crossmatch_objects(
        objects, [spec], tmp_path / "x.parquet", all_matches_output=tmp_path / "all.parquet"
    )
    assert out["match_name"].tolist() == ["near", "pole"]
    assert out["label"].tolist() == ["rrlyrae", "lpv"]
    every = pd.read_parquet(tmp_path / "all.parquet")
    assert every[every["objectid"] == 1]["match_name"].tolist() == ["near", "far"]  # nearest first
    assert pd.read_parquet(tmp_path / "x.parquet")["sep_arcsec"].iloc[0] == pytest.approx(0.18, abs=0.01)


@pytest.fixture(scope="module")
def demo_release(tmp_path_factory):
    """A small demo release (g, r and some i light curves in two fields) with its truth table."""
    from skysift.simulate import simulate_release

    root = tmp_path_factory.mktemp("demo")
    simulate_release(root, seed=11, n_objects=1500, fields=[633, 1721], ccds=[1], quadrants=[1, 2, 3, 4])
    return root


def test_association_recovers_demo_sources(demo_release):
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted((demo_release / "dr24").rglob("ztf_*.parquet"))
    tables = [pq.read_table(f, columns=["objectid", "objra", "objdec", "fieldid", "filterid"]) for f in files]
    path = demo_release / "objects.parquet"
    pq.write_table(pa.concat_tables(tables), path)
    objects = associate_sources(read_objects(path), radius_arcsec=1.0)
    truth = pd.read_parquet(demo_release / "truth.parquet")[["objectid", "source_id"]]
    df = objects.merge(truth, on="objectid", suffixes=("", "_true"))
    assert len(df) == len(objects) and df["filterid"].nunique() == 3
    # purity: each found source holds one true source; completeness: each true source is one found source
    purity = (df.groupby("source_id")["source_id_true"].nunique() == 1).mean()
    completeness = (df.groupby("source_id_true")["source_id"].nunique() == 1).mean()
    assert purity > 0.99 and completeness > 0.99, (purity, completeness)
    assert df.groupby("source_id").size().max() <= 3
    assert (df.groupby("source_id").size() > 1).mean() > 0.8  # really multiband
