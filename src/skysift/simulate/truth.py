"""The demo survey's truth table: one row per objectid with the class and model parameters."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from skysift.io import InputError
from skysift.simulate.models import Params
from skysift.simulate.variants import ALL_CLASSES

__all__ = ["TRUTH_COLUMNS", "check_args", "truth_rows", "per_source", "empty_truth", "load_truth"]

log = logging.getLogger(__name__)

#: Columns of truth.parquet, in order.
TRUTH_COLUMNS: tuple[str, ...] = (
    "objectid",
    "source_id",
    "fieldid",
    "rcid",
    "filterid",
    "ra",
    "dec",
    "class",
    "subclass",
    "period",
    "t0",
    "amplitude",
    "mean_mag",
    "redshift",
)


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


def truth_rows(
    oid: np.ndarray,
    src: np.ndarray,
    fieldid: int,
    rcid: int,
    filterid: int,
    b: int,
    ra: np.ndarray,
    dec: np.ndarray,
    cls_of: np.ndarray,
    pos: np.ndarray,
    params: dict[int, Params],
) -> pd.DataFrame:
    """Truth rows of one DR file's object ids."""
    n = src.size
    cols = {k: np.full(n, np.nan) for k in ("period", "t0", "amplitude", "mean_mag", "redshift")}
    sub = np.empty(n, dtype=object)
    for k in np.unique(cls_of[src]):
        sel = cls_of[src] == k
        p = params[int(k)]
        i = pos[src[sel]]
        cols["period"][sel] = p.period[i]
        cols["t0"][sel] = p.t0[i]
        cols["amplitude"][sel] = p.amp[i, b]
        cols["mean_mag"][sel] = p.mean[i, b]
        cols["redshift"][sel] = p.redshift[i]
        sub[sel] = p.subclass[i]
    return pd.DataFrame(
        {
            "objectid": oid.astype(np.int64),
            "source_id": src.astype(np.int64),
            "fieldid": np.full(n, fieldid, np.int16),
            "rcid": np.full(n, rcid, np.int8),
            "filterid": np.full(n, filterid, np.int8),
            "ra": ra[src],
            "dec": dec[src],
            "class": np.array(ALL_CLASSES, dtype=object)[cls_of[src]],
            "subclass": sub,
            **cols,
        }
    )


def empty_truth() -> pd.DataFrame:
    """A truth table with no rows and the right dtypes."""
    return truth_rows(
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        1,
        0,
        1,
        0,
        np.zeros(0),
        np.zeros(0),
        np.zeros(0, int),
        np.zeros(0, int),
        {},
    )


def load_truth(root: str | Path) -> pd.DataFrame:
    """Read a demo release's truth table (one row per objectid; see TRUTH_COLUMNS)."""
    path = Path(root) / "truth.parquet"
    if not path.exists():
        raise InputError(f"{path}: no truth table; simulate the demo release first (skysift simulate)")
    return pd.read_parquet(path)
