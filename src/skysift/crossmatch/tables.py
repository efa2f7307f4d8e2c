"""The cross-match output tables: the nearest-match schema, the all-matches columns, Arrow conversion."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["XMATCH_SCHEMA", "ALL_MATCHES_COLUMNS", "empty_table", "to_arrow"]

#: Nearest match per object and catalog (results/crossmatch/<batch>.parquet), and every match with a label.
XMATCH_SCHEMA = pa.schema(
    [
        pa.field("objectid", pa.int64()),
        pa.field("catalog", pa.string()),
        pa.field("match_name", pa.string()),
        pa.field("match_type", pa.string()),
        pa.field("sep_arcsec", pa.float64()),
        pa.field("match_mag", pa.float64()),
        pa.field("label", pa.string()),
    ]
)

#: Columns of an all-matches table before labelling (what the per-batch XMatch files hold).
ALL_MATCHES_COLUMNS: tuple[str, ...] = (
    "objectid",
    "catalog",
    "match_name",
    "match_type",
    "sep_arcsec",
    "match_mag",
)


def empty_table(columns: Iterable[str] = XMATCH_SCHEMA.names) -> pd.DataFrame:
    """An empty cross-match table with the schema's dtypes."""
    dtypes = {"objectid": np.int64, "sep_arcsec": np.float64, "match_mag": np.float64}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, object)) for c in columns})


def to_arrow(df: pd.DataFrame) -> pa.Table:
    """A cross-match DataFrame as an Arrow table with XMATCH_SCHEMA (missing strings as '')."""
    df = df.reindex(columns=XMATCH_SCHEMA.names)
    for col in ("catalog", "match_name", "match_type", "label"):
        df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
    return pa.Table.from_pandas(df, schema=XMATCH_SCHEMA, preserve_index=False)
