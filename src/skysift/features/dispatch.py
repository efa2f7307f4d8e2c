"""Running feature tasks: serially in-process, or on Dask workers with results written in task order.

With a client, at most ``window`` tasks are in flight or buffered for reordering, so the client's memory
stays flat however big the batch is; without one the same tasks run one after another, giving the
identical file. :class:`Progress` logs the rate and ETA of a long batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from skysift.features.settings import FeatureSettings
from skysift.features.tasks import FeatureTask, run_task
from skysift.lightcurves.cuts import CleanConfig, CleanStats

__all__ = ["PROGRESS_EVERY_S", "Progress", "task_results"]

logger = logging.getLogger("skysift.features.batch")  # the batch's log lines, whichever module writes them

#: Seconds between progress lines of a long batch (also one line per 10 % of tasks).
PROGRESS_EVERY_S = 30.0

#: What a task returns: (task index, features, feature counts, cleaning counts).
Result = tuple[int, pa.Table, dict[str, int], CleanStats]


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


def task_results(
    tasks: Sequence[FeatureTask],
    settings: FeatureSettings,
    cuts: CleanConfig | None,
    client: Any | None,
    window: int,
) -> Iterator[Result]:
    """Yield task results in task order; with a client keep at most ``window`` tasks in flight or buffered."""
    if client is None:
        for task in tasks:
            yield run_task(task, settings, cuts)
        return

    from distributed import as_completed

    todo = iter(tasks)
    done: dict[int, Result] = {}
    in_flight: set[Any] = set()
    next_out = 0
    submitted = 0

    def submit() -> Any | None:
        nonlocal submitted
        task = next(todo, None)
        if task is None:
            return None
        submitted += 1
        future = client.submit(run_task, task, settings, cuts, pure=False)
        in_flight.add(future)
        return future

    pending = as_completed([f for f in (submit() for _ in range(window)) if f is not None])
    try:
        for future in pending:
            result = future.result()
            in_flight.discard(future)
            future.release()
            done[result[0]] = result
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
