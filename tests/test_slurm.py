"""The workflow on a real Slurm with accounting (tools/slurm-single-node.sh): the installed site profile,
sbatch jobs charged to an account, partitions by runtime, retries, sacct and squeue status, Dask SLURMCluster.

Skipped where no such Slurm answers, unless SKYSIFT_REQUIRE_SLURM=1 (set by .ci/run, which starts
the single-node Slurm): then a missing Slurm is a failure, never a silent skip. The cluster is the
script's: account skysift-test with QOS skysift for root, partitions short (default, 1 hour) and
long (2 days), associations enforced.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from workflow_runner import NO_IMPLICIT_PROFILE, ROOT, run_snakemake

TINY = {
    "demo": {"seed": 11, "n_objects": 600, "fields": [633, 1721]},
    "classify": {"n_estimators": 30, "cv_folds": 2, "min_class_count": 2},
    "anomaly": {"n_trees": 50},
    "clean": {"keep": True},  # the tests below read the cleaned copies
}
ACCOUNT, QOS, SHORT, LONG = "skysift-test", "skysift", "short", "long"
CANDIDATES = "results/candidates/candidates.ecsv"
#: What the Slurm run makes: the candidate table, and the cleaned copies (clean.keep) the tests read.
TARGETS = [CANDIDATES, "results/clean/field000633.parquet", "results/clean/field001721.parquet"]
#: Rules the profile sends to the long partition (runtime above short's hour).
LONG_RULES = {"extract_features", "evaluate_anomalies"}


def _run(*cmd: str) -> str:
    """stdout of a Slurm command ("" when it is missing or fails)."""
    if not shutil.which(cmd[0]):
        return ""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return proc.stdout if proc.returncode == 0 else ""


def _slurm_up() -> bool:
    """True when the test cluster answers: an idle/mixed node, its partitions and its account in slurmdbd."""
    nodes = _run("sinfo", "-h", "-o", "%t")
    partitions = set(_run("sinfo", "-h", "-o", "%R").split())
    accounts = _run("sacctmgr", "-n", "-P", "show", "assoc", f"account={ACCOUNT}", "format=account")
    return (
        bool(re.search(r"idle|mix|alloc", nodes)) and {SHORT, LONG} <= partitions and bool(accounts.strip())
    )


if not _slurm_up():
    if os.environ.get("SKYSIFT_REQUIRE_SLURM") == "1":
        raise RuntimeError(
            "SKYSIFT_REQUIRE_SLURM=1 but the test Slurm (partitions short/long, account skysift-test in "
            "slurmdbd) does not answer: did tools/slurm-single-node.sh start fail?"
        )
    pytest.skip(
        "no test Slurm here (start one with tools/slurm-single-node.sh start)", allow_module_level=True
    )

pytestmark = [pytest.mark.slurm, pytest.mark.e2e]

#: --cores 2 caps the profile's group jobs at the test node's 2 CPUs (layers beyond run in series).
FAST = ["--slurm-init-seconds-before-status-checks", "3", "--slurm-keep-successful-logs", "--cores", "2"]


def skysift(*args: str, xdg: Path) -> subprocess.CompletedProcess:
    """The real `skysift` command line with XDG_CONFIG_HOME=xdg."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg)}
    cmd = [sys.executable, "-m", "skysift.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real snakemake with the checkout's profiles/slurm (fast first status check for the tests)."""
    slurm = ["--profile", str(ROOT / "profiles" / "slurm"), *NO_IMPLICIT_PROFILE, *FAST]
    # cwd = workdir: the plugin puts slurm-logdir under the launch directory, not --directory
    return run_snakemake(workdir, *slurm, *args, check=check, cwd=workdir)


def snakemake_site(
    workdir: Path, xdg: Path, *args: str, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess:
    """Run `snakemake --profile slurm` as a user does after `skysift profile install slurm`."""
    slurm = ["--profile", "slurm", *NO_IMPLICIT_PROFILE, *FAST]
    env = {"XDG_CONFIG_HOME": str(xdg)}
    return run_snakemake(workdir, *slurm, *args, check=check, cwd=workdir, env=env, timeout=timeout)


def submitted(out: str) -> list[str]:
    """Slurm job ids of a snakemake run's output."""
    return re.findall(r"has been submitted with SLURM jobid (\d+)", out)


def sacct(job_ids: list[str]) -> list[dict[str, str]]:
    """sacct's record of jobs: rule (from the plugin's comment), account, partition, QOS, state."""
    fields = ["JobID", "Comment", "Account", "Partition", "QOS", "State"]
    out = _run("sacct", "-X", "-n", "-P", "-j", ",".join(job_ids), "-o", ",".join(fields))
    rows = [dict(zip(fields, line.split("|"), strict=True)) for line in out.splitlines() if line]
    for row in rows:
        row["Rule"] = re.sub(r"^rule_|_wildcards_.*$", "", row["Comment"])
    return rows


def slurm_job_logs(workdir: Path, rule: str, kind: str = "rule") -> list[Path]:
    """The executor plugin's per-job Slurm logs of a rule, one per sbatch; ``kind`` "group": of a job group,
    whose directories the plugin names group_<group>_<its rules>."""
    if kind == "group":
        return sorted(
            p for d in (workdir / "logs" / "slurm").glob(f"group_{rule}_*") for p in d.rglob("*.log")
        )
    return sorted((workdir / "logs" / "slurm" / f"rule_{rule}").rglob("*.log"))


@pytest.fixture(scope="module")
def site_config(tmp_path_factory) -> Path:
    """An XDG_CONFIG_HOME holding the profile `skysift profile install slurm` wrote after asking Slurm."""
    xdg = tmp_path_factory.mktemp("xdg")
    proc = skysift(
        *("profile", "install", "slurm", "--account", ACCOUNT, "--partition", SHORT),
        *("--long-partition", LONG, "--qos", QOS),
        xdg=xdg,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {xdg / 'snakemake' / 'slurm' / 'config.yaml'}" in proc.stdout
    return xdg


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory, site_config):
    """One tiny demo run through sbatch with the installed profile, `snakemake --profile slurm`, up to the
    candidate table: every stage of the science path (per-batch groups, features on the long partition, the
    release-wide fits, merges and candidates). The rest of the default target (active learning, early SN Ia,
    kilonova, plots, page, bundle) adds jobs of the same kinds and 8 minutes of a 2-core CI: not run here."""
    workdir = tmp_path_factory.mktemp("slurm")
    (workdir / "config.yaml").write_text(yaml.safe_dump(TINY))
    # The jobs run one or two at a time on 2 cores: on a quiet machine the whole default target took ~14 min.
    proc = snakemake_site(workdir, site_config, "--verbose", *TARGETS, timeout=2400)
    return workdir, proc


def test_demo_runs_to_the_candidate_table_through_sbatch(slurm_run):
    workdir, proc = slurm_run
    assert (workdir / CANDIDATES).stat().st_size > 0
    out = proc.stdout + proc.stderr
    assert "Using profile slurm " in out
    jobs = submitted(out)
    # every non-local job went through sbatch: the per-batch rules as the profile's job groups (clean and
    # crossmatch of both batches in one job, predict and score of both in another), features per batch,
    # the release-wide fits, merges and candidates one job each
    assert len(jobs) >= 1 + 2 + 1 + 5, out[-3000:]
    assert len(slurm_job_logs(workdir, "batch_prepare", "group")) == 1
    assert len(slurm_job_logs(workdir, "batch_apply", "group")) == 1
    assert len(slurm_job_logs(workdir, "extract_features")) == 2
    for rule in ("clean_lightcurves", "score_anomalies", "predict_classes"):
        assert not slurm_job_logs(workdir, rule), f"{rule} ran outside its job group"
        assert (workdir / f"logs/{rule}/field001721.log").exists(), rule
    # local rules stayed local
    assert not slurm_job_logs(workdir, "simulate_survey")
    ctld_log = Path(os.environ.get("SKYSIFT_SLURM_DIR", "/tmp/skysift-slurm")) / "slurmctld.log"
    if ctld_log.exists():  # the controller saw every submission
        accepted = set(re.findall(r"_slurm_rpc_submit_batch_job: JobId=(\d+)", ctld_log.read_text()))
        assert set(jobs) <= accepted


def test_jobs_are_charged_to_the_site_account_and_partitioned_by_runtime(slurm_run):
    """sacct (slurmdbd) has every job: the profile's account and QOS, long rules on `long`, COMPLETED."""
    _, proc = slurm_run
    out = proc.stdout + proc.stderr
    jobs = submitted(out)
    rows = sacct(jobs)
    assert sorted(r["JobID"] for r in rows) == sorted(jobs), rows
    for row in rows:
        assert (row["Account"], row["QOS"], row["State"]) == (ACCOUNT, QOS, "COMPLETED"), row
        assert row["Partition"] == (LONG if row["Rule"] in LONG_RULES else SHORT), row
    assert {r["Rule"] for r in rows if r["Partition"] == LONG} == {"extract_features"}
    # the plugin followed the job states through sacct, as the profile asks
    assert re.search(r"command=sacct", out) and not re.search(r"command=squeue", out)


def test_forcerun_one_stage_with_the_checkout_profile_and_squeue_status(slurm_run):
    """The profile used in place (no account: Slurm's default one) and the squeue status of sites without slurmdbd."""
    workdir, _ = slurm_run
    clean = workdir / "results/clean/field000633.parquet"
    features = workdir / "results/features/field000633.parquet"
    before = clean.stat().st_mtime_ns, features.stat().st_mtime_ns
    proc = snakemake(
        workdir,
        *("--forcerun", "extract_features", "--until", "rank_anomalies"),
        *("--slurm-status-command", "squeue", "--verbose"),
    )
    assert clean.stat().st_mtime_ns == before[0]
    assert features.stat().st_mtime_ns > before[1]
    out = proc.stdout + proc.stderr
    assert "rule clean_lightcurves" not in out
    jobs = submitted(out)
    assert (
        len(jobs) == 5
    )  # 2 feature jobs + the anomaly fit, one group job scoring both batches and the merge
    assert "command=squeue" in out and "command=sacct" not in out
    # no slurm_account: the plugin's guess finds nothing and sbatch gets no -A; Slurm charges root's default
    assert "No SLURM account given" in out
    rows = sacct(jobs)
    assert {(r["Rule"], r["Account"], r["Partition"]) for r in rows} == {
        ("extract_features", "root", LONG),
        ("fit_anomaly_model", "root", SHORT),
        ("batch_apply_score_anomalies", "root", SHORT),  # a group job's comment: the group and its rules
        ("rank_anomalies", "root", SHORT),
    }, rows


# slow (CI time budget): two failing and two retried feature jobs through sbatch
@pytest.mark.slow
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


# slow (CI time budget): a dask-jobqueue SLURMCluster whose workers queue as Slurm jobs
@pytest.mark.slow
def test_feature_stage_with_dask_slurmcluster(slurm_run, site_config, tmp_path):
    """Two Dask workers submitted as Slurm jobs, with the installed profile's account/partition/QOS,
    compute exactly what the serial path computes."""
    from skysift.cluster import cluster_for_job
    from skysift.features import extract_features
    from skysift.siteprofile import site_from_profile

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
    # What extract_features receives as snakemake.resources under the installed profile.
    site = site_from_profile(site_config / "snakemake" / "slurm" / "config.yaml")
    resources = {"slurm_account": site.account, "slurm_partition": site.partition, "qos": site.qos}
    with cluster_for_job(1, 1000, str(tmp_path), dask_config, resources) as client:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        assert len(workers) == 2
        jobs = _run("squeue", "-h", "-o", "%j|%a|%P|%q").splitlines()
        assert [j for j in jobs if j.startswith("dask-worker")] == [
            f"dask-worker|{ACCOUNT}|{SHORT}|{QOS}"
        ] * 2, jobs
        extract_features([clean], tmp_path / "dask.parquet", settings, client=client)
    assert pq.read_table(tmp_path / "dask.parquet").equals(pq.read_table(tmp_path / "serial.parquet"))


@pytest.fixture(scope="module")
def fresh_workdir(tmp_path_factory) -> Path:
    """A one-field demo work directory for runs that are meant to fail at submission."""
    workdir = tmp_path_factory.mktemp("refused")
    (workdir / "config.yaml").write_text(
        yaml.safe_dump({"demo": {"seed": 3, "n_objects": 100, "fields": [633]}, "clean": {"keep": True}})
    )
    return workdir


def test_a_wrong_account_is_named_before_any_job_is_submitted(site_config, fresh_workdir, tmp_path):
    # skysift asks Slurm before writing a profile ...
    proc = skysift("profile", "install", "slurm", "--account", "nosuch", "--partition", SHORT, xdg=tmp_path)
    assert proc.returncode == 1
    assert "slurm_account 'nosuch'" in proc.stderr and f"root, {ACCOUNT}" in proc.stderr, proc.stderr
    assert not (tmp_path / "snakemake").exists()
    # ... and checks an installed one (written here without asking)
    assert skysift("profile", "install", "slurm", "--account", "nosuch", "--partition", SHORT,
                   "--no-check", xdg=tmp_path).returncode == 0  # fmt: skip
    proc = skysift("profile", "check", xdg=tmp_path)
    written = tmp_path / "snakemake" / "slurm" / "config.yaml"
    assert proc.returncode == 1 and f"problem: slurm_account 'nosuch' ({written})" in proc.stdout, proc.stdout
    assert skysift("profile", "check", xdg=site_config).returncode == 0
    # No account at all is fine here (root has a default account) and said so.
    proc = skysift("profile", "check", str(ROOT / "profiles" / "slurm"), xdg=tmp_path)
    assert proc.returncode == 0 and "your default account 'root'" in proc.stdout, proc.stdout
    # The executor plugin validates the account itself (sacctmgr) and fails the job before sbatch.
    # (an ungrouped rule: a group job failing at submission goes unreported by the plugin, the run waits)
    proc = snakemake_site(
        fresh_workdir,
        tmp_path,
        "--until",
        "write_clean_lightcurves",
        "--retries",
        "0",
        check=False,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "The given account nosuch appears to be invalid" in out, out[-3000:]
    assert not submitted(out)


def test_a_job_above_its_partitions_time_limit_is_refused_by_sbatch(site_config, fresh_workdir):
    """EnforcePartLimits=ALL: the reason is sbatch's, at submission, instead of a job pending forever.

    A rule outside the profile's job groups (write_clean_lightcurves): a group job refused by sbatch was
    not reported by the executor plugin (the run waited; seen on 2026-12-01, plugin 2.8.0)."""
    proc = snakemake_site(
        fresh_workdir,
        site_config,
        *("--until", "write_clean_lightcurves", "--retries", "0"),
        *("--set-resources", "write_clean_lightcurves:runtime=120"),
        check=False,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "SLURM sbatch failed" in out and "Requested time limit is invalid" in out, out[-3000:]
    assert not submitted(out)
