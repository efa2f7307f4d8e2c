"""Inputs of the candidate stage besides the tables: DR epoch counts, alert names, model status."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from astropy.table import Table

from skysift.io import InputError

__all__ = ["id_filter", "read_alert_names", "read_columns", "read_nepochs", "skipped_reason"]

_ZTF_NAME = re.compile(r"^ZTF\d{2}[a-z]{7}$")


def id_filter(objectids: Iterable[int]) -> pc.Expression:
    """A parquet filter keeping the rows of ``objectids`` (pushed down to row groups and pages)."""
    ids = np.unique(np.fromiter(objectids, dtype=np.int64))
    return pc.field("objectid").isin(pa.array(ids, type=pa.int64()))


def read_columns(
    paths: Iterable[str | Path],
    columns: list[str] | None = None,
    filter: pc.Expression | None = None,  # noqa: A002 - pyarrow's name
) -> pd.DataFrame:
    """The ``columns`` (all if None; missing ones skipped) of the rows passing ``filter`` of parquet files.

    Each file is read with column selection and filter pushdown, so a caller never holds more of a
    per-batch table than it asked for; tables whose schemas differ are concatenated with promotion.
    """
    tables = []
    for path in paths:
        names = pq.read_schema(path).names
        wanted = None if columns is None else [c for c in columns if c in names]
        tables.append(pq.read_table(path, columns=wanted, filters=filter))
    if not tables:
        raise InputError("no input tables given")
    return pa.concat_tables(tables, promote_options="default").to_pandas()


def read_nepochs(manifests: Iterable[str | Path], objectids: Iterable[int] | None = None) -> pd.DataFrame:
    """objectid and DR epoch count of the light curves (of ``objectids`` if given) of the fetch manifests' DR files.

    A manifest is the fetch stage's TSV with a ``path`` column; only the objectid and nepochs
    columns of each parquet file are read (and only the rows of ``objectids``: filter pushdown).
    """
    row_filter = None if objectids is None else id_filter(objectids)
    frames = []
    for manifest in manifests:
        listing = pd.read_csv(manifest, sep="\t")
        if "path" not in listing.columns:
            raise InputError(f"{manifest}: fetch manifest has no 'path' column")
        for path in listing["path"]:
            frames.append(
                pq.read_table(path, columns=["objectid", "nepochs"], filters=row_filter).to_pandas()
            )
    if not frames:
        return pd.DataFrame({"objectid": np.array([], np.int64), "nepochs": np.array([], np.int64)})
    return pd.concat(frames, ignore_index=True)


def read_alert_names(path: str | Path | None) -> pd.DataFrame | None:
    """The optional objectid -> ZTF alert name table (parquet, ECSV/FITS/VOTable or CSV); None if no path."""
    if path is None:
        return None
    path = Path(path)
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
    elif path.suffix == ".csv":
        df = pd.read_csv(path)
    else:
        df = Table.read(path).to_pandas()
    missing = [c for c in ("objectid", "ztf_name") if c not in df.columns]
    if missing:
        raise InputError(f"{path}: alert-name table lacks column(s) {missing}; expected objectid, ztf_name")
    names = df["ztf_name"].astype("string").str.strip()
    bad = names.notna() & ~names.fillna("").str.match(_ZTF_NAME.pattern)
    if bad.any():
        raise InputError(
            f"{path}: {int(bad.sum())} ztf_name value(s) are not ZTF alert names like ZTF18abcdefg, "
            f"e.g. {names[bad].iloc[0]!r}"
        )
    return pd.DataFrame({"objectid": df["objectid"].astype(np.int64), "ztf_name": names})


def skipped_reason(metrics: str | Path) -> str | None:
    """Why a model was not trained, from its metrics.json (``{"status": "skipped", "reason": ...}``, written
    by :mod:`skysift.classify.skipped`); None when it was trained."""
    with open(metrics, encoding="utf-8") as fh:
        report = json.load(fh)
    if not isinstance(report, dict):
        raise InputError(f"{metrics}: not a metrics report (a JSON object)")
    return str(report["reason"]) if report.get("status") == "skipped" else None
