"""Small I/O helpers shared by every stage: atomic writes, parquet tables, the user-error type, and the
guards for untrusted strings (names that become paths, catalog strings in CSV cells)."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "PathLike",
    "atomic_path",
    "write_parquet",
    "write_parquet_df",
    "read_tables",
    "InputError",
    "safe_name",
    "spreadsheet_safe",
    "FORMULA_PREFIXES",
    "BATCH_LIST_NAME",
    "write_batch_list",
    "read_batch_list",
    "expand_batch_lists",
]

PathLike = str | os.PathLike
"""A file argument: a string or any path object (the type of the ``*Outputs`` fields and readers)."""


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
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OSError(
                exc.errno,
                f"the disk is full ({exc.strerror}) while writing this file; nothing was written under its "
                f"name. Free space on {target.parent} (or point results/tmpdir elsewhere) and rerun",
                str(target),
            ) from exc
        raise
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


#: File name of a batch list: one per-batch output path per line (see :func:`write_batch_list`).
BATCH_LIST_NAME = "batches.txt"


def write_batch_list(paths: Iterable[str | Path], out: str | Path) -> Path:
    """Write the per-batch files ``paths`` to the batch list ``out``, one path per line, atomically.

    A release-wide rule whose outputs feed per-batch jobs (a model every batch's predictions load) takes
    this one file as input instead of every batch's file: Snakemake then builds the DAG of thousands of
    batches in time linear in the batches, not quadratic (it searches each producer's input list once per
    consumer job).
    """
    out = Path(out)
    if out.name != BATCH_LIST_NAME:
        raise InputError(f"{out}: a batch list must be named {BATCH_LIST_NAME}")
    lines = [str(p) for p in paths]
    with atomic_path(out) as tmp:
        tmp.write_text("".join(f"{line}\n" for line in lines))
    return out


def read_batch_list(path: str | Path) -> list[str]:
    """The per-batch file paths listed in the batch list ``path``; every one must exist."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such batch list; rerun snakemake to write it")
    files = [line for line in path.read_text().splitlines() if line.strip()]
    missing = [f for f in files if not Path(f).exists()]
    if missing:
        raise InputError(
            f"{path} lists {len(missing)} file(s) that do not exist (first: {missing[0]}); "
            "rerun snakemake, which rewrites the list from the batches that exist"
        )
    return files


def expand_batch_lists(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """``inputs`` (a rule's named inputs) with every batch list (a path named ``batches.txt``) replaced by
    the list of files it names; other values unchanged."""
    return {
        key: read_batch_list(value)
        if isinstance(value, str | os.PathLike) and Path(value).name == BATCH_LIST_NAME
        else value
        for key, value in inputs.items()
    }


def safe_name(name: Any, what: str) -> str:
    """``name`` if it is safe inside a file path or a page, else an :class:`InputError` naming ``what``.

    List, sky-map and expert names become parts of paths (``results/candidates/<list>.ecsv``) and of
    pages: refused are empty names, ``.`` and ``..``, path separators (so no ``../`` and no absolute
    path) and control characters (newlines, escapes, NUL).
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{what}: {name!r} is not a name; give a non-empty name")
    problem = None
    if name in (".", "..") or "/" in name or "\\" in name:
        problem = "a path ('/', '\\', '.' or '..')"
    elif name != name.strip():
        problem = "leading or trailing blanks"
    elif any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        problem = "control characters"
    if problem:
        raise InputError(
            f"{what}: {name!r} is refused: it contains {problem}; use letters, digits, '_', '-' and '.' "
            "(the name becomes part of file paths and pages)"
        )
    return name


#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP, "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

T = TypeVar("T")


def _neutral(value: Any) -> Any:
    """A string cell as a spreadsheet must see it: a formula prefixed with ``'`` (shown as text), control
    characters (line breaks that would split the row) as blanks."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return value
    out = "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if any(unicodedata.category(c) == "Cc" for c in out):
        out = "".join(" " if unicodedata.category(c) == "Cc" else c for c in out)
    return out if out != value else value


def spreadsheet_safe(table: T) -> T:
    """A copy of an astropy Table or pandas DataFrame whose string cells cannot run as spreadsheet formulas.

    Catalog strings (names, types, notes) come from services and other people's files: a cell starting
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` in a CSV meant
    for humans, and control characters inside a cell become blanks (a line break would start a forged
    row). Numeric columns are untouched; use it for CSV only (ECSV/VOTable/parquet keep the data).
    """
    out = table.copy()
    astropy = hasattr(out, "colnames")
    for name in list(out.colnames if astropy else out.columns):
        column = out[name]
        if column.dtype.kind not in "USO":
            continue
        raw = column.data.data if astropy and hasattr(column, "mask") else column
        values = [_neutral(v) for v in list(raw)]
        if all(a is b for a, b in zip(values, list(raw), strict=True)):
            continue
        if astropy:  # same class, unit, description and mask
            new = type(column)(values, name=name, unit=column.unit, description=column.description,
                               meta=column.meta, **({"mask": column.mask} if hasattr(column, "mask") else {}))  # fmt: skip
            out.replace_column(name, new)
        else:
            out[name] = values
    return out
