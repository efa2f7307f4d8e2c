"""The demo survey's truth table: one row per objectid with the class and model parameters."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from skysift.io import InputError, atomic_path
from skysift.simulate.models import Params
from skysift.simulate.variants import ALL_CLASSES

__all__ = [
    "TRUTH_COLUMNS",
    "ROW_GROUP_ROWS",
    "check_args",
    "truth_schema",
    "truth_table",
    "TruthRows",
    "per_source",
    "load_truth",
]

log = logging.getLogger(__name__)

#: Columns of truth.parquet, in order, with their pandas dtypes.
_DTYPES: dict[str, str] = {
    "objectid": "int64",
    "source_id": "int64",
    "fieldid": "int16",
    "rcid": "int8",
    "filterid": "int8",
    "ra": "float64",
    "dec": "float64",
    "class": "str",
    "subclass": "str",
    "period": "float64",
    "t0": "float64",
    "amplitude": "float64",
    "mean_mag": "float64",
    "redshift": "float64",
}
#: Columns of truth.parquet, in order.
TRUTH_COLUMNS: tuple[str, ...] = tuple(_DTYPES)

#: Rows per row group of truth.parquet: pyarrow's default maximum, with which it has always been written.
ROW_GROUP_ROWS = 1024 * 1024


@functools.cache
def truth_schema(empty: bool = False) -> pa.Schema:
    """The Arrow schema of truth.parquet, with the pandas metadata of the DataFrame it used to be written from.

    ``empty``: that of a truth table without rows, whose string columns pandas left without a type (null).
    """
    frame = pd.DataFrame(
        {
            name: pd.Series(dtype=object if empty and dtype == "str" else dtype)
            for name, dtype in _DTYPES.items()
        }
    )
    return pa.Schema.from_pandas(frame, preserve_index=False)


def check_args(
    dr: str,
    seed: int,
    n_objects: int,
    fields: list[int],
    ccds: list[int],
    quadrants: list[int],
    n_years: float,
    i_frac: float,
) -> None:
    """Reject arguments that cannot make a valid release, naming the offending config key."""
    import re

    if not re.fullmatch(r"dr\d+", dr):
        raise InputError(f"dr {dr!r}: expected 'dr' followed by digits, e.g. dr24")
    if int(seed) != seed or seed < 0:
        raise InputError(f"demo.seed {seed!r}: must be an integer >= 0")
    if n_objects < 1:
        raise InputError("demo.n_objects must be >= 1")
    if not fields or any(f < 1 or f > 1999 for f in fields) or len(set(fields)) != len(fields):
        raise InputError(f"demo.fields {fields}: need distinct field ids in 1..1999")
    if not ccds or any(c < 1 or c > 16 for c in ccds) or len(set(ccds)) != len(ccds):
        raise InputError(f"demo.ccds {ccds}: need distinct CCD ids in 1..16")
    if not quadrants or any(q < 1 or q > 4 for q in quadrants) or len(set(quadrants)) != len(quadrants):
        raise InputError(f"demo.quadrants {quadrants}: need distinct quadrant ids in 1..4")
    if n_years * 365.25 < 1:
        raise InputError(f"demo.n_years {n_years}: the survey must last at least one night")
    if not 0 <= i_frac <= 1:
        raise InputError("demo.i_band_fraction must be within [0, 1]")


def per_source(cls_of: np.ndarray, pos: np.ndarray, params: dict[int, Params], what: str) -> np.ndarray:
    """One per-source parameter gathered from the class parameter tables."""
    out = np.empty(cls_of.size, dtype=object if what == "subclass" else float)
    for k, p in params.items():
        rows = cls_of == k
        vals = p.mean[:, 1] if what == "mean_r" else getattr(p, what)
        out[rows] = vals[pos[rows]]
    return out


def truth_table(
    oid: np.ndarray,
    src: np.ndarray,
    fieldid: np.ndarray,
    rcid: np.ndarray,
    filterid: np.ndarray,
    band: np.ndarray,
    ra: np.ndarray,
    dec: np.ndarray,
    cls_of: np.ndarray,
    pos: np.ndarray,
    params: dict[int, Params],
) -> pa.Table:
    """Truth rows of object ids ``oid`` of sources ``src`` (per row: field, rcid, filterid, band index).

    Built column by column in Arrow (no DataFrame, no string object per row), as small as the rows are.
    """
    n = src.size
    cols = {k: np.full(n, np.nan) for k in ("period", "t0", "amplitude", "mean_mag", "redshift")}
    sub = np.empty(n, dtype=object)
    for k in np.unique(cls_of[src]):
        sel = cls_of[src] == k
        p = params[int(k)]
        i = pos[src[sel]]
        cols["period"][sel] = p.period[i]
        cols["t0"][sel] = p.t0[i]
        cols["amplitude"][sel] = p.amp[i, band[sel]]
        cols["mean_mag"][sel] = p.mean[i, band[sel]]
        cols["redshift"][sel] = p.redshift[i]
        sub[sel] = p.subclass[i]
    classes = pa.array(ALL_CLASSES, pa.large_string())
    columns = {
        "objectid": oid.astype(np.int64),
        "source_id": src.astype(np.int64),
        "fieldid": fieldid.astype(np.int16),
        "rcid": rcid.astype(np.int8),
        "filterid": filterid.astype(np.int8),
        "ra": ra[src],
        "dec": dec[src],
        "class": classes.take(pa.array(cls_of[src])),
        "subclass": pa.array(sub, pa.large_string()),
        **cols,
    }
    return pa.Table.from_arrays(
        [pa.array(columns[name], from_pandas=True) for name in TRUTH_COLUMNS], schema=truth_schema()
    )


class TruthRows:
    """The truth table while the release is simulated: per row only its object id, source and DR file, so
    that it stays small; :meth:`write` builds the rows one row group at a time."""

    def __init__(self) -> None:
        """No rows yet."""
        self._oid: list[np.ndarray] = []
        self._src: list[np.ndarray] = []
        self._files: list[tuple[int, int, int, int]] = []

    def add(
        self, oid: np.ndarray, src: np.ndarray, fieldid: int, rcid: int, filterid: int, band: int
    ) -> None:
        """The rows of one DR file: object ids ``oid`` of sources ``src``, its field, rcid, filterid and band."""
        self._oid.append(np.asarray(oid, np.int64))
        self._src.append(np.asarray(src, np.int64))
        self._files.append((fieldid, rcid, filterid, band))

    def _sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Object ids, sources and DR-file indices of all rows in objectid order (stable); empties them."""
        sizes = [o.size for o in self._oid]
        oid = np.concatenate([np.zeros(0, np.int64), *self._oid])
        self._oid.clear()
        order = np.argsort(oid, kind="stable")
        oid = oid[order]
        src = np.concatenate([np.zeros(0, np.int64), *self._src])[order]
        self._src.clear()
        return oid, src, np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)[order]

    def write(
        self,
        path: str | Path,
        ra: np.ndarray,
        dec: np.ndarray,
        cls_of: np.ndarray,
        pos: np.ndarray,
        params: dict[int, Params],
        row_group_rows: int = ROW_GROUP_ROWS,
    ) -> Path:
        """Write the rows sorted by objectid (stable) to ``path``, built one row group at a time (once: this
        empties the rows).

        The file is byte-identical to ``write_parquet`` of the whole table with row groups of
        ``row_group_rows`` (pyarrow's default for truth.parquet), without ever holding more rows than that.
        """
        files = np.array(self._files, dtype=np.int64).reshape(-1, 4)
        self._files.clear()
        oid, src, part = self._sorted()
        schema = truth_schema(empty=oid.size == 0)
        with (
            atomic_path(path) as tmp,
            pq.ParquetWriter(tmp, schema, compression="zstd") as out,
        ):
            if oid.size == 0:
                out.write_table(schema.empty_table())
            for lo in range(0, oid.size, row_group_rows):
                rows = slice(lo, lo + row_group_rows)
                fieldid, rcid, filterid, band = files[part[rows]].T
                out.write_table(
                    truth_table(
                        oid[rows], src[rows], fieldid, rcid, filterid, band, ra, dec, cls_of, pos, params
                    )
                )
        return Path(path)


def load_truth(root: str | Path) -> pd.DataFrame:
    """Read a demo release's truth table (one row per objectid; see TRUTH_COLUMNS)."""
    path = Path(root) / "truth.parquet"
    if not path.exists():
        raise InputError(f"{path}: no truth table; simulate the demo release first (skysift simulate)")
    return pd.read_parquet(path)
