"""The workflow on a real Slurm (single node, tools/slurm-single-node.sh): sbatch jobs, retries, Dask SLURMCluster.

Skipped where no Slurm answers, unless SKYSIFT_REQUIRE_SLURM=1 (set by .ci/run, which
starts the single-node Slurm): then a missing Slurm is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from workflow_runner import ROOT, run_snakemake

TINY = {
    "demo": {"seed": 11, "n_objects": 600, "fields": [633, 1721]},
    "classify": {"n_estimators": 30, "cv_folds": 2, "min_class_count": 2},
    "anomaly": {"n_trees": 50},
}


def _slurm_up() -> bool:
    """True when sinfo reaches a controller with an idle or mixed node."""
    if not shutil.which("sinfo"):
        return False
    proc = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=30)
    return proc.returncode == 0 and bool(re.search(r"idle|mix|alloc", proc.stdout))


if not _slurm_up():
    if os.environ.get("SKYSIFT_REQUIRE_SLURM") == "1":
        raise RuntimeError(
            "SKYSIFT_REQUIRE_SLURM=1 but no Slurm answers: did tools/slurm-single-node.sh start fail?"
        )
    pytest.skip("no Slurm here (start one with tools/slurm-single-node.sh start)", allow_module_level=True)

pytestmark = pytest.mark.slurm


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real snakemake with profiles/slurm (fast first status check for the tests)."""
    slurm = ["--profile", str(ROOT / "profiles" / "slurm"), "--slurm-init-seconds-before-status-checks", "3"]
    # cwd = workdir: the plugin puts slurm-logdir under the launch directory, not --directory
    return run_snakemake(workdir, *slurm, "--slurm-keep-successful-logs", *args, check=check, cwd=workdir)


def slurm_job_logs(workdir: Path, rule: str) -> list[Path]:
    """The executor plugin's per-job Slurm logs of a rule (one file per sbatch submission)."""
    return sorted((workdir / "logs" / "slurm" / f"rule_{rule}").rglob("*.log"))


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory):
    """One tiny demo run through sbatch."""
    workdir = tmp_path_factory.mktemp("slurm")
    (workdir / "config.yaml").write_text(yaml.safe_dump(TINY))
    proc = snakemake(workdir)
    return workdir, proc


def test_demo_runs_end_to_end_through_sbatch(slurm_run):
    workdir, proc = slurm_run
    assert (workdir / "results/candidates/candidates.ecsv").stat().st_size > 0
    out = proc.stdout + proc.stderr
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", out)
    # every non-local job went through sbatch: clean, crossmatch, features per batch + train/search/candidates
    assert len(submitted) >= 2 * 3 + 3, out[-3000:]
    for rule in ("clean_lightcurves", "extract_features", "score_anomalies"):
        assert slurm_job_logs(workdir, rule), f"no Slurm job log for {rule}"
    # local rules stayed local
    assert not slurm_job_logs(workdir, "simulate_survey")
    ctld_log = Path(os.environ.get("SKYSIFT_SLURM_DIR", "/tmp/skysift-slurm")) / "slurmctld.log"
    if ctld_log.exists():  # the controller saw every submission
        accepted = set(re.findall(r"_slurm_rpc_submit_batch_job: JobId=(\d+)", ctld_log.read_text()))
        assert set(submitted) <= accepted


def test_forcerun_one_stage_on_slurm(slurm_run):
    workdir, _ = slurm_run
    clean = workdir / "results/clean/field000633.parquet"
    features = workdir / "results/features/field000633.parquet"
    before = clean.stat().st_mtime_ns, features.stat().st_mtime_ns
    proc = snakemake(workdir, "--forcerun", "extract_features", "--until", "rank_anomalies")
    assert clean.stat().st_mtime_ns == before[0]
    assert features.stat().st_mtime_ns > before[1]
    out = proc.stdout + proc.stderr
    assert "rule clean_lightcurves" not in out
    # 2 feature jobs + the anomaly fit, 2 per-batch score jobs and the merge
    assert len(re.findall(r"has been submitted with SLURM jobid", out)) == 6


def test_a_failed_job_is_reported_and_retried_with_more_memory(slurm_run):
    """400 MB for 2 Dask workers is below the per-worker minimum: attempt 1 fails, attempt 2 (800 MB) runs."""
    workdir, _ = slurm_run
    proc = snakemake(
        workdir,
        "--forcerun",
        "extract_features",
        "--until",
        "extract_features",
        "--set-resources",
        "extract_features:mem_mb=400*attempt",
        "--retries",
        "1",
    )
    out = proc.stdout + proc.stderr
    assert re.search(r"Error in rule extract_features", out), out[-3000:]
    logs = slurm_job_logs(workdir, "extract_features")
    texts = "\n".join(p.read_text(errors="replace") for p in logs)
    assert "mem_mb=400" in texts and "mem_mb=800" in texts
    rule_log = (workdir / "logs/extract_features/field000633.log").read_text()
    assert "InsufficientMemoryError" not in rule_log  # the log is the successful second attempt's
    assert pq.read_table(workdir / "results/features/field000633.parquet").num_rows > 0


def test_feature_stage_with_dask_slurmcluster(slurm_run, tmp_path):
    """Two Dask workers submitted as Slurm jobs compute exactly what the serial path computes."""
    from skysift.cluster import cluster_for_job
    from skysift.features import extract_features

    workdir, _ = slurm_run
    clean = workdir / "results/clean/field001721.parquet"
    settings = {"names": "default", "min_points": 10, "rows_per_task": 200}
    extract_features([clean], tmp_path / "serial.parquet", settings)
    dask_config = {
        "mode": "slurm",
        "slurm": {
            "n_workers": 2,
            "cores": 1,
            "memory_mb": 1000,
            "walltime": "00:10:00",
            "interface": "lo",
            "log_directory": str(tmp_path / "dask-logs"),
            "wait_timeout_s": 180,
        },
    }
    with cluster_for_job(1, 1000, str(tmp_path), dask_config) as client:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        assert len(workers) == 2
        jobs = subprocess.run(["squeue", "-h", "-o", "%j"], capture_output=True, text=True).stdout
        assert jobs.count("dask-worker") == 2, jobs
        extract_features([clean], tmp_path / "dask.parquet", settings, client=client)
    assert pq.read_table(tmp_path / "dask.parquet").equals(pq.read_table(tmp_path / "serial.parquet"))
