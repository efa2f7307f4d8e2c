"""Extract features of a batch of DR files, spread over Dask workers, into one parquet file.

The batch's raw DR files are read directly (no cleaned copy): each task reads whole row groups of one
file, applies the quality cuts (``cuts``, the ``clean`` section) and duplicate-light-curve drops of the
batch plan (:mod:`skysift.clean.plan`), and computes the features; the cleaning counts of every task are
summed, checked to balance and logged, as the clean stage logs them. Without ``cuts`` the files are taken
as already-cleaned light curves (a cleaned copy). Output rows follow objectid order, as a cleaned copy's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from skysift.clean import plan_batch
from skysift.clean.read import batch_reader, dr_schema
from skysift.features.catalogue import INPUT_COLUMNS, output_schema
from skysift.features.dispatch import Progress, task_results
from skysift.features.fit_catalogue import fit_min_points
from skysift.features.magnitude import feature_columns
from skysift.features.settings import FeatureSettings
from skysift.features.tasks import plan_tasks
from skysift.io import InputError, atomic_path
from skysift.lightcurves.cuts import CleanConfig, CleanStats
from skysift.lightcurves.manifest import read_manifest

__all__ = ["PARQUET_OPTIONS", "extract_features", "run_features"]

logger = logging.getLogger(__name__)

#: Parquet writer options of feature tables. Dictionary encoding only for the small-integer id columns:
#: on float features it almost never pays and cost ~3x the whole write (0.35 vs 0.11 CPU-s per 100k
#: rows of 38 features, files 40 % larger), CPU the client takes from the workers (benchmarks/README.md).
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "use_dictionary": ["filterid", "fieldid", "rcid"]}


def _sort_by_objectid(path: str | Path) -> None:
    """Rewrite a feature table sorted by objectid (batches whose files are not in objectid order)."""
    table = pq.read_table(path)
    table = table.take(pc.sort_indices(table, sort_keys=[("objectid", "ascending")]))
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **PARQUET_OPTIONS)


def _check_rainbow(settings: FeatureSettings) -> None:
    """Fail before any work if the Rainbow fit is asked for without its optional dependency."""
    if "rainbow" in settings.fits:
        from skysift.features.fits import rainbow_fit_extractor

        try:
            rainbow_fit_extractor()
        except ImportError as exc:
            raise InputError(str(exc)) from exc


def _log_counts(totals: dict[str, int], settings: FeatureSettings) -> None:
    """Log light curves without features and failed fits."""
    if totals["too_few_points"]:
        logger.info(
            "%d light curve(s) have fewer than %d points: features set to NaN",
            totals["too_few_points"],
            settings.floor,
        )
    if totals["invalid"]:
        logger.warning(
            "%d light curve(s) have non-finite values or non-increasing times: features set to NaN "
            "(the quality cuts should have removed them)",
            totals["invalid"],
        )
    for fit in settings.per_band_fits:
        logger.info(
            "transient fits: %d light curve(s) with >= %d points had a failed %s fit: fit columns NaN, "
            "%s_fit_success 0; %d light curve(s) with features had too few points for it (success NaN)",
            totals[f"{fit}_fit_failed"],
            fit_min_points(fit),
            fit.capitalize(),
            fit,
            totals[f"{fit}_fit_too_few_points"],
        )


def extract_features(
    paths: Iterable[str | Path],
    output_path: str | Path,
    features: FeatureSettings | Mapping[str, Any] | None = None,
    client: Any | None = None,
    *,
    cuts: CleanConfig | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Compute features of every light curve in ``paths`` and write them to ``output_path`` (parquet, atomically).

    ``features`` is the ``features`` section (FeatureSettings, or a mapping whose missing keys take the
    schema's defaults). ``cuts`` (the ``clean`` section) means ``paths`` are a batch's raw DR files: the
    quality cuts are applied as they are read, duplicate light curves dropped, and the counts logged; without
    it ``paths`` hold cleaned light curves. With a ``distributed.Client`` tasks run on its workers,
    otherwise serially in-process; the output is identical. Returns counts and timing.
    """
    settings = features if isinstance(features, FeatureSettings) else FeatureSettings.from_config(features)
    if cuts is not None and not isinstance(cuts, CleanConfig):
        cuts = CleanConfig.from_config(cuts)
    _check_rainbow(settings)
    paths = [str(p) for p in paths]
    t0 = time.perf_counter()
    plan = plan_batch(paths, needed=dr_schema(INPUT_COLUMNS).names) if cuts is not None else None
    tasks = plan_tasks(plan.files if plan is not None else paths, settings.rows_per_task)
    columns = feature_columns(settings.names, settings.periodogram, settings.transient_fits)
    if settings.min_points < settings.floor:
        logger.info(
            "features.min_points=%d raised to %d: a requested feature needs that many points",
            settings.min_points,
            settings.floor,
        )
    nthreads = (
        sum(w.get("nthreads", 1) for w in client.scheduler_info(n_workers=-1).get("workers", {}).values())
        if client is not None
        else 0
    )
    logger.info(
        "extracting %d features from %d file(s) in %d task(s) of whole row groups (<= %d light curves unless one "
        "row group is larger; %s)%s",
        len(columns),
        len(paths),
        len(tasks),
        settings.rows_per_task,
        f"Dask, {nthreads} worker threads" if client is not None else "serial, in-process",
        ", applying the quality cuts as the DR files are read" if cuts is not None else "",
    )
    totals = {"rows": 0, "extracted": 0, "too_few_points": 0, "invalid": 0, "fit_failed": 0}
    totals |= {f"{f}_fit_{k}": 0 for f in settings.per_band_fits for k in ("failed", "too_few_points")}
    cleaning = CleanStats(per_file={Path(p).name: 0 for p in paths})
    progress = Progress(len(tasks), sum(t.length for t in tasks))
    window = max(4, 2 * nthreads) if client is not None else 1
    with (
        atomic_path(output_path) as tmp,
        pq.ParquetWriter(tmp, output_schema(columns), **PARQUET_OPTIONS) as writer,
    ):
        for index, table, counts, stats in task_results(tasks, settings, cuts, client, window):
            writer.write_table(table)
            for key in totals:
                totals[key] += counts[key]
            cleaning.add(stats)
            cleaning.per_file[Path(tasks[index].path).name] += stats.lightcurves_out
            progress.update(tasks[index].length)
    if plan is not None and cuts is not None:
        cleaning.check_balance()
        logger.info("%s", cleaning.summary(cuts))
        if not plan.in_order:
            _sort_by_objectid(output_path)
    read = batch_reader(paths, cuts, plan)
    if settings.colours:
        from skysift.features.colour import add_colours

        add_colours(output_path, read, settings.floor)
    if "rainbow" in settings.fits:
        from skysift.features.fits import add_rainbow

        rainbow = add_rainbow(output_path, read, settings.floor)
        totals |= {f"rainbow_fit_{k}": v for k, v in rainbow.items()}
    seconds = time.perf_counter() - t0
    _log_counts(totals, settings)
    rate = totals["rows"] / seconds if seconds > 0 else float("nan")
    logger.info(
        "wrote %s: %d light curves, %d with features, %.1f s (%.0f light curves/s)",
        output_path,
        totals["rows"],
        totals["extracted"],
        seconds,
        rate,
    )
    return {
        **totals,
        "min_points": settings.floor,
        "n_features": len(columns),
        "n_files": len(paths),
        "n_tasks": len(tasks),
        "seconds": seconds,
        "light_curves_per_second": rate,
        "output": str(output_path),
        "clean": cleaning.as_dict() if cuts is not None else None,
    }


def run_features(
    manifest: str | Path,
    output: str | Path,
    features: Mapping[str, Any],
    clean: Mapping[str, Any],
    dask: Mapping[str, Any],
    *,
    threads: int,
    mem_mb: int,
    tmpdir: str | None,
    resources: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The feature stage of one batch: its fetch manifest's DR files, cleaned as read, on a Dask cluster sized
    from the job (``threads``, ``mem_mb``, the ``dask`` section; in slurm mode the job's ``resources`` give
    the workers the profile's account, partition and QOS)."""
    from skysift.cluster import cluster_for_job

    settings = FeatureSettings.from_config(features)
    cuts = CleanConfig.from_config(clean)
    paths = read_manifest(manifest)
    with cluster_for_job(threads, mem_mb, tmpdir, dask, resources) as client:
        return extract_features(paths, output, settings, client=client, cuts=cuts)
