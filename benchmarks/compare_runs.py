"""Compare the science outputs of two finished runs (e.g. the default demo before and after a refactor).

    python benchmarks/compare_runs.py BEFORE/results AFTER/results [--rtol 1e-9]

Compared, each as one line SAME / DIFF (with what differs) / MISSING:
- candidate lists ``candidates/*.ecsv``: objectids and their order, and every numeric column;
- ``classify/**/metrics.json``: every number (recursively), within ``--rtol``;
- anomaly outputs ``anomaly/scores.parquet`` and ``anomaly/ranked/*.parquet``: objectids, order, scores;
- classifier predictions ``classify/**/predictions.parquet`` (the release's per-batch
  ``classify/predictions/<batch>.parquet`` read as one table, rows by objectid, against a single file);
- per-batch products (``crossmatch/*.parquet``, ``features/*.parquet``): equal tables.
Exit status 1 if anything differs, so it can gate a refactor.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from astropy.table import Table


def _numbers(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, leaf value) of a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numbers(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numbers(value, f"{prefix}[{i}]")
    else:
        yield prefix, node


def compare_json(a: Path, b: Path, rtol: float) -> list[str]:
    """Keys whose values differ (numbers within rtol are equal; NaN equals NaN)."""
    left, right = dict(_numbers(json.loads(a.read_text()))), dict(_numbers(json.loads(b.read_text())))
    diffs = [f"only in one run: {k}" for k in sorted(set(left) ^ set(right))]
    for key in sorted(set(left) & set(right)):
        x, y = left[key], right[key]
        if isinstance(x, int | float) and isinstance(y, int | float) and not isinstance(x, bool):
            if not (math.isclose(x, y, rel_tol=rtol, abs_tol=1e-12) or (math.isnan(x) and math.isnan(y))):
                diffs.append(f"{key}: {x} != {y}")
        elif x != y:
            diffs.append(f"{key}: {x!r} != {y!r}")
    return diffs


def compare_frames(left: pd.DataFrame, right: pd.DataFrame, rtol: float, key: str = "objectid") -> list[str]:
    """Differences of two tables: the key column's order first, then every shared column."""
    diffs = []
    if key in left and key in right:
        a, b = left[key].to_numpy(), right[key].to_numpy()
        if len(a) != len(b) or not np.array_equal(a, b):
            first = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
            )
            diffs.append(f"{key} order differs from row {first} ({len(a)} vs {len(b)} rows)")
            return diffs
    if len(left) != len(right):
        return [f"{len(left)} vs {len(right)} rows"]
    columns = [c for c in left.columns if c in right.columns]
    only = sorted(set(left.columns) ^ set(right.columns))
    if only:
        diffs.append(f"columns in one run only: {only}")
    for column in columns:
        x, y = left[column], right[column]
        if x.dtype.kind in "fiub" and y.dtype.kind in "fiub":
            if not np.allclose(x.to_numpy(float), y.to_numpy(float), rtol=rtol, atol=1e-12, equal_nan=True):
                diffs.append(f"column {column} differs")
        elif not x.astype(str).equals(y.astype(str)):
            diffs.append(f"column {column} differs")
    return diffs


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    table = Table.read(path)
    return table.to_pandas() if not table.has_masked_values else table.filled().to_pandas()


#: Outputs written as one file by older runs and per batch (a directory of parquet files) by newer ones.
PER_BATCH = {"classify/predictions.parquet": "classify/predictions"}


def _read_output(root: Path, name: Path) -> pd.DataFrame | None:
    """An output of a run as a table: the file, or its per-batch files concatenated (rows by objectid)."""
    path = root / name
    if path.exists():
        frame = _read(path)
    elif str(name) in PER_BATCH and (root / PER_BATCH[str(name)]).is_dir():
        frame = pd.concat([_read(p) for p in sorted((root / PER_BATCH[str(name)]).glob("*.parquet"))])
    else:
        return None
    if str(name) in PER_BATCH:
        frame = frame.sort_values("objectid", kind="stable").reset_index(drop=True)
    return frame


def compare(before: Path, after: Path, rtol: float) -> list[tuple[str, str, list[str]]]:
    """(relative path, SAME/DIFF/MISSING, details) for every compared output."""
    patterns = [
        "candidates/*.ecsv",
        "classify/**/metrics.json",
        "classify/metrics.json",
        "anomaly/scores.parquet",
        "anomaly/ranked/*.parquet",
        "classify/predictions.parquet",
        "classify/*/predictions.parquet",
        "crossmatch/*.parquet",
        "features/*.parquet",
    ]
    names = sorted({p.relative_to(before) for pattern in patterns for p in before.glob(pattern)})
    names += [Path(n) for n, d in PER_BATCH.items() if (before / d).is_dir() and Path(n) not in names]
    rows = []
    for name in names:
        a, b = before / name, after / name
        if a.suffix == ".json":
            if not b.exists():
                rows.append((str(name), "MISSING", []))
                continue
            diffs = compare_json(a, b, rtol)
        else:
            left, right = _read_output(before, name), _read_output(after, name)
            if right is None:
                rows.append((str(name), "MISSING", []))
                continue
            diffs = compare_frames(left, right, rtol)
        rows.append((str(name), "DIFF" if diffs else "SAME", diffs))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="results/ of the reference run")
    parser.add_argument("after", type=Path, help="results/ of the run to check")
    parser.add_argument("--rtol", type=float, default=1e-9, help="relative tolerance for numbers")
    args = parser.parse_args(argv)
    rows = compare(args.before, args.after, args.rtol)
    if not rows:
        print(f"nothing to compare under {args.before}")
        return 1
    width = max(len(name) for name, _, _ in rows)
    for name, status, diffs in rows:
        print(f"{name:<{width}}  {status}")
        for line in diffs[:5]:
            print(f"{'':<{width}}    {line}")
    bad = sum(status != "SAME" for _, status, _ in rows)
    print(f"{len(rows) - bad} same, {bad} different or missing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
