"""Catalog files (parquet, ECSV, FITS, VOTable, CSV) read into one shape for the local matcher."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from astropy.table import Table

from skysift.crossmatch.base import strip_strings
from skysift.io import InputError

if TYPE_CHECKING:
    from skysift.crossmatch.spec import CatalogSpec

__all__ = ["load_catalog"]

log = logging.getLogger(__name__)

_FORMATS = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv", ".vot": "votable", ".xml": "votable"}


def load_catalog(spec: CatalogSpec) -> pd.DataFrame:
    """The catalog file of ``spec`` as columns name, ra, dec (degrees), type, mag (NaN without a mag_column).

    Names and types are stripped of padding; rows without a valid position are dropped (logged).
    """
    path = Path(spec.path)
    if not path.exists():
        raise InputError(f"{path}: catalog file for crossmatch.catalogs.{spec.name} not found")
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
    else:
        fmt = _FORMATS.get(path.suffix)
        df = Table.read(path, format=fmt).to_pandas() if fmt else Table.read(path).to_pandas()
    wanted = spec.column_keys()
    missing = {key: col for key, col in wanted.items() if col not in df.columns}
    if missing:
        keys = ", ".join(f"crossmatch.catalogs.{spec.name}.{k}={v!r}" for k, v in missing.items())
        raise InputError(f"{path}: column(s) not found ({keys}); the file has {list(df.columns)}")
    out = pd.DataFrame(
        {
            "name": strip_strings(df[spec.id_column]),
            "ra": pd.to_numeric(df[spec.ra_column], errors="coerce").to_numpy(np.float64),
            "dec": pd.to_numeric(df[spec.dec_column], errors="coerce").to_numpy(np.float64),
            "type": strip_strings(df[spec.type_column]),
            "mag": (
                pd.to_numeric(df[spec.mag_column], errors="coerce").to_numpy(np.float64)
                if spec.mag_column
                else np.full(len(df), np.nan)
            ),
        }
    )
    bad = ~(np.isfinite(out["ra"]) & np.isfinite(out["dec"]))
    if bad.any():
        log.warning("%s: %d rows without a valid position skipped", path, int(bad.sum()))
        out = out[~bad].reset_index(drop=True)
    return out
