"""Catalog files (parquet, ECSV, FITS, VOTable, CSV) read into one shape for the local matcher."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.table import Table

from skysift.crossmatch.base import strip_strings
from skysift.io import InputError

if TYPE_CHECKING:
    from skysift.crossmatch.spec import CatalogSpec

__all__ = ["load_catalog"]

log = logging.getLogger(__name__)

_FORMATS = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv", ".vot": "votable", ".xml": "votable"}


def load_catalog(spec: CatalogSpec, dec_range: tuple[float, float] | None = None) -> pd.DataFrame:
    """The catalog file of ``spec`` as columns name, ra, dec (degrees), type, mag (NaN without a mag_column).

    Names and types are stripped of padding; rows without a valid position are dropped (logged). A parquet
    file is read with column selection (only the five columns) and, given ``dec_range`` (degrees) and a
    numeric dec column, a filter pushed down to its row groups: a per-batch job holds the catalog's rows of
    its declination band, not the catalog. Other formats are read whole.
    """
    path = Path(spec.path)
    if not path.exists():
        raise InputError(f"{path}: catalog file for crossmatch.catalogs.{spec.name} not found")
    wanted = spec.column_keys()
    if path.suffix == ".parquet":
        schema = pq.read_schema(path)
        _check_columns(spec, path, wanted, schema.names)
        row_filter = None
        dec_type = schema.field(spec.dec_column).type
        if dec_range is not None and (pa.types.is_floating(dec_type) or pa.types.is_integer(dec_type)):
            row_filter = [(spec.dec_column, ">=", dec_range[0]), (spec.dec_column, "<=", dec_range[1])]
        df = pd.read_parquet(path, columns=sorted(set(wanted.values())), filters=row_filter)
    else:
        fmt = _FORMATS.get(path.suffix)
        df = Table.read(path, format=fmt).to_pandas() if fmt else Table.read(path).to_pandas()
        _check_columns(spec, path, wanted, list(df.columns))
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


def _check_columns(spec: CatalogSpec, path: Path, wanted: dict[str, str], names: list[str]) -> None:
    """An InputError naming the config keys of the columns the file lacks."""
    missing = {key: col for key, col in wanted.items() if col not in names}
    if missing:
        keys = ", ".join(f"crossmatch.catalogs.{spec.name}.{k}={v!r}" for k, v in missing.items())
        raise InputError(f"{path}: column(s) not found ({keys}); the file has {list(names)}")
