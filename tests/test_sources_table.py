"""Source table: the demo release exported to long CSV/parquet (renamed columns) reaches ``clean``
exactly as from the local mirror; bad mappings and ids give errors naming the key and the file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from skysift.clean import clean_files
from skysift.io import InputError
from skysift.layout import read_dr_files
from skysift.sources.local import fetch_local_batch
from skysift.sources.table import convert_table, decode_objectids, table_fields

FIELD = 633
CLEAN = {"min_epochs": 5}
COLUMNS = {
    "objectid": "oid",
    "filter": "band",
    "time": "t",
    "mag": "m",
    "magerr": "e",
    "ra": "ra_deg",
    "dec": "dec_deg",
    "catflags": "flags",
    "clrcoeff": "cc",
    "fieldid": None,
    "rcid": None,
}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A small simulated release (one field) and its long-format export."""
    from skysift.simulate import simulate_release

    root = tmp_path_factory.mktemp("release")
    simulate_release(root, n_objects=200, fields=[FIELD], ccds=[1, 2], quadrants=[1, 3], seed=5)
    table = read_dr_files(sorted((root / "dr24").glob("*/field*/ztf_*.parquet"))).to_pandas()
    n = table["nepochs"].to_numpy()
    codes = np.array(["", "g", "zr", "3"], dtype=object)  # mixed spellings of the filter
    long = pd.DataFrame(
        {
            "oid": np.repeat(table["objectid"].to_numpy(), n),
            "band": np.repeat(codes[table["filterid"].to_numpy()], n),
            "t": np.concatenate(table["hmjd"].to_numpy()),
            "m": np.concatenate(table["mag"].to_numpy()),
            "e": np.concatenate(table["magerr"].to_numpy()),
            "cc": np.concatenate(table["clrcoeff"].to_numpy()),
            "flags": np.concatenate(table["catflags"].to_numpy()),
            "ra_deg": np.repeat(table["objra"].to_numpy().astype(np.float64), n),
            "dec_deg": np.repeat(table["objdec"].to_numpy().astype(np.float64), n),
        }
    )
    # objects in shuffled order, and one light curve's epochs reversed: the conversion sorts by time
    # (stably, so epochs of equal time, the demo's duplicates, keep their order and clean keeps the same one)
    order = np.random.default_rng(1).permutation(len(table))
    start = np.concatenate([[0], np.cumsum(n)])
    blocks = [np.arange(start[i], start[i + 1]) for i in order]
    unique_times = next(k for k, b in enumerate(blocks) if long["t"].iloc[b].is_unique)
    blocks[unique_times] = blocks[unique_times][::-1]
    return root, long.iloc[np.concatenate(blocks)].reset_index(drop=True)


def cleaned(release_root, out) -> pd.DataFrame:
    """Verify the field's files like a local mirror, clean them, return the clean table."""
    files = fetch_local_batch(release_root, FIELD, out.with_suffix(".tsv"))
    clean_files(files, out, CLEAN)
    return pq.read_table(out).to_pandas()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_long_table_reaches_clean_like_the_mirror(release, tmp_path, fmt):
    root, long = release
    path = tmp_path / f"lc.{fmt}"
    long.to_csv(path, index=False) if fmt == "csv" else long.to_parquet(path)
    assert table_fields(path, COLUMNS) == [FIELD]
    out = tmp_path / "table" / "dr24"
    convert_table(path, COLUMNS, out, "dr24")
    ref = cleaned(root / "dr24", tmp_path / "ref.parquet")
    got = cleaned(out, tmp_path / "got.parquet")
    assert len(ref) > 100
    # the same DR files, light curves, values and dtypes (CSV round-trips floats via repr, exactly)
    assert sorted(p.name for p in out.glob("*/field*/*.parquet")) == sorted(
        p.name for p in (root / "dr24").glob("*/field*/*.parquet")
    )
    pd.testing.assert_frame_equal(ref, got)


def test_missing_and_misnamed_columns_name_the_key_and_file(release, tmp_path):
    _, long = release
    path = tmp_path / "lc.csv"
    long.head(50).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"lc.csv: column\(s\) not found \(fetch.table.columns.mag='mag'\)"):
        convert_table(path, {**COLUMNS, "mag": "mag"}, tmp_path / "o", "dr24")
    with pytest.raises(InputError, match=r"fetch.table.columns.time: required, name the column of .*lc.csv"):
        convert_table(path, {**COLUMNS, "time": None}, tmp_path / "o", "dr24")
    bad = long.head(50).assign(band="u")
    bad.to_csv(path, index=False)
    with pytest.raises(
        InputError, match=r"column 'band' \(fetch.table.columns.filter\) has unknown filter value"
    ):
        convert_table(path, COLUMNS, tmp_path / "o", "dr24")
    with pytest.raises(InputError, match=r"missing.*fetch.table.path"):
        convert_table(tmp_path / "missing.csv", COLUMNS, tmp_path / "o", "dr24")


def test_non_ztf_ids_need_a_field_column_or_default(tmp_path):
    epochs = pd.DataFrame(
        {
            "id": [7, 7, 7, 8, 8],
            "filter": ["g", "g", "g", "r", "r"],
            "mjd": [1.0, 3.0, 2.0, 1.0, 2.0],
            "mag": [18.0, 18.1, 18.2, 17.0, 17.1],
            "magerr": [0.1] * 5,
            "ra": [10.0, 10.0, 10.0, 20.0, 20.0],
            "dec": [5.0, 5.0, 5.0, -5.0, -5.0],
        }
    )
    path = tmp_path / "own.csv"
    epochs.to_csv(path, index=False)
    columns = {
        "objectid": "id",
        "filter": "filter",
        "time": "mjd",
        "mag": "mag",
        "magerr": "magerr",
        "ra": "ra",
        "dec": "dec",
    }
    with pytest.raises(InputError, match=r"objectid\(s\) \[7, 8\] are not ZTF DR ids.*fetch.table.fieldid"):
        table_fields(path, columns)
    with pytest.raises(InputError, match=r"no fieldid for objectid\(s\) \[7, 8\].*fetch.table.fieldid"):
        convert_table(path, columns, tmp_path / "o", "dr24")
    assert table_fields(path, columns, fieldid=1500) == [1500]
    files = convert_table(path, columns, tmp_path / "o" / "dr24", "dr24", fieldid=1500, rcid=5)
    got = read_dr_files(files).to_pandas().set_index("objectid")
    assert got.loc[7, "hmjd"].tolist() == [1.0, 2.0, 3.0]  # sorted by time
    assert set(got["fieldid"]) == {1500} and set(got["rcid"]) == {5}
    assert {f.name for f in files} == {
        "ztf_001500_zg_c02_q2_dr24.parquet",
        "ztf_001500_zr_c02_q2_dr24.parquet",
    }
    epochs.assign(filter=["g", "g", "g", "r", "g"]).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"objectid\(s\) \[8\] have epochs in more than one filter"):
        convert_table(path, columns, tmp_path / "o" / "dr24", "dr24", fieldid=1500)


def test_ztf_objectids_decode_to_field_and_readout_channel():
    d = decode_objectids(
        np.array([633207400004730, 1721112100000001, 5, 633107400004730]), np.array([2, 1, 1, 2])
    )
    assert d["ztf"].tolist() == [True, True, False, False]  # last: filter digit 1 but band r
    assert d.loc[0, "fieldid"] == 633 and d.loc[0, "rcid"] == 4 * 6 + 3
    assert d.loc[1, "fieldid"] == 1721 and d.loc[1, "rcid"] == 4 * 11 + 0


@pytest.mark.workflow
def test_workflow_converts_the_table_then_cleans(release, tmp_path):
    import yaml

    from test_workflow import snakemake

    _, long = release
    long.to_parquet(tmp_path / "lc.parquet")
    config = {
        "source": "table",
        "fetch": {"table": {"path": str(tmp_path / "lc.parquet"), "columns": COLUMNS}},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(tmp_path, "results/clean/field000633.parquet")
    assert (tmp_path / "results/mirror/table/dr24/checksum.md5").exists()
    assert "light curves" in (tmp_path / "logs/convert_table.log").read_text()
    assert len(pq.read_table(tmp_path / "results/clean/field000633.parquet")) > 100
