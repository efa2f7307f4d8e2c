"""DR layout (paths, checksums) and the local-mirror fetch (verification, manifest)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_dr_table
from skysift.config import SCHEMA_PATH, validate_config
from skysift.io import InputError, write_parquet
from skysift.layout import DRFile, dr_file_path, parse_dr_path, read_checksums, read_dr_files, write_checksums
from skysift.sources import SourceSettings, fetch_batch, release_parent, resolve_fields
from skysift.sources.local import fetch_local_batch, read_manifest, release_fields


def _mirror(tmp_path, fields=(633, 1721)):
    """A tiny mirror: two fields, g and r, one quadrant each, with checksum.md5."""
    root = tmp_path / "mirror" / "dr24"
    for field in fields:
        for filterid in (1, 2):
            lc = {
                "objectid": field * 10 + filterid,
                "filterid": filterid,
                "hmjd": np.arange(12.0),
                "mag": np.full(12, 18.0),
                "magerr": np.full(12, 0.05),
            }
            path = root / dr_file_path("dr24", field, filterid, 1, 2)
            write_parquet(make_dr_table([lc], fieldid=field, rcid=1), path)
    write_checksums(root)
    return root


def test_paths_follow_the_irsa_layout():
    rel = dr_file_path("dr24", 1721, 2, 3, 4)
    assert rel == "1/field001721/ztf_001721_zr_c03_q4_dr24.parquet"
    info = parse_dr_path(rel)
    assert info == DRFile("dr24", 1721, 2, 3, 4)
    assert info.rcid == 11
    assert info.relpath == rel
    with pytest.raises(ValueError, match="not a ZTF DR"):
        parse_dr_path("field001721/lightcurves.parquet")


def test_checksums_round_trip_and_tolerate_md5sum_variants(tmp_path):
    root = _mirror(tmp_path)
    sums = read_checksums(root / "checksum.md5")
    assert len(sums) == 4 and all(len(v) == 32 for v in sums.values())
    (tmp_path / "alt.md5").write_text(f"{'A' * 32} *./0/field000633/x.parquet\n\n")
    assert read_checksums(tmp_path / "alt.md5") == {"0/field000633/x.parquet": "a" * 32}
    (tmp_path / "bad.md5").write_text("not a checksum line\n")
    with pytest.raises(ValueError, match="bad.md5:1"):
        read_checksums(tmp_path / "bad.md5")


def test_fetch_verifies_and_lists_the_field(tmp_path):
    root = _mirror(tmp_path)
    assert release_fields(root) == [633, 1721]
    manifest = tmp_path / "m.tsv"
    files = fetch_local_batch(root, 1721, manifest)
    assert [f.name for f in files] == [
        "ztf_001721_zg_c01_q2_dr24.parquet",
        "ztf_001721_zr_c01_q2_dr24.parquet",
    ]
    assert read_manifest(manifest) == files
    table = read_dr_files(files)
    assert table.column("objectid").to_pylist() == [17211, 17212]


def test_fetch_refuses_a_corrupt_or_missing_file(tmp_path):
    root = _mirror(tmp_path)
    victim = root / dr_file_path("dr24", 633, 2, 1, 2)
    data = bytearray(victim.read_bytes())
    data[-20] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(InputError, match="does not match checksum.md5"):
        fetch_local_batch(root, 633, tmp_path / "m.tsv")
    assert not (tmp_path / "m.tsv").exists()
    victim.unlink()
    with pytest.raises(InputError, match="missing from the mirror"):
        fetch_local_batch(root, 633, tmp_path / "m.tsv")
    with pytest.raises(InputError, match="no light-curve files for field 999"):
        fetch_local_batch(root, 999, tmp_path / "m.tsv")


def test_fetch_without_checksum_needs_a_weaker_verify_mode(tmp_path):
    root = _mirror(tmp_path)
    (root / "checksum.md5").unlink()
    with pytest.raises(InputError, match="fetch.verify: exists"):
        fetch_local_batch(root, 633, tmp_path / "m.tsv")
    assert len(fetch_local_batch(root, 633, tmp_path / "m.tsv", verify="exists")) == 2
    assert release_fields(root) == [633, 1721]


def test_reader_names_the_file_with_a_wrong_schema(tmp_path):
    import pyarrow as pa

    bad = tmp_path / "ztf_000633_zr_c01_q1_dr24.parquet"
    write_parquet(pa.table({"objectid": [1], "mag": [[1.0]]}), bad)
    with pytest.raises(InputError, match="ztf_000633_zr_c01_q1_dr24.parquet: missing DR light-curve column"):
        read_dr_files([bad])


def test_local_source_resolves_fields_and_selects_files(tmp_path):
    root = _mirror(tmp_path)

    def settings(**fetch):
        return SourceSettings.from_config(validate_config({"source": "local", "fetch": fetch}, SCHEMA_PATH))

    mirror = settings(local_path=str(root.parent), filters=["g"])
    assert resolve_fields(mirror) == [633, 1721]
    assert release_parent(mirror, "unused") == str(root.parent)
    files = fetch_batch(mirror, root, 1721, tmp_path / "m.tsv")
    assert [f.name for f in files] == ["ztf_001721_zg_c01_q2_dr24.parquet"]
    assert resolve_fields(settings(local_path=str(root.parent), fields=[1721])) == [1721]
    with pytest.raises(InputError, match=r"fetch.fields \[999\] are not in the mirror"):
        resolve_fields(settings(local_path=str(root.parent), fields=[999]))
    with pytest.raises(InputError, match="fetch.local_path is not set"):
        resolve_fields(settings())
    with pytest.raises(InputError, match="release directory not found; set fetch.local_path"):
        resolve_fields(settings(local_path=str(tmp_path / "nowhere")))
    (tmp_path / "empty" / "dr24").mkdir(parents=True)
    with pytest.raises(InputError, match="no ZTF DR light-curve files found"):
        resolve_fields(settings(local_path=str(tmp_path / "empty")))


def test_batch_lists_round_trip_and_name_what_is_missing(tmp_path):
    """A batch list names its files in order; reading it fails on a listed file that is gone, naming it; a
    rule's named inputs get their batch lists expanded and everything else unchanged."""
    from skysift.io import InputError, expand_batch_lists, read_batch_list, write_batch_list

    files = [tmp_path / f"field00000{i}.parquet" for i in (3, 1, 2)]
    for f in files:
        f.write_bytes(b"x")
    listed = write_batch_list(files, tmp_path / "batches.txt")
    assert read_batch_list(listed) == [str(f) for f in files]
    assert expand_batch_lists({"features": str(listed), "basis": "basis.json", "crossmatch": []}) == {
        "features": [str(f) for f in files],
        "basis": "basis.json",
        "crossmatch": [],
    }
    files[1].unlink()
    with pytest.raises(InputError, match=r"1 file\(s\) that do not exist \(first: .*field000001.parquet\)"):
        read_batch_list(listed)
    with pytest.raises(InputError, match="must be named batches.txt"):
        write_batch_list(files, tmp_path / "list.txt")
