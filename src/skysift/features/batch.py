"""Extract features of a batch of DR files, spread over Dask workers, into one parquet file.

Work unit: a slice of rows of one input file (whole row groups, merged up to
``rows_per_task`` rows, or a large row group cut into ``rows_per_task`` slices). Each task
carries only (path, row groups, slice) and reads its own data on the worker; the client
writes results in task order as they arrive, holding at most a small window of tasks'
results, so memory stays flat however big the batch is. Without a client the same tasks
run in-process, one after another, giving the identical file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from skysift.features.magnitude import (
    INPUT_COLUMNS,
    PER_BAND_FITS,
    TRANSIENT_FIT_ALGORITHM,
    _periodogram_kwargs,
    extract_table_counted,
    feature_columns,
    fit_min_points,
    output_schema,
    per_band_fit_extractor,
    required_min_points,
    resolve_feature_names,
    resolve_transient_fits,
)
from skysift.io import InputError, atomic_path

__all__ = ["FeatureTask", "plan_tasks", "run_task", "extract_features", "DEFAULTS"]

logger = logging.getLogger(__name__)

#: Defaults of the ``features`` config section.
DEFAULTS: dict[str, Any] = {
    "names": "default",
    "min_points": 10,
    "n_jobs": 1,
    "rows_per_task": 5000,
    "periodogram": None,
    "method": "arrow",
    "transient_fits": False,
    "transient_fit_algorithm": TRANSIENT_FIT_ALGORITHM,
    "colours": False,
}


#: Parquet writer options of feature tables. Dictionary encoding only for the small-integer id columns:
#: on float features it almost never pays and cost ~3x the whole write (0.35 vs 0.11 CPU-s per 100k
#: rows of 38 features, files 40 % larger), CPU the client takes from the workers (benchmarks/README.md).
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "use_dictionary": ["filterid", "fieldid", "rcid"]}

#: Seconds between progress lines of a long batch (also one line per 10 % of tasks).
PROGRESS_EVERY_S = 30.0


@dataclass(frozen=True)
class FeatureTask:
    """One unit of work: rows [offset, offset + length) of the given row groups of one file."""

    index: int
    path: str
    row_groups: tuple[int, ...]
    offset: int
    length: int


class Progress:
    """Log 'done/total tasks, light curves, rate, ETA' every ``every_s`` seconds or 10 % of tasks, and at the end."""

    def __init__(self, n_tasks: int, n_rows: int, every_s: float = PROGRESS_EVERY_S) -> None:
        self.n_tasks, self.n_rows, self.every_s = n_tasks, n_rows, every_s
        self.done_tasks = self.done_rows = 0
        self.t0 = self.last = time.perf_counter()
        self.step = max(1, n_tasks // 10)

    def update(self, rows: int) -> None:
        """Count one finished task of ``rows`` light curves; log if due."""
        self.done_tasks += 1
        self.done_rows += rows
        now = time.perf_counter()
        due = now - self.last >= self.every_s or self.done_tasks % self.step == 0
        if not due and self.done_tasks != self.n_tasks:
            return
        self.last = now
        elapsed = now - self.t0
        rate = self.done_rows / elapsed if elapsed > 0 else float("nan")
        eta = (self.n_rows - self.done_rows) / rate if rate > 0 else float("nan")
        logger.info(
            "features: %d/%d tasks, %d/%d light curves (%.0f%%), %.0f light curves/s, %.0f s elapsed, ETA %.0f s",
            self.done_tasks,
            self.n_tasks,
            self.done_rows,
            self.n_rows,
            100.0 * self.done_rows / max(1, self.n_rows),
            rate,
            elapsed,
            eta,
        )


def _check_schema(path: str, schema: pa.Schema) -> None:
    """Raise InputError naming the file if a DR column needed for features is missing."""
    missing = [c for c in INPUT_COLUMNS if c not in schema.names]
    if missing:
        raise InputError(
            f"{path}: missing DR light-curve column(s) {missing}; expected the ZTF DR bulk parquet "
            "schema (skysift.layout.DR_SCHEMA) of cleaned light curves"
        )


def plan_tasks(paths: Iterable[str | Path], rows_per_task: int) -> list[FeatureTask]:
    """Cut input files into tasks of about ``rows_per_task`` light curves, reading only parquet footers."""
    if int(rows_per_task) < 1:
        raise ValueError(f"features.rows_per_task must be >= 1 (got {rows_per_task!r})")
    rows_per_task = int(rows_per_task)
    tasks: list[FeatureTask] = []

    def add(path: str, groups: list[int], offset: int, length: int) -> None:
        tasks.append(FeatureTask(len(tasks), path, tuple(groups), offset, length))

    for p in paths:
        path = str(p)
        if not Path(path).is_file():
            raise InputError(f"{path}: input light-curve file does not exist")
        meta = pq.ParquetFile(path).metadata
        _check_schema(path, meta.schema.to_arrow_schema())
        pending: list[int] = []
        pending_rows = 0
        for rg in range(meta.num_row_groups):
            n = meta.row_group(rg).num_rows
            if n == 0:
                continue
            if n > rows_per_task:
                if pending:
                    add(path, pending, 0, pending_rows)
                    pending, pending_rows = [], 0
                for start in range(0, n, rows_per_task):
                    add(path, [rg], start, min(rows_per_task, n - start))
                continue
            if pending_rows + n > rows_per_task and pending:
                add(path, pending, 0, pending_rows)
                pending, pending_rows = [], 0
            pending.append(rg)
            pending_rows += n
        if pending:
            add(path, pending, 0, pending_rows)
    return tasks


def run_task(task: FeatureTask, settings: Mapping[str, Any]) -> tuple[int, pa.Table, dict[str, int]]:
    """Read one task's rows from its file and compute their features (runs on a Dask worker)."""
    pf = pq.ParquetFile(task.path)
    table = pf.read_row_groups(list(task.row_groups), columns=list(INPUT_COLUMNS))
    if task.offset or task.length != table.num_rows:
        table = table.slice(task.offset, task.length)
    try:
        result, counts = extract_table_counted(
            table,
            settings["names"],
            settings["min_points"],
            n_jobs=settings["n_jobs"],
            periodogram=settings["periodogram"],
            method=settings["method"],
            transient_fits=settings["transient_fits"],
            transient_fit_algorithm=settings["transient_fit_algorithm"],
        )
    except ValueError as exc:
        raise InputError(f"{task.path} (row groups {list(task.row_groups)}): {exc}") from exc
    return task.index, result, counts


def _settings(features: Mapping[str, Any]) -> dict[str, Any]:
    """Validated feature settings from the ``features`` config section, defaults filled in."""
    unknown = set(features) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"features: unknown key(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    settings = {**DEFAULTS, **{k: v for k, v in features.items() if v is not None or k == "periodogram"}}
    names = settings["names"]
    settings["names"] = names if isinstance(names, str) else list(names)
    resolve_feature_names(settings["names"])  # fail early, on the client, with the config key in the message
    _periodogram_kwargs(settings["periodogram"])
    settings["transient_fits"] = resolve_transient_fits(settings["transient_fits"])
    for fit in settings["transient_fits"]:
        if fit in PER_BAND_FITS:
            per_band_fit_extractor(fit, settings["transient_fit_algorithm"])
    if "rainbow" in settings["transient_fits"]:
        from skysift.features.fits import rainbow_fit_extractor

        try:
            rainbow_fit_extractor()
        except ImportError as exc:
            raise InputError(str(exc)) from exc
    if settings["method"] not in ("arrow", "owned"):
        raise ValueError(f"features.method must be 'arrow' or 'owned' (got {settings['method']!r})")
    for key in ("min_points", "n_jobs", "rows_per_task"):
        if int(settings[key]) < (0 if key == "min_points" else 1):
            raise ValueError(f"features.{key} must be a positive integer (got {settings[key]!r})")
        settings[key] = int(settings[key])
    return settings


def _results(
    tasks: Sequence[FeatureTask], settings: Mapping[str, Any], client: Any | None, window: int
) -> Iterator[tuple[pa.Table, dict[str, int]]]:
    """Yield task results in task order; with a client keep at most ``window`` tasks in flight or buffered."""
    if client is None:
        for task in tasks:
            _, table, counts = run_task(task, settings)
            yield table, counts
        return

    from distributed import as_completed

    todo = iter(tasks)
    done: dict[int, tuple[pa.Table, dict[str, int]]] = {}
    in_flight: set[Any] = set()
    next_out = 0
    submitted = 0

    def submit() -> Any | None:
        nonlocal submitted
        task = next(todo, None)
        if task is None:
            return None
        submitted += 1
        future = client.submit(run_task, task, dict(settings), pure=False)
        in_flight.add(future)
        return future

    pending = as_completed([f for f in (submit() for _ in range(window)) if f is not None])
    try:
        for future in pending:
            index, table, counts = future.result()
            in_flight.discard(future)
            future.release()
            done[index] = (table, counts)
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
            # Refill up to the window, counting results buffered for reordering against it.
            while submitted - next_out < window:
                nxt = submit()
                if nxt is None:
                    break
                pending.add(nxt)
    finally:
        if in_flight:
            client.cancel(list(in_flight))
    if next_out != len(tasks):  # pragma: no cover - as_completed would have raised
        raise RuntimeError(f"feature extraction lost tasks: wrote {next_out} of {len(tasks)}")


def extract_features(
    paths: Iterable[str | Path],
    output_path: str | Path,
    features: Mapping[str, Any] | None = None,
    client: Any | None = None,
) -> dict[str, Any]:
    """Compute features of every light curve in ``paths`` and write them to ``output_path`` (parquet, atomically).

    ``features`` is the config section: ``names`` ("default", "cheap" or a list of feature
    keys), ``min_points``, ``n_jobs`` (light-curve threads per task), ``rows_per_task``,
    ``periodogram`` (optional light_curve.Periodogram settings), ``method`` (how light
    curves reach light-curve: "arrow", zero-copy, default; or "owned" numpy arrays). With a
    ``distributed.Client`` tasks run on its workers, otherwise serially in-process; the
    output is identical. Returns counts and timing.
    """
    settings = _settings(dict(features or {}))
    paths = [str(p) for p in paths]
    t0 = time.perf_counter()
    tasks = plan_tasks(paths, settings["rows_per_task"])
    settings["colours"] = bool(settings["colours"])
    columns = feature_columns(settings["names"], settings["periodogram"], settings["transient_fits"])
    schema = output_schema(columns)
    floor = max(settings["min_points"], required_min_points(settings["names"]))
    if settings["min_points"] < floor:
        logger.info(
            "features.min_points=%d raised to %d: a requested feature needs that many points",
            settings["min_points"],
            floor,
        )
    if client is not None:
        nthreads = sum(
            w.get("nthreads", 1) for w in client.scheduler_info(n_workers=-1).get("workers", {}).values()
        )
        window = max(4, 2 * nthreads)
    else:
        nthreads, window = 0, 1
    logger.info(
        "extracting %d features from %d file(s) in %d task(s) of <= %d light curves (%s)",
        len(columns),
        len(paths),
        len(tasks),
        settings["rows_per_task"],
        f"Dask, {nthreads} worker threads" if client is not None else "serial, in-process",
    )
    per_band_fits = [f for f in settings["transient_fits"] if f in PER_BAND_FITS]
    totals = {"rows": 0, "extracted": 0, "too_few_points": 0, "invalid": 0, "fit_failed": 0}
    totals |= {f"{f}_fit_{k}": 0 for f in per_band_fits for k in ("failed", "too_few_points")}
    progress = Progress(len(tasks), sum(t.length for t in tasks))
    with atomic_path(output_path) as tmp, pq.ParquetWriter(tmp, schema, **PARQUET_OPTIONS) as writer:
        for table, counts in _results(tasks, settings, client, window):
            writer.write_table(table)
            for key in totals:
                totals[key] += counts[key]
            progress.update(counts["rows"])
    if settings["colours"]:
        from skysift.features.colour import add_colours

        add_colours(output_path, paths, floor)
    if "rainbow" in settings["transient_fits"]:
        from skysift.features.fits import add_rainbow

        rainbow = add_rainbow(output_path, paths, floor)
        totals |= {f"rainbow_fit_{k}": v for k, v in rainbow.items()}
    seconds = time.perf_counter() - t0
    if totals["too_few_points"]:
        logger.info(
            "%d light curve(s) have fewer than %d points: features set to NaN",
            totals["too_few_points"],
            floor,
        )
    if totals["invalid"]:
        logger.warning(
            "%d light curve(s) have non-finite values or non-increasing times: features set to NaN "
            "(the clean stage should have removed them)",
            totals["invalid"],
        )
    for fit in per_band_fits:
        logger.info(
            "transient fits: %d light curve(s) with >= %d points had a failed %s fit: fit columns NaN, "
            "%s_fit_success 0; %d light curve(s) with features had too few points for it (success NaN)",
            totals[f"{fit}_fit_failed"],
            fit_min_points(fit),
            fit.capitalize(),
            fit,
            totals[f"{fit}_fit_too_few_points"],
        )
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
        "min_points": floor,
        "n_features": len(columns),
        "n_files": len(paths),
        "n_tasks": len(tasks),
        "seconds": seconds,
        "light_curves_per_second": rate,
        "output": str(output_path),
    }
