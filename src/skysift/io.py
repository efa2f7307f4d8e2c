"""Small I/O helpers shared by every stage: atomic writes, parquet tables and the user-error type."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["atomic_path", "write_parquet", "write_parquet_df", "read_tables", "InputError"]


class InputError(ValueError):
    """Bad user input (a file, column or config key); the message says what to do."""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it and rename it into place.

    On an exception the temporary file is removed and ``path`` is left untouched, so a
    killed job never leaves a half-written output that looks complete.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_parquet(table: pa.Table, path: str | Path, **kwargs) -> Path:
    """Write an Arrow table to parquet atomically (zstd-compressed unless told otherwise)."""
    kwargs.setdefault("compression", "zstd")
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **kwargs)
    return Path(path)


def read_tables(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Concatenate parquet tables (e.g. one per batch) into one DataFrame, in the given order."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no input tables given")
    return pa.concat_tables([pq.read_table(p) for p in paths], promote_options="default").to_pandas()


def write_parquet_df(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame to parquet atomically, without the pandas index."""
    return write_parquet(pa.Table.from_pandas(df, preserve_index=False), path)
