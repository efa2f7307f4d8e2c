"""Expert labels files: read, validate, merge several experts' files, append one answer crash-safely.

A labels file is CSV (``.csv``) or ECSV (``.ecsv``) with the columns

``objectid``  int, the ZTF DR object id that was inspected
``label``     ``anomaly`` | ``regular`` | ``unknown`` (case-insensitive; ``unknown`` = looked at,
              could not tell: never proposed again, never used to fit)
``expert``    who answered (free text, may be empty)
``time``      ISO 8601 time of the answer (UTC if no offset is given)
``note``      free text (may be empty)

A bad row stops the run with an :class:`~skysift.io.InputError` naming the file, the line
(1-based, counting the header) and the column.

Merging (:func:`merge_labels`): every row of every file is a vote. Per objectid the vote with
the latest ``time`` wins; equal times go to the file listed later in ``anomaly.labels``, then to
the later line of the same file. The winner's expert, time, file and line are kept as provenance
(``label_expert``, ``label_time``, ``label_origin``), with ``label_votes`` (how many votes) and
``label_conflict`` (True when the votes disagree: someone should look again). A label of one
objectid applies to its whole associated source (the g/r/i objectids of one star) in the search
(:func:`source_labels`), as a coniferest :class:`~coniferest.label.Label`.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from coniferest.label import Label

from skysift.io import InputError, safe_name

if TYPE_CHECKING:
    from skysift.anomaly.space import SearchSpace

__all__ = [
    "LABEL_COLUMNS",
    "LABEL_VALUES",
    "as_label",
    "read_labels",
    "merge_labels",
    "source_labels",
    "append_label",
    "empty_labels",
]

logger = logging.getLogger(__name__)

#: Columns of a labels file, in order.
LABEL_COLUMNS: tuple[str, ...] = ("objectid", "label", "expert", "time", "note")
#: Accepted label values.
LABEL_VALUES: tuple[str, ...] = ("anomaly", "regular", "unknown")

_MERGED_COLUMNS = (
    "objectid",
    "label",
    "label_expert",
    "label_time",
    "label_note",
    "label_origin",
    "label_votes",
    "label_conflict",
)


def as_label(value: str) -> Label:
    """The coniferest Label of a labels-file value (``anomaly`` -> ``Label.ANOMALY``, ...)."""
    if value not in LABEL_VALUES:
        raise ValueError(f"label {value!r} is not one of {list(LABEL_VALUES)}")
    return Label[value.upper()]


def empty_labels() -> pd.DataFrame:
    """A merged labels table with no rows (the columns of :func:`merge_labels`)."""
    return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in _MERGED_COLUMNS})


def _dtype(column: str) -> str:
    """dtype of a merged labels column."""
    return {"objectid": "int64", "label_votes": "int64", "label_conflict": "bool"}.get(column, "object")


def _raw_rows(path: Path) -> tuple[pd.DataFrame, int]:
    """The file's rows as strings and the line number of its first data row."""
    if path.suffix.lower() == ".ecsv":
        from astropy.table import Table

        try:
            table = Table.read(path, format="ascii.ecsv")
        except Exception as exc:  # astropy raises several types for malformed headers
            raise InputError(f"{path}: not a readable ECSV file ({exc})") from exc
        header_lines = sum(1 for line in path.read_text().splitlines() if line.startswith("#")) + 1
        df = table.to_pandas().astype(str).replace({"nan": "", "--": "", "None": ""})
        return df, header_lines + 1
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: not a readable CSV labels file ({exc})") from exc
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: empty labels file; expected a header {','.join(LABEL_COLUMNS)}") from None
    return df, 2


def read_labels(path: str | Path) -> pd.DataFrame:
    """Read and validate one labels file; returns its rows with ``file`` and ``line`` columns.

    ``time`` becomes a UTC ``datetime64``. Missing ``expert``/``note`` columns are empty; a
    missing objectid/label/time column, a non-integer objectid, an unknown label or an
    unparseable time raise :class:`InputError` naming the file, line and column.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"anomaly.labels: file {path} does not exist (create it, or remove it from the list)"
        )
    df, first_line = _raw_rows(path)
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("objectid", "label", "time") if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}; a labels file has {list(LABEL_COLUMNS)}")
    for col in ("expert", "note"):
        if col not in df.columns:
            df[col] = ""
    lines = np.arange(first_line, first_line + len(df))
    blank = (df[list(LABEL_COLUMNS)].apply(lambda s: s.str.strip()) == "").all(axis=1).to_numpy()
    df, lines = df.loc[~blank].reset_index(drop=True), lines[~blank]
    objectid = np.empty(len(df), dtype=np.int64)
    times = []
    labels = []
    for i, row in enumerate(df.itertuples(index=False)):
        where = f"{path}, line {lines[i]}"
        try:
            objectid[i] = int(str(row.objectid).strip())
        except ValueError:
            raise InputError(
                f"{where}, column objectid: {row.objectid!r} is not an integer object id"
            ) from None
        label = str(row.label).strip().lower()
        if label not in LABEL_VALUES:
            raise InputError(f"{where}, column label: {row.label!r} is not one of {list(LABEL_VALUES)}")
        labels.append(label)
        if str(row.expert).strip():  # shown in pages and the session: no paths, no control characters
            safe_name(str(row.expert).strip(), f"{where}, column expert")
        try:
            stamp = pd.Timestamp(str(row.time).strip())
        except ValueError:
            stamp = pd.NaT
        if pd.isna(stamp):
            raise InputError(
                f"{where}, column time: {row.time!r} is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)"
            )
        times.append(stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC"))
    out = pd.DataFrame(
        {
            "objectid": objectid,
            "label": labels,
            "expert": df["expert"].astype(str).str.strip().to_numpy(),
            "time": pd.to_datetime(pd.Series(times, dtype=object), utc=True)
            if times
            else pd.Series([], dtype="datetime64[ns, UTC]"),
            "note": df["note"].astype(str).to_numpy(),
            "file": str(path),
            "line": lines.astype(np.int64),
        }
    )
    logger.info("%s: %d label(s) %s", path, len(out), out["label"].value_counts().to_dict())
    return out


def merge_labels(paths: Iterable[str | Path], *, expert: str | None = None) -> pd.DataFrame:
    """One label per objectid from several files (latest time wins; see the module docstring).

    ``expert``: only that expert's answers (the rows whose ``expert`` column is that name): the answers
    of one personalised model (:mod:`skysift.anomaly.experts`).
    """
    frames = [read_labels(p).assign(file_order=i) for i, p in enumerate(paths)]
    if expert is not None:
        frames = [f.loc[f["expert"] == expert] for f in frames]
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_labels()
    votes = pd.concat(frames, ignore_index=True)
    votes = votes.sort_values(["objectid", "time", "file_order", "line"], kind="mergesort")
    grouped = votes.groupby("objectid", sort=True)
    winner = grouped.tail(1).set_index("objectid")
    n_votes = grouped.size()
    n_distinct = grouped["label"].nunique()
    out = pd.DataFrame(
        {
            "objectid": winner.index.to_numpy(np.int64),
            "label": winner["label"].to_numpy(),
            "label_expert": winner["expert"].to_numpy(),
            "label_time": winner["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(),
            "label_note": winner["note"].to_numpy(),
            "label_origin": (winner["file"] + ":" + winner["line"].astype(str)).to_numpy(),
            "label_votes": n_votes.loc[winner.index].to_numpy(np.int64),
            "label_conflict": (n_distinct.loc[winner.index] > 1).to_numpy(),
        }
    )
    if out["label_conflict"].any():
        logger.warning(
            "%d object(s) have conflicting labels (latest answer kept), e.g. %s",
            int(out["label_conflict"].sum()),
            out.loc[out["label_conflict"], "objectid"].head(5).tolist(),
        )
    logger.info("merged labels: %d objects %s", len(out), out["label"].value_counts().to_dict())
    return out.reset_index(drop=True)


def source_labels(space: SearchSpace, labels: pd.DataFrame) -> dict[int, Label]:
    """Merged labels (per objectid, :func:`merge_labels`) as a Label per source_id of ``space``.

    The latest answer about any objectid of a source wins; labelled objectids that are not in
    the space are ignored (counted in the log).
    """
    if not len(labels):
        return {}
    sid = pd.Series(space.source_id, index=space.objectid)
    found = labels["objectid"].isin(sid.index)
    if (~found).any():
        logger.warning(
            "%d labelled objectid(s) are not in the features table (ignored), e.g. %s",
            int((~found).sum()),
            labels.loc[~found, "objectid"].head(5).tolist(),
        )
    lab = labels.loc[found].assign(source_id=sid.loc[labels.loc[found, "objectid"]].to_numpy())
    lab = lab.sort_values(["label_time", "objectid"], kind="mergesort").groupby("source_id").tail(1)
    return {int(s): as_label(v) for s, v in zip(lab["source_id"], lab["label"], strict=True)}


def append_label(
    path: str | Path, objectid: int, label: str, expert: str, note: str = "", time: datetime | None = None
) -> None:
    """Append one answer to a CSV labels file (header first if new) and fsync it before returning.

    One ``write`` of a whole line, then ``flush`` and ``os.fsync``: a session killed at any moment
    loses no answer it has confirmed, and never leaves half a line behind it.
    """
    if label not in LABEL_VALUES:
        raise ValueError(f"label {label!r} is not one of {list(LABEL_VALUES)}")
    path = Path(path)
    if path.suffix.lower() == ".ecsv":
        raise InputError(f"{path}: answers are appended to CSV files only; give a .csv labels file")
    stamp = (time or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    new = not path.exists() or path.stat().st_size == 0
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [list(LABEL_COLUMNS)] if new else []
    rows.append([str(int(objectid)), label, expert, stamp, note])
    with open(path, "a", newline="", encoding="utf-8") as fh:
        text = _csv_lines(rows)
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _csv_lines(rows: list[list[str]]) -> str:
    """Rows as CSV text (quoted where needed, \\n line ends)."""
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()
