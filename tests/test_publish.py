"""The published bundle: files, README, provenance, SHA256SUMS, deterministic tables and tarball."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
from datetime import UTC, datetime

import astropy.units as u
import pytest
from astropy.table import Table

from candidates_data import build
from skysift.candidates import write_candidates
from skysift.candidates.html import write_html
from skysift.candidates.lightcurves import plot_lightcurves
from skysift.candidates.plots import merge_lists, plot_score_distribution, plot_sky_map
from skysift.candidates.publish import publish_bundle, verify_sha256sums, write_tarball
from skysift.provenance import config_sha256, git_revision

CONFIG = {
    "dr": "dr24",
    "source": "demo",
    "candidates": {"top_n": 5},
    "publish": {"name": "t", "version": "1"},
}


def _stage(tmp, data):
    """Write the candidate directory (tables, plots, page) as the workflow does; return the list ECSVs."""
    out = tmp / "candidates"
    ecsvs = {}
    for name, table in data["lists"].items():
        ecsvs[name] = out / f"{name}.ecsv"
        write_candidates(table, ecsvs[name], out / f"{name}.csv", out / f"{name}.vot")
    plot_lightcurves(merge_lists(data["lists"]), data["clean"], out / "lightcurves", raw_paths=data["raw"])
    plot_score_distribution(data["scores"], data["lists"], out / "score_distribution.png")
    plot_sky_map(data["lists"], out / "sky_map.png")
    write_html(data["lists"], out / "index.html")
    return out, ecsvs


def _publish(out, ecsvs, data, bundle, **kwargs):
    """Publish with the test's config."""
    return publish_bundle(
        bundle,
        ecsvs,
        name="t",
        version="1",
        config=CONFIG,
        dr="dr24",
        source="demo",
        lightcurve_dir=out / "lightcurves",
        figures=[out / "sky_map.png", out / "score_distribution.png"],
        html=out / "index.html",
        inputs=[*data["clean"], data["manifest"]],
        **kwargs,
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A bundle and everything it was made from."""
    tmp = tmp_path_factory.mktemp("pub")
    data = build(tmp)
    out, ecsvs = _stage(tmp, data)
    bundle = _publish(out, ecsvs, data, tmp / "publish" / "t-1", tarball=tmp / "publish" / "t-1.tar.gz")
    return tmp, data, out, ecsvs, bundle


def test_bundle_holds_every_file_and_tables_read_back_with_units(published):
    tmp, data, _, _, bundle = published
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    for name in data["lists"]:
        assert {f"{name}.ecsv", f"{name}.vot", f"{name}.csv"} <= names
    assert {"index.html", "README.md", "provenance.json", "SHA256SUMS", "sky_map.png"} <= names
    assert any(n.startswith("lightcurves/lc_") for n in names)
    for name, table in data["lists"].items():
        ecsv = Table.read(bundle / f"{name}.ecsv", format="ascii.ecsv")
        vot = Table.read(bundle / f"{name}.vot", format="votable")
        assert len(ecsv) == len(vot) == len(table)
        assert ecsv["ra"].unit == u.deg and vot["ra"].unit == u.deg and ecsv["period"].unit == u.day
        assert all(ecsv[c].description for c in ecsv.colnames)
        assert ecsv.meta["list"] == name and ecsv.meta["dr"] == "dr24"
    assert not list(bundle.parent.glob(".t-1.*"))  # no staging leftovers


def test_readme_documents_lists_and_every_column(published):
    _, data, _, _, bundle = published
    readme = (bundle / "README.md").read_text()
    table = data["lists"]["anomalies"]
    for column in table.colnames:
        assert f"| `{column}` |" in readme
    assert table.meta["description"] in readme
    assert "sha256sum -c SHA256SUMS" in readme


def test_provenance_records_config_hash_packages_and_inputs(published):
    _, data, _, _, bundle = published
    prov = json.loads((bundle / "provenance.json").read_text())
    assert prov["data_release"] == "dr24" and prov["source"] == "demo"
    assert prov["config"] == CONFIG
    canonical = json.dumps(CONFIG, sort_keys=True, separators=(",", ":")).encode()
    assert prov["config_sha256"] == hashlib.sha256(canonical).hexdigest() == config_sha256(CONFIG)
    assert config_sha256({**CONFIG, "dr": "dr23"}) != prov["config_sha256"]
    for package in ("skysift", "light-curve", "coniferest", "astropy", "numpy", "snakemake"):
        assert prov["packages"][package], package
    inputs = {item["path"]: item["sha256"] for item in prov["inputs"]}
    clean = data["clean"][0]
    assert inputs[clean.as_posix()] == hashlib.sha256(clean.read_bytes()).hexdigest()
    datetime.strptime(prov["created_utc"], "%Y-%m-%dT%H:%M:%SZ")
    assert prov["lists"]["anomalies"]["rows"] == len(data["lists"]["anomalies"])


def test_sha256sums_verify_and_catch_tampering(published, tmp_path):
    _, _, _, _, bundle = published
    assert verify_sha256sums(bundle) == []
    lines = (bundle / "SHA256SUMS").read_text().splitlines()
    assert all(len(line.split("  ", 1)[0]) == 64 for line in lines)
    assert [line.split("  ", 1)[1] for line in lines] == sorted(line.split("  ", 1)[1] for line in lines)
    sha256sum = subprocess.run(["sha256sum", "--version"], capture_output=True)
    if sha256sum.returncode == 0:  # coreutils agrees
        assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=bundle).returncode == 0
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(bundle, copy)
    with open(copy / "anomalies.csv", "a") as fh:
        fh.write("1,2,3\n")
    (copy / "extra.txt").write_text("not listed")
    assert verify_sha256sums(copy) == ["anomalies.csv", "extra.txt"]


def test_republishing_gives_identical_tables_and_a_deterministic_tarball(published):
    tmp, data, out, ecsvs, bundle = published
    # regenerate the tables from the same inputs, then publish again into a new bundle
    from skysift.candidates import select_candidates

    for name, spec in data["specs"].items():
        table = select_candidates(
            data["features"],
            data["scores"],
            data["predictions"],
            data["xmatch"],
            spec,
            name=name,
            nepochs_df=data["nepochs"],
        )
        write_candidates(table, out / f"{name}.ecsv", out / f"{name}.csv", out / f"{name}.vot")
    again = _publish(out, ecsvs, data, tmp / "publish2" / "t-1", now=datetime(2030, 1, 1, tzinfo=UTC))
    for name in data["lists"]:
        for fmt in ("ecsv", "vot", "csv"):
            assert (bundle / f"{name}.{fmt}").read_bytes() == (again / f"{name}.{fmt}").read_bytes(), (
                name,
                fmt,
            )
    assert (bundle / "README.md").read_bytes() == (again / "README.md").read_bytes()
    tar_a = write_tarball(again, tmp / "a.tar.gz")
    tar_b = write_tarball(again, tmp / "b.tar.gz")
    assert tar_a.read_bytes() == tar_b.read_bytes()
    with tarfile.open(tmp / "publish" / "t-1.tar.gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert all(m.mtime == members[0].mtime and m.uid == 0 for m in members)
        assert tar.extractfile("t-1/SHA256SUMS").read() == (bundle / "SHA256SUMS").read_bytes()


def test_git_revision(tmp_path):
    assert git_revision(tmp_path) is None
    repo = tmp_path / "repo"
    repo.mkdir()
    env = ["-c", "user.email=t@example.org", "-c", "user.name=t"]
    try:
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git not available")
    (repo / "f").write_text("x")
    subprocess.run(["git", "-C", str(repo), "add", "f"], check=True)
    subprocess.run(["git", *env, "-C", str(repo), "commit", "-qm", "m"], check=True)
    rev = git_revision(repo)
    assert rev is not None and len(rev["revision"]) == 40 and rev["dirty"] is False
    (repo / "f").write_text("y")
    assert git_revision(repo)["dirty"] is True
