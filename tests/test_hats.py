"""HATS (lsdb, optional extra): a HATS catalog written from a demo release reaches ``clean`` like the
local mirror (source hats), and the hats cross-match backend agrees with the local one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

lsdb = pytest.importorskip("lsdb")

from skysift.clean import clean_files  # noqa: E402
from skysift.config import SCHEMA_PATH, validate_config  # noqa: E402
from skysift.crossmatch import CatalogSpec, crossmatch_objects, read_objects  # noqa: E402
from skysift.io import InputError  # noqa: E402
from skysift.layout import read_dr_files  # noqa: E402
from skysift.sources import (  # noqa: E402
    SourceSettings,
    demo_catalog_specs,
    fetch_batch,
    prepare_release,
    release_parent,
    resolve_fields,
)
from skysift.sources.hats import fetch_hats, write_hats_catalog  # noqa: E402
from skysift.sources.local import fetch_local_batch  # noqa: E402

FIELDS = [633, 634]
CLEAN = {"min_epochs": 5}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A two-field simulated release with its catalogs, and the same light curves as a HATS catalog."""
    from skysift.simulate import simulate_release

    root = tmp_path_factory.mktemp("release")
    simulate_release(root, n_objects=300, fields=FIELDS, ccds=[1], quadrants=[1, 2], seed=3)
    hats = write_hats_catalog(
        sorted((root / "dr24").glob("*/field*/ztf_*.parquet")), root / "hats" / "ztf_lc", margin_arcsec=None
    )
    return root, hats


def cleaned(release_root, field, out) -> pd.DataFrame:
    """Verify one field like a local mirror, clean it, return the clean table."""
    files = fetch_local_batch(release_root, field, out.with_suffix(".tsv"))
    clean_files(files, out, CLEAN)
    return pq.read_table(out).to_pandas()


def test_nested_catalog_reaches_clean_like_the_mirror(release, tmp_path):
    root, hats = release
    out = tmp_path / "hats" / "dr24"
    fetch_hats(str(hats), "dr24", out, fields=[633])
    assert {p.parent.name for p in out.glob("*/field*/*.parquet")} == {"field000633"}  # the field filter
    ref = cleaned(root / "dr24", 633, tmp_path / "ref.parquet")
    got = cleaned(out, 633, tmp_path / "got.parquet")
    assert len(ref) > 50
    pd.testing.assert_frame_equal(ref, got)


def test_cone_and_filters_select_light_curves(release, tmp_path):
    root, hats = release
    table = pq.read_table(next((root / "dr24").glob("*/field000634/ztf_*_zr_*.parquet"))).to_pandas()
    ra, dec = float(table["objra"].iloc[0]), float(table["objdec"].iloc[0])
    out = tmp_path / "cone" / "dr24"
    files = fetch_hats(
        str(hats),
        "dr24",
        out,
        region={"cone": {"ra": ra, "dec": dec, "radius_arcsec": 60}},
        fields=[634],
        filters=["r"],
    )
    got = pd.concat(pq.read_table(f).to_pandas() for f in files)
    assert table["objectid"].iloc[0] in set(got["objectid"]) and set(got["filterid"]) == {2}
    sep = np.hypot((got["objra"] - ra) * np.cos(np.radians(dec)), got["objdec"] - dec) * 3600
    assert sep.max() <= 60.01 and len(got) < len(table)
    with pytest.raises(InputError, match="no light curves in the selection"):
        fetch_hats(str(hats), "dr24", tmp_path / "none", fields=[633], min_nepochs=100000)


def _clean_both_fields(root, tmp_path) -> pd.DataFrame:
    """Objects of both fields' cleaned batches, as the crossmatch rule reads them."""
    parts = []
    for field in FIELDS:
        cleaned(root / "dr24", field, tmp_path / f"clean{field}.parquet")
        parts.append(read_objects(tmp_path / f"clean{field}.parquet"))
    return pd.concat(parts, ignore_index=True)


def test_hats_crossmatch_equals_the_local_backend(release, tmp_path):
    root, _ = release
    objects = _clean_both_fields(root, tmp_path)
    local, hats = [], []
    for name, spec in demo_catalog_specs(root).items():
        df = pd.read_parquet(spec["path"])
        if name == "vsx":  # a magnitude column, as VSX has (max magnitude)
            df["max_mag"] = np.round(np.linspace(10, 18, len(df)), 3)
            df.loc[df.index[::7], "max_mag"] = np.nan
            df.to_parquet(spec["path"])
            spec = {**spec, "mag_column": "max_mag"}
        path = tmp_path / "hats_catalogs" / name
        # no margin cache (it costs ~10 s of JIT compilation); the demo catalogs fit in few partitions
        lsdb.from_dataframe(
            df, ra_column=spec["ra_column"], dec_column=spec["dec_column"], margin_threshold=None
        ).write_catalog(path)
        local.append(CatalogSpec.from_config(name, spec))
        hats.append(CatalogSpec.from_config(name, {**spec, "backend": "hats", "path": str(path)}))
    kwargs = {"associate_radius_arcsec": 1.0}
    ref = crossmatch_objects(
        objects, local, tmp_path / "l.parquet", all_matches_output=tmp_path / "la.parquet", **kwargs
    )
    got = crossmatch_objects(
        objects, hats, tmp_path / "h.parquet", all_matches_output=tmp_path / "ha.parquet", **kwargs
    )
    assert ref["catalog"].nunique() == 3 and len(ref) > 30
    pd.testing.assert_frame_equal(ref, got)
    pd.testing.assert_frame_equal(
        pq.read_table(tmp_path / "l.parquet").to_pandas(), pq.read_table(tmp_path / "h.parquet").to_pandas()
    )
    pd.testing.assert_frame_equal(
        pq.read_table(tmp_path / "la.parquet").to_pandas(), pq.read_table(tmp_path / "ha.parquet").to_pandas()
    )
    # match_mag: the catalog's magnitude where a mag_column is set, NaN elsewhere
    vsx = pd.read_parquet(demo_catalog_specs(root)["vsx"]["path"]).set_index("name")["max_mag"]
    rows = ref[ref["catalog"] == "vsx"]
    assert len(rows) > 5 and rows["match_mag"].notna().any()
    np.testing.assert_array_equal(rows["match_mag"].to_numpy(), vsx.loc[rows["match_name"]].to_numpy())
    assert ref.loc[ref["catalog"] != "vsx", "match_mag"].isna().all()


def test_hats_catalog_errors_name_the_key(release, tmp_path):
    root, _ = release
    objects = _clean_both_fields(root, tmp_path).head(20)
    spec = demo_catalog_specs(root)["simbad"]
    path = tmp_path / "simbad_hats"
    df = pd.read_parquet(spec["path"])
    lsdb.from_dataframe(df, ra_column="ra", dec_column="dec", margin_threshold=None).write_catalog(path)
    bad = CatalogSpec.from_config(
        "simbad", {**spec, "backend": "hats", "path": str(path), "type_column": "kind"}
    )
    with pytest.raises(InputError, match=r"crossmatch.catalogs.simbad.type_column='kind'"):
        crossmatch_objects(objects, [bad])
    with pytest.raises(InputError, match=r"crossmatch.catalogs.simbad.path"):
        crossmatch_objects(
            objects,
            [CatalogSpec.from_config("simbad", {**spec, "backend": "hats", "path": str(tmp_path / "nope")})],
        )


def test_hats_source_prepares_the_selection_through_the_registry(release, tmp_path):
    root, hats = release
    fetch = {
        "fields": [634],
        "filters": ["r"],
        "cache_dir": str(tmp_path / "cache"),
        "hats": {"path": str(hats), "min_nepochs": 20},
    }
    settings = SourceSettings.from_config(validate_config({"source": "hats", "fetch": fetch}, SCHEMA_PATH))
    assert resolve_fields(settings) == [634]
    release_root = tmp_path / "cache" / "hats" / "dr24"
    assert release_parent(settings, "unused") == str(release_root.parent)
    prepare_release(settings, release_root)
    got = read_dr_files(fetch_batch(settings, release_root, 634, tmp_path / "m.tsv")).to_pandas()
    ref = read_dr_files(
        fetch_local_batch(root / "dr24", 634, tmp_path / "ref.tsv", filters=["r"])
    ).to_pandas()
    ref = ref[ref["nepochs"] >= 20]
    assert len(ref) > 10
    assert sorted(got["objectid"]) == sorted(ref["objectid"])
    assert set(got["filterid"]) == {2} and set(got["fieldid"]) == {634}
