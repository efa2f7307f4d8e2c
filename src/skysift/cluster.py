"""A Dask client for one Snakemake job: a LocalCluster sized from the job, or an existing scheduler.

Snakemake fans out over batches; inside a job Dask spreads the batch's work over workers.
The local cluster is sized from the job's ``threads`` and ``mem_mb`` -- never from the
machine, which on an HPC node is shared with other jobs -- so a job never uses more cores
or memory than Slurm granted it. The ``dask`` config section selects the mode::

    dask:
      mode: local              # "local" (LocalCluster per job), "scheduler" (connect to one), "slurm"
      threads_per_worker: 1    # local: threads per worker process
      scheduler_address: null  # scheduler: "tcp://host:8786" ...
      scheduler_file: null     # ... or the JSON file written by `dask scheduler --scheduler-file`
      slurm: {...}             # slurm: dask-jobqueue SLURMCluster settings (see slurm_cluster)

In ``slurm`` mode the worker jobs' account, partition and QOS default to the job's resources
``slurm_account``, ``slurm_partition`` and ``qos`` -- the site settings of the Slurm profile's
default-resources -- so a site sets them once for the Snakemake jobs and the Dask workers.

``slurm`` mode submits Dask workers as Slurm jobs (dask-jobqueue) from the job that runs
the stage. That job must not itself be a Slurm job (no nested submission): the workflow
makes the feature rule a local rule in this mode, so one Snakemake process on the login
node owns the SLURMCluster and the workers spread over many nodes.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

import dask
from distributed import Client, LocalCluster

from skysift.config import validate_section

__all__ = [
    "cluster_for_job",
    "local_cluster_size",
    "slurm_cluster",
    "slurm_settings",
    "InsufficientMemoryError",
]

logger = logging.getLogger(__name__)

#: Fraction of the job's memory handed to Dask workers (the rest: the client process, Python overhead).
MEMORY_FRACTION = 0.9
#: Dask settings of the job's local cluster (scheduler, nannies and workers). The statistical profiler
#: samples every worker's stacks every 10 ms, the memory/system monitors poll psutil several times a
#: second and every server's event-loop "tick" watchdog wakes 50 times a second: together ~9 % of a core
#: for an idle 2-worker cluster, ~2 % with these settings (benchmarks/README.md) — CPU taken from
#: light-curve on a job with as many workers as cores. The tick only times event-loop stalls for a
#: warning. Nannies hand this config to the worker processes they spawn.
WORKER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.tick.interval": "1s",
}
#: Below this a Dask worker pauses/spills at once; a job that small is a configuration error.
MIN_WORKER_MIB = 256


class InsufficientMemoryError(ValueError):
    """The job's mem_mb cannot give every Dask worker a useful memory limit."""


def local_cluster_size(threads: int, mem_mb: int, threads_per_worker: int = 1) -> tuple[int, int, int]:
    """Return (n_workers, threads_per_worker, memory_limit bytes per worker) for a job's threads/mem_mb."""
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"threads must be >= 1 (got {threads}); set the rule's threads")
    if mem_mb is None or int(mem_mb) <= 0:
        raise ValueError(
            f"mem_mb must be a positive number of MB (got {mem_mb!r}); set resources.mem_mb "
            "for the rule or in the profile, Dask must not size itself from the machine"
        )
    tpw = int(threads_per_worker)
    if tpw < 1:
        raise ValueError(f"dask.threads_per_worker must be >= 1 (got {threads_per_worker!r})")
    # A job with fewer threads than threads_per_worker still gets one worker, never more threads than granted.
    tpw = min(tpw, threads)
    n_workers = max(1, threads // tpw)
    memory_limit = int(int(mem_mb) * MEMORY_FRACTION / n_workers) * 2**20
    if memory_limit < MIN_WORKER_MIB * 2**20:
        needed = int(MIN_WORKER_MIB * n_workers / MEMORY_FRACTION) + 1
        raise InsufficientMemoryError(
            f"mem_mb={mem_mb} gives each of {n_workers} Dask worker(s) {memory_limit // 2**20} MiB, "
            f"below the {MIN_WORKER_MIB} MiB minimum: give the rule at least mem_mb={needed} "
            "(resources.mem_mb, or set-resources in the profile) or fewer threads"
        )
    return n_workers, tpw, memory_limit


#: Defaults of the ``dask.slurm`` config section (dask-jobqueue SLURMCluster).
SLURM_DEFAULTS: dict[str, Any] = {
    "n_workers": 2,
    "cores": 1,
    "processes": 1,
    "memory_mb": 2000,
    "queue": None,
    "account": None,
    "qos": None,
    "walltime": "01:00:00",
    "interface": None,
    "log_directory": "logs/dask-slurm",
    "job_extra_directives": [],
    "wait_timeout_s": 600,
}


#: ``dask.slurm`` keys filled, when unset, from the job's resources (the Slurm profile's site settings).
SITE_RESOURCES: dict[str, str] = {"account": "slurm_account", "queue": "slurm_partition", "qos": "qos"}


def slurm_settings(settings: Mapping[str, Any], resources: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``dask.slurm`` settings with defaults, account/queue/qos taken from ``resources`` where unset.

    An explicit ``dask.slurm`` key wins over the job's resource; a ``--qos`` among
    ``job_extra_directives`` wins over the ``qos`` resource (both it and ``dask.slurm.qos`` is an error).
    """
    unknown = set(settings) - set(SLURM_DEFAULTS)
    if unknown:
        raise ValueError(f"dask.slurm: unknown key(s) {sorted(unknown)}")
    cfg = {**SLURM_DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    extra = list(cfg["job_extra_directives"])
    qos_directive = any(re.match(r"(--qos\b|-q\s)", d.strip()) for d in extra)
    if qos_directive and cfg["qos"]:
        raise ValueError(
            "dask.slurm: the QOS is set twice, in dask.slurm.qos and as --qos in "
            "dask.slurm.job_extra_directives; keep one"
        )
    for key, resource in SITE_RESOURCES.items():
        value = (resources or {}).get(resource)
        if cfg[key] is None and value not in (None, "") and not (key == "qos" and qos_directive):
            cfg[key] = str(value)
    if cfg["qos"]:
        extra.append(f"--qos={cfg['qos']}")
    cfg["job_extra_directives"] = extra
    return cfg


def slurm_cluster(
    settings: Mapping[str, Any],
    tmpdir: str | None,
    resources: Mapping[str, Any] | None = None,
    dashboard_address: str | None = None,
):
    """A dask-jobqueue SLURMCluster from the ``dask.slurm`` settings (workers not started yet).

    ``resources`` are the job's resources: their ``slurm_account``, ``slurm_partition`` and ``qos``
    fill ``account``, ``queue`` and ``qos`` where ``dask.slurm`` leaves them unset. The dashboard is
    served only when ``dashboard_address`` (config ``dask.dashboard_address``) is set.
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError("dask.mode 'slurm' needs dask-jobqueue: pip install 'skysift[slurm]'") from err
    cfg = slurm_settings(settings, resources)
    kwargs: dict[str, Any] = {
        "cores": int(cfg["cores"]),
        "processes": int(cfg["processes"]),
        "memory": f"{int(cfg['memory_mb'])}MB",
        "walltime": cfg["walltime"],
        "local_directory": tmpdir,
        "log_directory": cfg["log_directory"],
        "job_extra_directives": list(cfg["job_extra_directives"]),
        "scheduler_options": {"dashboard_address": dashboard_address},
    }
    for key in ("queue", "account", "interface"):
        if cfg.get(key):
            kwargs[key] = cfg[key]
    return SLURMCluster(**kwargs), int(cfg["n_workers"]), float(cfg["wait_timeout_s"])


@contextlib.contextmanager
def cluster_for_job(
    threads: int,
    mem_mb: int,
    tmpdir: str | None,
    dask_config: Mapping[str, Any],
    resources: Mapping[str, Any] | None = None,
) -> Iterator[Client]:
    """Yield a distributed.Client for a job: a job-sized LocalCluster or a connection to a scheduler.

    ``dask_config`` is the ``dask`` config section (keys ``mode``, ``threads_per_worker``,
    ``scheduler_address``, ``scheduler_file``). The cluster (local mode) and the client are
    closed on exit, also after an exception; an external scheduler is left running.
    ``resources`` (the job's) give slurm mode's workers the profile's account, partition and QOS.
    """
    dask_config = validate_section("dask", dask_config)  # keys left out take the schema's defaults
    mode = dask_config["mode"]
    if mode == "local":
        n_workers, tpw, memory_limit = local_cluster_size(threads, mem_mb, dask_config["threads_per_worker"])
        logger.info(
            "starting Dask LocalCluster: %d worker process(es) x %d thread(s), memory_limit %d MiB each "
            "(job: %d threads, %d MB), local_directory=%s",
            n_workers,
            tpw,
            memory_limit // 2**20,
            threads,
            mem_mb,
            tmpdir,
        )
        with dask.config.set(WORKER_CONFIG):
            cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=tpw,
                processes=True,
                memory_limit=memory_limit,
                local_directory=tmpdir,
                # off by default (a port per job collides on shared hosts); e.g. "127.0.0.1:8787" or ":0"
                dashboard_address=dask_config["dashboard_address"],
            )
        try:
            with Client(cluster) as client:
                if dask_config["dashboard_address"]:
                    logger.info("Dask dashboard: %s", client.dashboard_link)
                yield client
        finally:
            cluster.close()
        logger.info("Dask LocalCluster closed")
    elif mode == "scheduler":
        address = dask_config["scheduler_address"]
        scheduler_file = dask_config["scheduler_file"]
        if bool(address) == bool(scheduler_file):
            raise ValueError(
                "dask.mode is 'scheduler': set exactly one of dask.scheduler_address "
                f"(got {address!r}) and dask.scheduler_file (got {scheduler_file!r})"
            )
        client = Client(address) if address else Client(scheduler_file=str(scheduler_file))
        try:
            info = client.scheduler_info(n_workers=-1)
            workers = info.get("workers", {})
            logger.info(
                "connected to Dask scheduler %s: %d worker(s), %d thread(s)",
                info.get("address", address or scheduler_file),
                len(workers),
                sum(w.get("nthreads", 0) for w in workers.values()),
            )
            yield client
        finally:
            client.close()
    elif mode == "slurm":
        cluster, n_workers, timeout = slurm_cluster(
            dask_config["slurm"], tmpdir, resources, dask_config["dashboard_address"]
        )
        try:
            cluster.scale(n_workers)
            logger.info("SLURMCluster: submitting %d worker job(s):\n%s", n_workers, cluster.job_script())
            with Client(cluster) as client:
                client.wait_for_workers(n_workers, timeout=timeout)
                logger.info(
                    "SLURMCluster: %d worker(s) up", len(client.scheduler_info(n_workers=-1)["workers"])
                )
                yield client
        finally:
            cluster.close()
        logger.info("SLURMCluster closed (worker jobs cancelled)")
    else:
        raise ValueError(
            f"dask.mode must be 'local', 'scheduler' or 'slurm', got {mode!r}; fix the config key dask.mode"
        )
