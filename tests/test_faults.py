"""The fault table of the README, one test a row: what a user's run survives, through real runs.

* SIGKILL of `snakemake` (and its jobs) in each stage, then `--unlock` and a rerun: every output of the
  default target exists and equals an uninterrupted run (benchmarks/compare_runs.py), no temporary file
  is left, the published bundle verifies; a second `snakemake` in the same directory is refused while
  the first runs, and the first is not corrupted.
* a Dask worker killed mid-stage: no light curve lost or duplicated (objectid sets compared).
* the disk full while writing (a small tmpfs): a clear error, no partial file under a final name.
* zero-row, empty (0 bytes), truncated and wrong-dtype parquet files, and extra columns, in a mirror.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from skysift.layout import DR_SCHEMA, read_dr_files
from skysift.lightcurves import CleanConfig, clean_table
from workflow_runner import ROOT, SNAKEMAKE, run_snakemake

pytestmark = pytest.mark.workflow

#: The smallest demo that runs every stage of the default target.
MINI = {
    "demo": {"seed": 7, "n_objects": 700, "fields": [633]},
    "classify": {
        "n_estimators": 20,
        "cv_folds": 3,
        "active_learning": {"budget": 40, "seeds": [0], "strategies": ["uncertainty", "random"],
                            "n_estimators": 10, "n_initial": 10, "batch_size": 10},
        "early_snia": {"budget": 30, "seeds": [0], "strategies": ["uncertainty", "random"], "n_estimators": 10},
        "kilonova": {"n_basis": 40, "n_kilonova": 60, "n_constant": 200, "n_per_class": 20, "n_estimators": 20},
    },
    "anomaly": {"n_trees": 30, "compare": ["isoforest"], "pool_size": 100},
    "candidates": {"top_n": 20, "max_plots": 4},
}  # fmt: skip
#: Rules killed while one of their jobs runs, in the order a run reaches them.
KILL_AT = ["fetch_lightcurves", "clean_lightcurves", "crossmatch", "extract_features", "combine_features",
           "train_classifier", "fit_anomaly_model", "score_anomalies", "make_candidates", "plot_candidates", "publish_candidates"]  # fmt: skip


def _compare_runs():
    """benchmarks/compare_runs.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("compare_runs", ROOT / "benchmarks" / "compare_runs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _popen(workdir: Path, *args: str) -> subprocess.Popen:
    """snakemake in its own process group (so a kill takes its jobs too), output merged into one pipe."""
    cmd = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--cores", "2", *args]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip


def _run_until(proc: subprocess.Popen, rules: list[str], delay: float) -> str | None:
    """Read the run's output; ``delay`` s after a job of the first of ``rules`` starts, SIGKILL the whole
    process group and return that rule (None if the run ended first)."""
    killed: list[str] = []
    timer: list[threading.Timer] = []

    def kill(rule: str) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            killed.append(rule)

    for line in proc.stdout:
        stripped = line.strip().removeprefix("local")
        for rule in rules:
            if not timer and stripped == f"rule {rule}:":
                timer.append(threading.Timer(delay, kill, (rule,)))
                timer[0].start()
    proc.wait()
    return killed[0] if killed else None


def _leftovers(results: Path) -> list[str]:
    """Temporary files of interrupted writes (atomic writes leave none behind a finished run)."""
    return sorted(
        str(p.relative_to(results)) for p in results.rglob("*") if p.name.endswith((".tmp", ".part"))
    )


def _outputs(results: Path) -> set[str]:
    """Every result file except run-dependent ones (timings, the bundle archive's bytes)."""
    return {
        str(p.relative_to(results)) for p in results.rglob("*") if p.is_file() and "benchmarks" not in p.parts
    }


def _kill_in_stages_and_compare(tmp_path: Path, targets: list[str], kill_at: list[str]) -> list[str]:
    """An uninterrupted run (with a second snakemake refused in its directory) and a run killed (snakemake and
    its jobs, SIGKILL) while a job of each of ``kill_at`` runs, unlocked and rerun each time; both must end
    with the same outputs. Returns the rules killed."""
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    for workdir in (reference, killed):
        workdir.mkdir()
        (workdir / "config.yaml").write_text(yaml.safe_dump(MINI))

    first = _popen(reference, *targets)
    deadline = time.monotonic() + 300
    while not list((reference / ".snakemake" / "locks").glob("*")):
        assert first.poll() is None and time.monotonic() < deadline, (
            "the first run never locked its directory"
        )
        time.sleep(0.1)
    # refused: by the lock, or (while a job writes) for its incomplete outputs, whose advice to rerun with
    # --rerun-incomplete (what profiles/local sets) then meets the lock. The first run is stopped (SIGSTOP)
    # meanwhile, so that it cannot finish before the others have asked.
    os.killpg(first.pid, signal.SIGSTOP)
    try:
        second = run_snakemake(reference, "--cores", "1", *targets, check=False)
        third = run_snakemake(reference, "--cores", "1", "--rerun-incomplete", *targets, check=False)
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    assert second.returncode != 0, second.stdout[-2000:]
    assert third.returncode != 0 and "LockException" in third.stdout + third.stderr, third.stderr[-2000:]
    out, _ = first.communicate(timeout=1800)
    assert first.returncode == 0, out[-4000:]  # the first run was not disturbed

    kills: list[str] = []
    remaining = list(kill_at)
    for _ in range(len(kill_at) + 1):
        proc = _popen(killed, "--rerun-incomplete", *targets)
        rule = _run_until(proc, remaining, delay=1.0)
        if rule is None:
            assert proc.returncode == 0, "a rerun after a kill failed"
            break
        kills.append(rule)
        remaining = remaining[remaining.index(rule) + 1 :]
        run_snakemake(killed, "--unlock", "--cores", "1", *targets)
    else:
        run_snakemake(killed, "--cores", "2", "--rerun-incomplete", *targets)
    done = run_snakemake(killed, "-n", "--cores", "1", *targets)
    assert "Nothing to be done" in done.stdout + done.stderr

    ref, got = reference / "results", killed / "results"
    assert _outputs(got) == _outputs(ref)
    rows = _compare_runs().compare(ref, got, 1e-9)
    assert rows and all(status == "SAME" for _, status, _ in rows), [r for r in rows if r[1] != "SAME"]
    assert _leftovers(got) == [] and _leftovers(ref) == []
    print(
        f"killed (SIGKILL of snakemake and its jobs) while these rules ran: {kills}; {len(rows)} outputs SAME"
    )
    return kills


@pytest.mark.e2e
def test_sigkill_in_the_batch_stages_then_rerun_equals_an_uninterrupted_run(tmp_path):
    """The per-batch stages and the anomaly search (the default suite's share of the row; all stages: slow)."""
    targets = ["results/features/features.h5", "results/anomaly/scores.parquet"]
    kills = _kill_in_stages_and_compare(
        tmp_path, targets, KILL_AT[:5] + ["fit_anomaly_model", "score_anomalies"]
    )
    assert len(kills) >= 4, kills  # a stage already done by the next rerun is skipped


@pytest.mark.slow
def test_sigkill_in_each_stage_of_the_default_target_then_rerun_equals_an_uninterrupted_run(tmp_path):
    from skysift.candidates.publish import verify_sha256sums

    kills = _kill_in_stages_and_compare(tmp_path, [], KILL_AT)
    assert len(kills) >= 7, kills
    bundle = next(p for p in (tmp_path / "killed/results/publish").iterdir() if p.is_dir())
    assert verify_sha256sums(bundle) == []


def test_dask_worker_killed_mid_stage_loses_and_duplicates_no_light_curve(tmp_path):
    from distributed import Client, LocalCluster

    from skysift.features import extract_features
    from skysift.simulate import simulate_release

    simulate_release(tmp_path / "demo", n_objects=1500, fields=[633], seed=3)
    files = sorted((tmp_path / "demo").glob("dr24/*/field*/ztf_*.parquet"))
    cleaned = clean_table(read_dr_files(files), CleanConfig.from_config({"min_epochs": 5}))
    clean_path = tmp_path / "field000633.parquet"
    pq.write_table(cleaned, clean_path, row_group_size=50)  # many small tasks
    features = {"names": "default", "min_points": 5, "rows_per_task": 50}
    serial = extract_features([clean_path], tmp_path / "serial.parquet", features)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB",
                     local_directory=tmp_path / "dask", dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        outcome: dict = {}
        worker = threading.Thread(
            target=lambda: outcome.update(
                extract_features([clean_path], tmp_path / "dask.parquet", features, client=client)
            )
        )
        worker.start()
        deadline = time.monotonic() + 120
        while not any(client.processing().values()):
            assert time.monotonic() < deadline and worker.is_alive(), "no task ever ran"
            time.sleep(0.01)
        busy = next(addr for addr, tasks in client.processing().items() if tasks)
        pid = client.run(os.getpid, workers=[busy])[busy]
        os.kill(pid, signal.SIGKILL)  # mid-stage: a task is running on it
        assert worker.is_alive(), "the stage finished before the kill"
        worker.join(timeout=300)
    assert not worker.is_alive() and outcome["rows"] == serial["rows"] == cleaned.num_rows
    got = pq.read_table(tmp_path / "dask.parquet").to_pandas()
    want = pq.read_table(tmp_path / "serial.parquet").to_pandas()
    assert not got["objectid"].duplicated().any()
    assert set(got["objectid"]) == set(want["objectid"]) == set(cleaned.column("objectid").to_pylist())
    got = got.set_index("objectid").loc[want["objectid"]].reset_index()
    assert np.allclose(got["amplitude"], want["amplitude"], equal_nan=True)


def _unshare() -> list[str] | None:
    """A command prefix that runs in a private mount namespace where we may mount a tmpfs, if the OS allows."""
    prefix = ["unshare", "-rm"] if os.geteuid() != 0 else ["unshare", "-m"]
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run([*prefix, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || "
                            "mount -t tmpfs -o size=64k tmpfs /tmp"], capture_output=True)  # fmt: skip
    return prefix if probe.returncode == 0 else None


@pytest.mark.e2e
def test_disk_full_while_writing_features_gives_a_clear_error_and_no_partial_file(tmp_path):
    prefix = _unshare()
    if prefix is None:
        pytest.skip("no private mount namespace here to mount a small tmpfs (unshare -m)")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"demo": {"n_objects": 400, "fields": [633]}}))
    run_snakemake(tmp_path, "--cores", "1", "results/fetch/field000633.tsv")
    features = tmp_path / "results" / "features"
    features.mkdir(parents=True)
    target = "results/features/field000633.parquet"
    cmd = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(tmp_path / "config.yaml"), "--cores", "1", target]  # fmt: skip
    listing = tmp_path / "left_on_the_small_disk.txt"
    script = (
        f"mount -t tmpfs -o size=8k tmpfs {features} || exit 99; "
        + " ".join(f"'{c}'" for c in cmd)
        + f"; status=$?; ls -A {features} > {listing}; exit $status"
    )
    proc = subprocess.run([*prefix, "sh", "-c", script], capture_output=True, text=True, timeout=900)
    assert proc.returncode not in (0, 99), proc.stderr[-3000:]
    log = (tmp_path / "logs/extract_features/field000633.log").read_text()
    assert "the disk is full" in log and "field000633.parquet" in log and "Free space on" in log, log[-3000:]
    assert listing.read_text() == ""  # no partial file under the final name, no temporary file left
    # with room on the disk the same command succeeds: the failure was the disk, nothing else
    run_snakemake(tmp_path, "--cores", "1", target)
    assert pq.read_table(tmp_path / target).num_rows > 0


def _mirror_with_bad_files(tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """A local mirror of four demo fields: three with one bad file each, one with a zero-row file and a file
    with extra columns; field -> fault."""
    from skysift.simulate import simulate_release

    faults = {633: "zero rows, extra columns", 634: "empty file", 635: "truncated", 636: "wrong dtype"}
    simulate_release(tmp_path / "demo", n_objects=400, fields=list(faults), seed=7)
    mirror = tmp_path / "mirror"
    shutil.copytree(tmp_path / "demo" / "dr24", mirror / "dr24")
    (mirror / "dr24" / "checksum.md5").unlink()  # published as is: no checksum to catch them
    for field, fault in faults.items():
        paths = sorted(mirror.glob(f"dr24/*/field{field:06d}/ztf_*.parquet"))
        path, table = paths[0], pq.read_table(paths[0])
        if fault == "empty file":
            path.write_bytes(b"")
        elif fault == "truncated":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        elif fault == "wrong dtype":
            mags = pa.array([[str(m) for m in row] for row in table.column("mag").to_pylist()])
            pq.write_table(table.set_column(table.schema.get_field_index("mag"), "mag", mags), path)
        else:
            pq.write_table(table.slice(0, 0), path)
            other = pq.read_table(paths[1])
            extra = other.append_column("note", pa.array(["=1+1"] * other.num_rows))
            pq.write_table(extra.append_column("objectid2", other.column("objectid")), paths[1])
    return mirror, faults


@pytest.mark.e2e
def test_bad_parquet_files_stop_their_batch_with_the_file_named(tmp_path):
    mirror, faults = _mirror_with_bad_files(tmp_path)
    work = tmp_path / "run"
    work.mkdir()
    config = {
        "source": "local",
        "fetch": {"local_path": str(mirror), "verify": "exists"},
        "clean": {"min_epochs": 5},
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    targets = [f"results/features/field{f:06d}.parquet" for f in faults]
    proc = run_snakemake(work, "--cores", "2", "--keep-going", *targets, check=False)
    assert proc.returncode != 0  # three batches fail
    for field, fault in faults.items():
        features = work / f"results/features/field{field:06d}.parquet"
        files = sorted(mirror.glob(f"dr24/*/field{field:06d}/ztf_*.parquet"))
        if fault in ("empty file", "truncated", "wrong dtype"):
            log = (work / f"logs/fetch_lightcurves/field{field:06d}.log").read_text()
            expected = "mag is list<" if fault == "wrong dtype" else "not a readable parquet file"
            assert files[0].name in log and expected in log, (fault, log[-2000:])
            assert not features.exists() and not (work / f"results/fetch/field{field:06d}.tsv").exists()
            continue
        # a zero-row file and extra columns: every light curve with enough clean epochs, once
        tables = [pq.read_table(f).select(DR_SCHEMA.names).cast(DR_SCHEMA) for f in files]
        want = (
            clean_table(pa.concat_tables(tables), CleanConfig.from_config({"min_epochs": 5}))
            .column("objectid")
            .to_pylist()
        )
        got = pq.read_table(features).column("objectid").to_pylist()
        assert sorted(got) == sorted(want) and len(got) == len(set(got)) and got, fault
    assert _leftovers(work / "results") == []


@pytest.mark.e2e
def test_http_rate_limit_holds_across_parallel_fetch_jobs(tmp_path):
    """Three fetch jobs at once, 4 downloads each: the fake IRSA server never sees more than 1/min_interval
    requests in a second."""
    from servers import FakeServices
    from skysift.simulate import simulate_release

    fields = [633, 634, 635]
    simulate_release(
        tmp_path / "served", n_objects=150, fields=fields, ccds=[1], quadrants=[1, 2, 3, 4], seed=5
    )
    n_files = len(list((tmp_path / "served").glob("dr24/*/field*/ztf_*.parquet")))
    min_interval = 0.1
    with FakeServices(tmp_path / "served") as services:
        http = {"timeout": 10, "retries": 2, "backoff": 0.01, "min_interval": min_interval, "concurrency": 4}
        config = {
            "source": "irsa_bulk",
            "fetch": {"fields": fields, "bulk_url": services.bulk_url, "http": http},
        }
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
        services.arrivals.clear()
        run_snakemake(tmp_path, "--cores", "3", *[f"results/fetch/field{f:06d}.tsv" for f in fields])
        arrivals = sorted(services.arrivals)
    per_second = max(
        sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals
    )  # most requests that started within any one second
    assert len(arrivals) == n_files + 1 >= 20  # every file and checksum.md5, once
    assert per_second <= 1 / min_interval + 1, per_second
    assert arrivals[-1] - arrivals[0] >= (len(arrivals) - 1) * min_interval * 0.9  # spaced, not bunched
