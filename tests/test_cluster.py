"""cluster_for_job: a LocalCluster sized from the job, or a connection to a real running scheduler."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from skysift.cluster import cluster_for_job, local_cluster_size


def _workers(client: Client) -> list[dict]:
    """Worker info dicts of the client's scheduler."""
    return list(client.scheduler_info(n_workers=-1)["workers"].values())


@pytest.mark.parametrize(
    ("threads", "mem_mb", "tpw", "n_workers", "nthreads"),
    [(2, 2000, 1, 2, 1), (1, 1000, 1, 1, 1), (4, 3000, 2, 2, 2)],
)
def test_local_cluster_is_sized_from_the_job(tmp_path, threads, mem_mb, tpw, n_workers, nthreads):
    cfg = {"mode": "local", "threads_per_worker": tpw}
    with cluster_for_job(threads, mem_mb, str(tmp_path), cfg) as client:
        workers = _workers(client)
        assert len(workers) == n_workers
        assert all(w["nthreads"] == nthreads for w in workers)
        assert all(w["memory_limit"] == int(mem_mb * 0.9 / n_workers) * 2**20 for w in workers)
        assert all(Path(w["local_directory"]).is_relative_to(tmp_path) for w in workers)
        assert client.submit(sum, [1, 2, 3]).result() == 6
        # Worker processes, not threads of this process.
        pids = set(client.run(lambda: __import__("os").getpid()).values())
        assert len(pids) == n_workers and all(pid != __import__("os").getpid() for pid in pids)
    assert client.status == "closed"


def test_sizing_never_exceeds_the_job():
    assert local_cluster_size(1, 1000, threads_per_worker=4) == (1, 1, 900 * 2**20)
    assert local_cluster_size(5, 1000, threads_per_worker=2) == (2, 2, 450 * 2**20)
    with pytest.raises(ValueError, match="mem_mb"):
        local_cluster_size(2, None)
    with pytest.raises(ValueError, match="threads_per_worker"):
        local_cluster_size(2, 1000, threads_per_worker=0)


def test_bad_mode_names_the_config_key():
    with pytest.raises(ValueError, match=r"dask\.mode"), cluster_for_job(1, 1000, None, {"mode": "slurmish"}):
        pass
    with (
        pytest.raises(ValueError, match="scheduler_address"),
        cluster_for_job(1, 1000, None, {"mode": "scheduler"}),
    ):
        pass


def test_scheduler_mode_connects_to_an_address_and_leaves_the_cluster_running():
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        cfg = {"mode": "scheduler", "scheduler_address": cluster.scheduler_address}
        with cluster_for_job(1, 1000, None, cfg) as client:
            assert client.scheduler.address == cluster.scheduler_address
            assert len(_workers(client)) == 1
            assert client.submit(pow, 2, 10).result() == 1024
        assert client.status == "closed"
        with Client(cluster.scheduler_address) as again:  # the external scheduler is still up
            assert len(_workers(again)) == 1


def test_scheduler_mode_connects_via_a_scheduler_file(tmp_path):
    sched_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = subprocess.Popen(
        [
            *dask,
            "--scheduler-file",
            str(sched_file),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            ":0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 30
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sched_file.exists(), "dask scheduler did not write its scheduler file"
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(sched_file)]
            + ["--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        address = json.loads(sched_file.read_text())["address"]
        with cluster_for_job(
            1, 1000, None, {"mode": "scheduler", "scheduler_file": str(sched_file)}
        ) as client:
            assert client.scheduler.address == address
            client.wait_for_workers(1, timeout=30)
            assert client.submit(sum, [4, 5]).result() == 9
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
        for proc in (worker, scheduler):
            if proc is not None:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


SITE = {"slurm_account": "skysift-test", "slurm_partition": "short", "qos": "skysift", "mem_mb": 2000}


def test_slurm_workers_take_the_site_settings_from_the_job_resources(tmp_path):
    """The profile's default-resources reach the SLURMCluster's worker job script: one place for the site."""
    pytest.importorskip("dask_jobqueue")
    from skysift.cluster import slurm_cluster

    settings = {"walltime": "00:05:00", "log_directory": str(tmp_path)}
    cluster, _, _ = slurm_cluster(settings, None, resources=SITE)
    try:
        header = [ln for ln in cluster.job_script().splitlines() if ln.startswith("#SBATCH")]
    finally:
        cluster.close()
    assert "#SBATCH -A skysift-test" in header
    assert "#SBATCH -p short" in header
    assert "#SBATCH --qos=skysift" in header
    assert "#SBATCH -t 00:05:00" in header


def test_dask_slurm_keys_win_over_the_job_resources():
    from skysift.cluster import slurm_settings

    cfg = slurm_settings({"account": "other", "queue": "long"}, SITE)
    assert (cfg["account"], cfg["queue"], cfg["qos"]) == ("other", "long", "skysift")
    # No site settings anywhere: nothing is invented (the cluster's defaults apply).
    cfg = slurm_settings({}, {"mem_mb": 2000})
    assert (cfg["account"], cfg["queue"], cfg["qos"], cfg["job_extra_directives"]) == (None, None, None, [])
    # An explicit --qos directive (the pre-qos-key way) wins over the profile's qos, without a duplicate.
    cfg = slurm_settings({"job_extra_directives": ["--qos=high"]}, SITE)
    assert cfg["job_extra_directives"] == ["--qos=high"]
    with pytest.raises(ValueError, match=r"dask\.slurm\.qos"):
        slurm_settings({"qos": "low", "job_extra_directives": ["--qos=high"]}, SITE)


def test_dashboard_is_served_when_asked(tmp_path):
    import requests

    cfg = {"mode": "local", "dashboard_address": "127.0.0.1:0"}
    with cluster_for_job(1, 1000, str(tmp_path), cfg) as client:
        link = client.dashboard_link
        assert link.startswith("http://127.0.0.1:")
        assert requests.get(link, timeout=30).status_code == 200
