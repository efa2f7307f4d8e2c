"""Local cross-match: nearest source within the radius, type -> class mapping, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from astropy.table import Table

from skysift.crossmatch import CatalogSpec, crossmatch_objects, load_taxonomy, map_type
from skysift.crossmatch.catalogs import load_catalog
from skysift.crossmatch.local import dec_band
from skysift.io import InputError


def test_map_type_handles_compound_uncertain_and_unknown_types():
    vsx = load_taxonomy()["vsx"]
    assert map_type("RRAB", vsx) == "rrlyrae"
    assert map_type("EA/DM", vsx) == "eclipsing_binary"
    assert map_type("EW:", vsx) == "eclipsing_binary"
    assert map_type("RRAB|RRC", vsx) == "rrlyrae"
    assert map_type("MISC", vsx) == ""
    assert map_type("XYZ", vsx) == ""
    assert map_type(None, vsx) == ""
    simbad = load_taxonomy()["simbad"]
    assert map_type("RR*", simbad) == "rrlyrae"
    assert map_type("RR*?", simbad) == ""  # candidates are not labels
    assert map_type("SN Ia", load_taxonomy()["tns"]) == "snia"


def test_nearest_match_within_radius(tmp_path):
    rng = np.random.default_rng(1)
    n = 200
    ra = 150 + rng.uniform(-1, 1, n)
    dec = 20 + rng.uniform(-1, 1, n)
    objects = pd.DataFrame({"objectid": np.arange(n, dtype=np.int64) + 1000, "ra": ra, "dec": dec})
    # catalog: the first 100 objects shifted by 0.5", the next 50 by 5" (too far), plus a decoy 0.9" away
    offset = np.r_[np.full(100, 0.5), np.full(50, 5.0)] / 3600
    cat = Table(
        {
            "ID": [f"V{i}" for i in range(150)] + ["decoy"],
            "RAJ2000": np.r_[ra[:150] + offset / np.cos(np.radians(dec[:150])), ra[0]],
            "DEJ2000": np.r_[dec[:150], dec[0] + 0.9 / 3600],
            "VType": ["RRAB"] * 50 + ["EW"] * 50 + ["RRAB"] * 50 + ["M"],
        }
    )
    path = tmp_path / "vsx.ecsv"
    cat.write(path)
    spec = CatalogSpec.from_config(
        "vsx",
        {
            "path": str(path),
            "id_column": "ID",
            "ra_column": "RAJ2000",
            "dec_column": "DEJ2000",
            "type_column": "VType",
            "radius_arcsec": 1.0,
        },
    )
    out_path = tmp_path / "x.parquet"
    result = crossmatch_objects(objects, [spec], out_path)
    assert len(result) == 100
    assert set(result["objectid"]) == set(range(1000, 1100))
    assert result["sep_arcsec"].between(0.45, 0.55).all()
    first = result.set_index("objectid").loc[1000]
    assert first["match_name"] == "V0"  # nearer than the decoy
    assert (result["label"] == np.where(result["objectid"] < 1050, "rrlyrae", "eclipsing_binary")).all()
    assert pq.read_table(out_path).num_rows == 100


def test_missing_column_names_the_config_key(tmp_path):
    path = tmp_path / "cat.parquet"
    pd.DataFrame({"name": ["a"], "RA": [1.0], "dec": [2.0], "type": ["*"]}).to_parquet(path)
    spec = CatalogSpec.from_config("simbad", {"path": str(path)})
    with pytest.raises(InputError, match=r"crossmatch.catalogs.simbad.ra_column='ra'"):
        crossmatch_objects(pd.DataFrame({"objectid": [1], "ra": [1.0], "dec": [2.0]}), [spec])
    with pytest.raises(InputError, match="not found"):
        crossmatch_objects(
            pd.DataFrame({"objectid": [1], "ra": [1.0], "dec": [2.0]}),
            [CatalogSpec.from_config("x", {"path": str(tmp_path / "nope.parquet")})],
        )


def test_taxonomy_covers_every_type_the_demo_emits():
    """A demo catalog type without a taxonomy entry would silently lose training labels."""
    from skysift.simulate import CATALOG_TYPES

    taxonomy = load_taxonomy()
    for catalog, types in CATALOG_TYPES.items():
        unmapped = {t for t in types if t and t.rstrip(":") not in taxonomy[catalog]}
        assert not unmapped, (catalog, unmapped)


def test_padded_catalog_strings_are_stripped(tmp_path):
    """A real VSX file pads its fixed-width columns ("RS                "): outputs carry the bare strings."""
    objects = pd.DataFrame({"objectid": [1, 2, 3], "ra": [10.0, 10.01, 10.02], "dec": [5.0, 5.0, 5.0]})
    cat = Table(
        {
            "Name": ["  V0001 Psc      ", "ASASSN-V J004  ", "\tZTF J0040 "],
            "RAJ2000": [10.0, 10.01, 10.02],
            "DEJ2000": [5.0001, 5.0001, 5.0001],
            "Type": ["RS                ", "  EW:  ", "RRAB|RRC   "],
        }
    )
    cat.write(tmp_path / "vsx.fits")
    spec = CatalogSpec.from_config(
        "vsx",
        {"path": str(tmp_path / "vsx.fits"), "id_column": "Name", "ra_column": "RAJ2000"}
        | {"dec_column": "DEJ2000", "type_column": "Type"},
    )
    out = crossmatch_objects(
        objects, [spec], tmp_path / "x.parquet", all_matches_output=tmp_path / "all.parquet"
    )
    for table in (out, pd.read_parquet(tmp_path / "x.parquet"), pd.read_parquet(tmp_path / "all.parquet")):
        assert table["match_name"].tolist() == ["V0001 Psc", "ASASSN-V J004", "ZTF J0040"]
        assert table["match_type"].tolist() == ["RS", "EW:", "RRAB|RRC"]
    assert out["label"].tolist() == ["", "eclipsing_binary", "rrlyrae"]


def test_a_parquet_catalog_is_read_for_the_batch_declination_band_and_its_columns_only(tmp_path):
    """A per-batch job reads a parquet catalog with column selection and a dec filter pushed down to its row
    groups (a local Gaia file is not held per batch); the matches are those of the whole catalog."""
    rng = np.random.default_rng(4)
    n = 20_000
    catalog = pd.DataFrame(
        {
            "name": [f"S{i}" for i in range(n)],
            "ra": rng.uniform(0, 360, n),
            "dec": np.sort(
                rng.uniform(-30, 80, n)
            ),  # sorted: row groups cover dec bands, as a sky-sorted file
            "type": rng.choice(["RRAB", "EW"], n),
            "wide": rng.normal(size=n),  # a column the matcher never needs
        }
    )
    path = tmp_path / "cat.parquet"
    catalog.to_parquet(path, row_group_size=1000)
    near = catalog[(catalog["dec"] > 40) & (catalog["dec"] < 41)].head(30)
    objects = pd.DataFrame(
        {
            "objectid": np.arange(len(near)) + 1,
            "ra": near["ra"].to_numpy(),
            "dec": near["dec"].to_numpy() + 0.3 / 3600,
        }
    )
    spec = CatalogSpec.from_config("vsx", {"path": str(path), "radius_arcsec": 1.0})
    band = dec_band(objects["dec"].to_numpy(), spec.radius_arcsec)
    rows = load_catalog(spec, band)
    assert list(rows.columns) == ["name", "ra", "dec", "type", "mag"]
    assert 0 < len(rows) < n / 50 and rows["dec"].between(*band).all()
    assert len(load_catalog(spec)) == n
    result = crossmatch_objects(objects, [spec])
    assert sorted(result["match_name"]) == sorted(near["name"])
    assert result["sep_arcsec"].between(0.29, 0.31).all()
    # no finite position: no cut; a band never leaves the sphere
    assert dec_band(np.array([np.nan]), 1.0) is None
    assert dec_band(np.array([89.9999]), 1.0)[1] == 90.0
