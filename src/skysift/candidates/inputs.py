"""Inputs of the candidate stage besides the tables: DR epoch counts, alert names, model status."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from astropy.table import Table

from skysift.io import InputError

__all__ = ["read_alert_names", "read_nepochs", "skipped_reason"]

_ZTF_NAME = re.compile(r"^ZTF\d{2}[a-z]{7}$")


def read_nepochs(manifests: Iterable[str | Path]) -> pd.DataFrame:
    """objectid and DR epoch count of every light curve of the fetch manifests' DR files.

    A manifest is the fetch stage's TSV with a ``path`` column; only the objectid and nepochs
    columns of each parquet file are read.
    """
    frames = []
    for manifest in manifests:
        listing = pd.read_csv(manifest, sep="\t")
        if "path" not in listing.columns:
            raise InputError(f"{manifest}: fetch manifest has no 'path' column")
        for path in listing["path"]:
            frames.append(pq.read_table(path, columns=["objectid", "nepochs"]).to_pandas())
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
