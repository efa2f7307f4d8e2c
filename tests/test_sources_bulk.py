"""irsa_bulk: downloads from a real HTTP server on 127.0.0.1 serving a demo lc_drNN tree, with faults."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers import FakeServices
from skysift.layout import md5sum, read_checksums
from skysift.lightcurves import read_manifest
from skysift.sources.http import FetchError, HttpClient, HttpConfig
from skysift.sources.irsa_bulk import fetch_bulk_batch, fetch_checksums

FAST = {
    "timeout": 0.5,
    "retries": 3,
    "backoff": 0.01,
    "backoff_max": 0.05,
    "min_interval": 0.0,
    "concurrency": 4,
}
FIELD = 633


@pytest.fixture(scope="session")
def demo_parent(tmp_path_factory) -> Path:
    """A small simulated release served by the fake services (9 files, ~1 MB)."""
    from skysift.simulate import simulate_release

    root = tmp_path_factory.mktemp("served")
    simulate_release(root, n_objects=400, fields=[633, 1721], ccds=[1], quadrants=[1, 2], seed=3)
    return root


@pytest.fixture
def services(demo_parent):
    with FakeServices(demo_parent) as s:
        yield s


def field_files(demo_parent: Path, field: int = FIELD) -> dict[str, str]:
    """{relpath: md5} of one field of the served release."""
    sums = read_checksums(demo_parent / "dr24" / "checksum.md5")
    return {rel: md5 for rel, md5 in sums.items() if f"field{field:06d}" in rel}


def fetch(services, mirror: Path, http=None, **kw) -> list[Path]:
    """Checksums (if missing) then one field, as the workflow does."""
    client = HttpClient(HttpConfig.from_config({**FAST, **(http or {})}))
    if not (mirror / "dr24" / "checksum.md5").exists():
        fetch_checksums(services.bulk_url, "dr24", mirror / "dr24", client)
    return fetch_bulk_batch(
        services.bulk_url, "dr24", mirror / "dr24", FIELD, mirror / "m.tsv", http=client, **kw
    )


def assert_mirror_verified(demo_parent: Path, mirror: Path, field: int = FIELD) -> None:
    """Every file of the field is in the mirror with its checksum.md5 MD5, and no .part is left."""
    for rel, md5 in field_files(demo_parent, field).items():
        assert md5sum(mirror / "dr24" / rel) == md5, rel
    assert not list((mirror / "dr24").rglob("*.part"))


def test_download_verifies_writes_manifest_and_rerun_sends_nothing(services, demo_parent, tmp_path):
    files = fetch(services, tmp_path)
    expected = field_files(demo_parent)
    assert sorted(p.relative_to((tmp_path / "dr24").resolve()).as_posix() for p in files) == sorted(expected)
    assert_mirror_verified(demo_parent, tmp_path)
    assert read_manifest(tmp_path / "m.tsv") == files
    manifest = (tmp_path / "m.tsv").read_text().splitlines()
    assert manifest[0].split("\t")[-1] == "url"
    assert all(services.bulk_url.format(dr="dr24") in line for line in manifest[1:])
    requests_before = sum(c["requests"] for c in services.stats.values())
    assert requests_before == len(expected) + 1  # the files and checksum.md5, once each
    again = fetch(services, tmp_path)
    assert again == files
    assert sum(c["requests"] for c in services.stats.values()) == requests_before


def test_filters_and_ccds_select_files(services, tmp_path):
    files = fetch(services, tmp_path, filters=["r"], ccds=[1])
    assert files and all("_zr_c01_" in p.name for p in files)
    assert sum(c["requests"] for k, c in services.stats.items() if "_zg_" in k) == 0


def test_500s_timeouts_and_cut_connections_are_retried(services, demo_parent, tmp_path):
    rels = sorted(field_files(demo_parent))
    services.faults[rels[0]].update(status=2)
    services.faults[rels[1]].update(slow=1)
    services.faults[rels[2]].update(cut=2)
    services.slow_seconds = 1.5
    fetch(services, tmp_path)
    assert_mirror_verified(demo_parent, tmp_path)
    assert services.stats[rels[0]]["requests"] == 3
    assert services.stats[rels[1]]["requests"] == 2
    # The cut file resumed from what arrived: Range requests, fewer bytes than two full copies.
    size = (demo_parent / "dr24" / rels[2]).stat().st_size
    assert services.stats[rels[2]]["range_requests"] == 2
    assert services.stats[rels[2]]["bytes"] < 2 * size
    assert services.stats[rels[2]]["full"] == 0


def test_wrong_md5_is_downloaded_afresh(services, demo_parent, tmp_path):
    rel = sorted(field_files(demo_parent))[0]
    services.faults[rel].update(wrong=1)
    fetch(services, tmp_path)
    assert_mirror_verified(demo_parent, tmp_path)
    assert services.stats[rel]["requests"] == 2 and services.stats[rel]["range_requests"] == 0


def test_exhausted_retries_name_the_url_and_leave_no_file(services, demo_parent, tmp_path):
    rels = sorted(field_files(demo_parent))
    services.faults[rels[0]].update(cut=10)
    services.faults[rels[1]].update(wrong=10)
    with pytest.raises(FetchError) as info:
        fetch(services, tmp_path, http={"retries": 2})
    message = str(info.value)
    assert f"lc_dr24/{rels[0]}" in message and f"lc_dr24/{rels[1]}" in message
    assert "failed after 3 attempts" in message and "2 of" in message
    assert not (tmp_path / "dr24" / rels[0]).exists() and not (tmp_path / "dr24" / rels[1]).exists()
    assert not (tmp_path / "m.tsv").exists()
    # The other files are complete and verified, and the next run fetches only what is missing.
    for rel in rels[2:]:
        assert md5sum(tmp_path / "dr24" / rel) == field_files(demo_parent)[rel]
    services.stats.clear()
    services.faults.clear()
    fetch(services, tmp_path)
    assert_mirror_verified(demo_parent, tmp_path)
    assert set(services.stats) == {rels[0], rels[1]}


def test_a_404_is_not_retried(services, tmp_path):
    client = HttpClient(HttpConfig.from_config(FAST))
    with pytest.raises(FetchError, match=r"lc_dr99/checksum.md5: HTTP 404"):
        fetch_checksums(services.bulk_url, "dr99", tmp_path / "dr99", client)
    assert client.requests_sent == 1


def test_resume_without_range_support_restarts(services, demo_parent, tmp_path):
    rel = sorted(field_files(demo_parent))[0]
    services.faults[rel].update(cut=1)
    services.range_support = False
    fetch(services, tmp_path)
    assert_mirror_verified(demo_parent, tmp_path)
    assert services.stats[rel]["range_requests"] == 1  # asked, was ignored, restarted from byte 0
    assert services.stats[rel]["full"] == 1


def test_rate_limit_spaces_request_starts(services, tmp_path):
    fetch(services, tmp_path, http={"min_interval": 0.0})
    client = HttpClient(HttpConfig.from_config({**FAST, "min_interval": 0.05}))
    (tmp_path / "mirror2").mkdir()
    start = time.monotonic()
    fetch_checksums(services.bulk_url, "dr24", tmp_path / "mirror2" / "dr24", client)
    fetch_bulk_batch(
        services.bulk_url, "dr24", tmp_path / "mirror2" / "dr24", FIELD, tmp_path / "m2.tsv", http=client
    )
    elapsed = time.monotonic() - start
    assert client.requests_sent == 6
    assert elapsed >= 5 * 0.05


_CHILD = """
import sys
from skysift.sources.http import HttpClient, HttpConfig
from skysift.sources.irsa_bulk import fetch_bulk_batch, fetch_checksums
from pathlib import Path
url, mirror = sys.argv[1], Path(sys.argv[2])
settings = {"timeout": 5, "retries": 2, "backoff": 0.01, "backoff_max": 0.05, "min_interval": 0.0, "concurrency": 2}
client = HttpClient(HttpConfig.from_config(settings))
if not (mirror / "dr24" / "checksum.md5").exists():
    fetch_checksums(url, "dr24", mirror / "dr24", client)
for field in (633, 1721):
    fetch_bulk_batch(url, "dr24", mirror / "dr24", field, mirror / f"{field}.tsv", http=client)
"""


def test_killed_fetch_resumes_to_a_verified_mirror_without_downloading_a_file_twice(demo_parent, tmp_path):
    """SIGKILL the fetch six times at random points of the transfer, then let it finish."""
    rng = random.Random(7)
    total = sum(
        (demo_parent / "dr24" / rel).stat().st_size
        for rel in read_checksums(demo_parent / "dr24" / "checksum.md5")
    )
    kills = 0
    with FakeServices(demo_parent, throttle=0.003, chunk=2048) as services:
        cmd = [sys.executable, "-c", _CHILD, services.bulk_url, str(tmp_path)]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
        for _ in range(6):
            sent_before = sum(c["bytes"] for c in services.stats.values())
            target = sent_before + rng.randint(2048, total // 8)
            proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 30
            while sum(c["bytes"] for c in services.stats.values()) < target and proc.poll() is None:
                assert time.monotonic() < deadline, "fetch made no progress"
                time.sleep(0.002)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
        final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert final.returncode == 0, final.stderr[-3000:]
        stats = services.stats
    assert kills >= 5
    for field in (633, 1721):
        assert_mirror_verified(demo_parent, tmp_path, field)
        assert len(read_manifest(tmp_path / f"{field}.tsv")) == len(field_files(demo_parent, field))
    files = [k for k in stats if k.endswith(".parquet")]
    # A file is sent whole again only if a kill cut its first whole answer in flight (the server counts a body
    # as sent once it is in the socket, before the client stored a byte of it): at most one per connection
    # (concurrency 2) per kill; every other resume is a Range request.
    again = sum(max(0, stats[k]["full"] - 1) for k in files)
    assert again <= 2 * kills, {k: stats[k]["full"] for k in files}
    assert sum(stats[k]["range_requests"] for k in files) >= 1
    # Only bytes in flight at a kill are sent again (well under one file per kill).
    largest = max((demo_parent / "dr24" / k).stat().st_size for k in files)
    served = sum(stats[k]["bytes"] for k in files)
    assert served <= total + kills * largest // 2, (served, total, kills, largest)
