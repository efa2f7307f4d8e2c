"""The credible region written as a MOC: same area and same membership as the map's own region."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from mocpy import MOC

from skysift.skymap.moc import credible_moc, write_moc
from test_skymap import CENTRES, build, sample_near


@pytest.mark.parametrize("fmt", ["nested", "ring", "multiorder"])
@pytest.mark.parametrize("shape", ["blob", "ra0", "pole"])
def test_moc_area_and_membership_match_the_region(shape, fmt, tmp_path, rng):
    sky = build(shape, fmt)
    path = write_moc(sky, 0.9, tmp_path / "region.moc.fits")
    moc = MOC.load(str(path), format="fits")
    assert moc == credible_moc(sky, 0.9)
    area = moc.sky_fraction * 4 * np.pi * (180 / np.pi) ** 2
    assert area == pytest.approx(sky.region_area_deg2(0.9), rel=1e-9)
    ra, dec = sample_near(CENTRES[shape], 300, rng)
    rows = sky.pixel_of(ra, dec)
    inside_map = (rows >= 0) & sky.region_mask(0.9)[np.clip(rows, 0, None)]
    inside_moc = moc.contains_lonlat(ra * u.deg, dec * u.deg)
    assert inside_map.any() and (~inside_map).any()
    np.testing.assert_array_equal(inside_moc, inside_map)
