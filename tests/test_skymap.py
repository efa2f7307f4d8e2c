"""Sky maps generated here (flat NESTED/RING, multi-order) checked against brute force, and the counterpart search."""

from __future__ import annotations

import json
import math

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy_healpix import lonlat_to_healpix, uniq_to_level_ipix

from conftest import make_dr_table
from skysift.io import InputError, write_parquet
from skysift.skymap import (
    CounterpartOutputs,
    CounterpartSettings,
    gaussian_density,
    make_flat_map,
    make_multiorder_map,
    read_skymap,
    ring_density,
    search_counterparts,
    select_skymap_counterparts,
    write_skymap,
)
from skysift.skymap.generate import _angular_distance
from skysift.skymap.plot import _pixel_centre

SHAPES = {
    "blob": gaussian_density(120.0, -30.0, 3.0),
    "ring": ring_density(200.0, 40.0, 10.0, 1.5),
    "ra0": gaussian_density(0.3, 5.0, 4.0),
    "pole": gaussian_density(77.0, 88.0, 3.0),
}
CENTRES = {"blob": (120.0, -30.0), "ring": (200.0, 40.0), "ra0": (0.3, 5.0), "pole": (77.0, 88.0)}
FORMATS = ("nested", "ring", "multiorder")


def build(shape: str, fmt: str):
    """One generated map: flat NSIDE 128 (NESTED or RING) or multi-order down to order 8."""
    if fmt == "multiorder":
        return make_multiorder_map(SHAPES[shape], 8, event_mjd=59000.0, name=f"{shape}-{fmt}")
    return make_flat_map(SHAPES[shape], 128, nested=fmt == "nested", event_mjd=59000.0, name=f"{shape}-{fmt}")


def brute_rows(sky, ra, dec) -> np.ndarray:
    """The map row of each position found the slow way: every order's nested index matched against UNIQ."""
    if not sky.multiorder:
        order = "nested" if sky.nested else "ring"
        return np.asarray(lonlat_to_healpix(ra * u.deg, dec * u.deg, sky.nside, order=order))
    levels, ipix = uniq_to_level_ipix(sky.uniq)
    rows = np.full(len(ra), -1)
    for level in np.unique(levels):
        here = np.asarray(lonlat_to_healpix(ra * u.deg, dec * u.deg, 2 ** int(level), order="nested"))
        lookup = {
            int(p): r for r, p in zip(np.flatnonzero(levels == level), ipix[levels == level], strict=True)
        }
        for k, p in enumerate(here):
            if int(p) in lookup:
                rows[k] = lookup[int(p)]
    return rows


def sample_near(centre, n, rng, spread=15.0):
    """Positions around a centre (RA wrapped, Dec clipped) plus a few all-sky ones."""
    ra = (centre[0] + rng.normal(0, spread, n) / max(0.05, math.cos(math.radians(centre[1])))) % 360
    dec = np.clip(centre[1] + rng.normal(0, spread, n), -89.9, 89.9)
    ra = np.concatenate([ra, rng.uniform(0, 360, 20)])
    dec = np.concatenate([dec, np.degrees(np.arcsin(rng.uniform(-1, 1, 20)))])
    return ra, dec


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_levels_match_a_direct_sum_over_all_pixels(shape, fmt, rng):
    sky = build(shape, fmt)
    ra, dec = sample_near(CENTRES[shape], 80, rng)
    density, level = sky.credible_levels(ra, dec)
    rows = brute_rows(sky, ra, dec)
    dens = sky.prob / sky.pixel_area()
    assert np.all(rows >= 0)  # the generated maps cover the sky
    np.testing.assert_allclose(density, dens[rows], rtol=1e-12)
    key = dens if sky.multiorder else sky.prob  # flat: equal areas, compare the stored probabilities
    direct = np.array([sky.prob[key >= key[r]].sum() for r in rows])
    np.testing.assert_allclose(level, direct, atol=1e-9)
    assert sky.prob.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_monte_carlo_probability_inside_the_region_is_the_level(shape, fmt):
    sky = build(shape, fmt)
    rng = np.random.default_rng(3)
    n = 400_000
    ra, dec = rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    density, level = sky.credible_levels(ra, dec)
    for c in (0.5, 0.9):
        inside = level <= c + 1e-12
        # integral of the density over the region = 4 pi E[density * 1_inside] for uniform points
        mc = 4 * np.pi * np.mean(density * inside)
        err = 4 * np.pi * np.std(density * inside) / math.sqrt(n)
        assert mc == pytest.approx(c, abs=max(5 * err, 0.01)), (c, mc, err)
        area = 41252.96 * inside.mean()
        assert area == pytest.approx(sky.region_area_deg2(c), rel=0.12, abs=3.0)


def test_gaussian_levels_follow_the_analytic_cap_probability():
    sigma = 3.0
    for sky in (build("blob", "nested"), build("blob", "multiorder")):
        for offset in (1.0, 3.0, 6.0):  # degrees south of the centre
            _, level = sky.credible_levels(np.array([120.0]), np.array([-30.0 - offset]))
            # the level is the cap probability out to the centre of the pixel holding the point:
            # P(theta) = 1 - exp(-theta^2 / 2 sigma^2) for a narrow Gaussian
            ra_c, dec_c = _pixel_centre(sky, sky.pixel_of(np.array([120.0]), np.array([-30.0 - offset])))
            theta = np.degrees(_angular_distance(ra_c, dec_c, 120.0, -30.0))[0]
            assert level[0] == pytest.approx(1 - math.exp(-0.5 * (theta / sigma) ** 2), abs=0.01)


def test_wrap_pole_and_ring_geometry():
    for fmt in FORMATS:
        wrap = build("ra0", fmt)
        _, lv = wrap.credible_levels(np.array([359.5, 1.1, 180.0]), np.array([5.0, 5.0, 5.0]))
        assert lv[0] < 0.1 and lv[1] < 0.1 and abs(lv[0] - lv[1]) < 0.03 and lv[2] > 0.999
        pole = build("pole", fmt)
        _, lv = pole.credible_levels(np.array([0.0, 120.0, 257.0, 77.0]), np.array([90.0, 89.0, 88.0, 60.0]))
        assert np.all(lv[:3] < 0.6) and lv[3] > 0.999
        ring = build("ring", fmt)
        # on the ring (10 deg from the centre, any azimuth) vs the empty middle
        azimuth = np.radians([0, 90, 180, 270])
        dec = 40 + 10 * np.cos(azimuth)
        ra = 200 + 10 * np.sin(azimuth) / np.cos(np.radians(dec))
        _, on = ring.credible_levels(ra, dec)
        _, mid = ring.credible_levels(np.array([200.0]), np.array([40.0]))
        assert np.all(on < 0.45) and np.ptp(on) < 0.1 and mid[0] > 0.99


def test_nested_and_ring_orderings_agree_and_fits_round_trips(tmp_path, rng):
    nested, ring = build("blob", "nested"), build("blob", "ring")
    ra, dec = sample_near(CENTRES["blob"], 50, rng)
    np.testing.assert_allclose(
        nested.credible_levels(ra, dec)[1], ring.credible_levels(ra, dec)[1], atol=1e-9
    )
    multi = make_multiorder_map(SHAPES["blob"], 8, event_mjd=59000.0, name="multi", distance_mpc=(40.0, 8.0))
    for sky in (nested, ring, multi):
        path = write_skymap(sky, tmp_path / f"{sky.name}.fits")
        back = read_skymap(path)
        assert back.multiorder == sky.multiorder and back.nested == sky.nested and back.event_mjd == 59000.0
        np.testing.assert_allclose(
            back.credible_levels(ra, dec)[1], sky.credible_levels(ra, dec)[1], atol=1e-9
        )
    assert set(read_skymap(tmp_path / "multi.fits").distance) == {"DISTMU", "DISTSIGMA", "DISTNORM"}
    # flat and multi-order maps of the same blob agree to discretisation accuracy
    np.testing.assert_allclose(
        nested.credible_levels(ra, dec)[1], multi.credible_levels(ra, dec)[1], atol=0.05
    )


def test_event_time_from_date_obs_and_bad_maps_are_named(tmp_path):
    sky = build("blob", "ring")
    path = write_skymap(sky, tmp_path / "m.fits")
    with fits.open(path) as hdul:
        del hdul[1].header["MJD-OBS"]
        hdul[1].header["DATE-OBS"] = "2020-05-31T00:00:00.000"
        hdul.writeto(tmp_path / "dateobs.fits")
    assert read_skymap(tmp_path / "dateobs.fits").event_mjd == pytest.approx(59000.0)
    with fits.open(path) as hdul:
        del hdul[1].header["ORDERING"]
        hdul.writeto(tmp_path / "noorder.fits")
    with pytest.raises(InputError, match="noorder.fits.*ORDERING"):
        read_skymap(tmp_path / "noorder.fits")
    cols = fits.BinTableHDU.from_columns([fits.Column("PROB", "D", array=np.ones(100) / 100)])
    cols.header["ORDERING"] = "NESTED"
    fits.HDUList([fits.PrimaryHDU(), cols]).writeto(tmp_path / "short.fits")
    with pytest.raises(InputError, match="short.fits: 100 pixels"):
        read_skymap(tmp_path / "short.fits")
    with pytest.raises(InputError, match="does not exist"):
        read_skymap(tmp_path / "missing.fits")


def candidate_list(rows: list[tuple[int, float, float]]) -> Table:
    """A minimal candidate table (objectid, ra, dec with units) like skysift.candidates writes."""
    table = Table(rows=rows, names=("objectid", "ra", "dec"), dtype=("int64", "float64", "float64"))
    table["ra"].unit = table["dec"].unit = u.deg
    table["ra"].description = "Right ascension of the object (ICRS)"
    return table


def test_counterpart_search_ranks_window_and_lists(tmp_path):
    event = 59000.0
    sky = make_multiorder_map(SHAPES["ra0"], 8, event_mjd=event, distance_mpc=(40.0, 8.0))
    lcs = [
        # 1: near the centre, rises after the event; 2: inside but only old epochs; 3: outside the region;
        # 4: inside, a bit further out, in two lists; 5: inside, detected only 30 d after (outside the window)
        {"objectid": 1, "hmjd": [event + 0.5, event + 1.5, event + 3], "mag": [19.5, 18.9, 19.4]},
        {"objectid": 2, "hmjd": [event - 50, event - 40], "mag": [18.0, 18.1]},
        {"objectid": 3, "hmjd": [event + 1], "mag": [18.0]},
        {"objectid": 4, "hmjd": [event - 100, event + 2], "mag": [19.0, 18.5]},
        {"objectid": 5, "hmjd": [event + 30], "mag": [18.0]},
    ]
    for lc in lcs:
        lc["magerr"] = [0.05] * len(lc["hmjd"])
    clean = write_parquet(make_dr_table(lcs), tmp_path / "field000633.parquet")
    tables = {
        "kilonova": candidate_list([(4, 2.0, 6.0), (1, 0.4, 5.1)]),
        "anomalies": candidate_list([(2, 359.9, 4.0), (3, 180.0, 0.0), (4, 2.0, 6.0), (5, 0.0, 5.0)]),
    }
    table = search_counterparts(sky, tables, [clean], credible_level=0.9, window_days=(0.0, 14.0))
    assert list(table["objectid"]) == [1, 4]
    assert list(table["skymap_rank"]) == [1, 2]
    assert table["credible_level"][0] < table["credible_level"][1] <= 0.9
    assert table["lists"][1] == "kilonova,anomalies"
    assert table["first_mjd"][0] == pytest.approx(event + 0.5) and table["dt_first"][1] == pytest.approx(2.0)
    assert table["peak_mag"][0] == pytest.approx(18.9) and table["peak_mjd"][0] == pytest.approx(event + 1.5)
    assert list(table["n_before"]) == [0, 1] and table["distmu"][0] == pytest.approx(40.0)
    assert table["prob_density"].unit == u.sr**-1 and table["first_mjd"].unit == u.day
    assert table["ra"].description.startswith("Right ascension")
    # a 40-day window takes object 5 in
    wide = search_counterparts(sky, tables, [clean], credible_level=0.9, window_days=(0.0, 40.0))
    assert 5 in list(wide["objectid"])
    with pytest.raises(InputError, match="skymap.credible_level"):
        search_counterparts(sky, tables, [clean], credible_level=1.5)


def test_stage_writes_tables_plot_and_summary(tmp_path):
    event = 59000.0
    sky = make_flat_map(SHAPES["pole"], 64, nested=False, event_mjd=event)
    map_path = write_skymap(sky, tmp_path / "gw.fits")
    lcs = [{"objectid": 7, "hmjd": [event + 1, event + 2], "mag": [19.0, 18.7], "magerr": [0.1, 0.1]}]
    clean = write_parquet(make_dr_table(lcs), tmp_path / "field000633.parquet")
    candidate_list([(7, 200.0, 89.0)]).write(tmp_path / "anomalies.ecsv", format="ascii.ecsv")
    out = CounterpartOutputs(
        **{k: tmp_path / "out" / f"c.{k}" for k in ("ecsv", "csv", "png")},
        summary=tmp_path / "out" / "s.json",
    )
    settings = CounterpartSettings(credible_level=0.9, window_days=[0, 14])
    select_skymap_counterparts(
        map_path, {"anomalies": tmp_path / "anomalies.ecsv"}, [clean], out, settings, name="gw"
    )
    back = Table.read(out.ecsv)
    assert list(back["objectid"]) == [7] and back.meta["event_mjd"] == event
    assert back["credible_level"].description.startswith("Smallest credible region")
    assert out.png.read_bytes()[:4] == b"\x89PNG"
    summary = json.loads(out.summary.read_text())
    assert summary["counterparts"] == 1 and summary["format"] == "flat NSIDE 64 RING"
    assert 0 < summary["region_area_deg2"] < 200
