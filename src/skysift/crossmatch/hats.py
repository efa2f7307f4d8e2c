"""Backend ``hats``: cross-match a batch's sky sources with a HATS catalog through lsdb.

The batch's positions become a small in-memory lsdb catalog; ``Catalog.crossmatch`` (lsdb's
KD-tree crossmatch, partition by partition) then reads only the HATS partitions that overlap the
batch, and only the id/position/type/magnitude columns. Each source keeps up to
:data:`N_NEIGHBORS` counterparts within the radius (the all-matches table); the caller recomputes
separations with skysift's own formula, so every backend reports identical ``sep_arcsec``.
A catalog with a margin cache is matched across partition edges; without one, sources within
the radius of a partition edge may miss a counterpart on the other side (lsdb warns).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from skysift.crossmatch.base import NAMED_COLUMNS, Backend, empty_matches, strip_strings
from skysift.io import InputError

if TYPE_CHECKING:
    from skysift.crossmatch.spec import CatalogSpec

__all__ = ["BACKEND", "N_NEIGHBORS", "match_hats"]

log = logging.getLogger(__name__)

#: Most counterparts kept per source (ample at arcsecond radii; the nearest is always among them).
N_NEIGHBORS = 16


def match_hats(
    positions: pd.DataFrame, spec: CatalogSpec, *, workers: int = 1, settings: Any = None
) -> pd.DataFrame:
    """Counterparts of positions (key, ra, dec) in the HATS catalog of ``spec``.

    Columns key, match_name, match_type, sep_arcsec, match_mag, match_ra, match_dec, like
    :func:`skysift.crossmatch.local.match_catalog`.
    """
    import dask

    from skysift.sources.hats import import_lsdb, storage_options_for

    lsdb = import_lsdb()
    columns = spec.column_keys()
    empty = empty_matches()
    if len(positions) == 0:
        return empty
    where = f"crossmatch.catalogs.{spec.name}"
    options = storage_options_for(spec.path)
    try:
        # opening reads only metadata; the column check needs every column name, not the default subset
        available = set(lsdb.open_catalog(spec.path, storage_options=options).all_columns)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise InputError(f"{spec.path}: cannot open the HATS catalog ({where}.path): {exc}") from exc
    missing = {k: c for k, c in columns.items() if c not in available}
    if missing:
        keys = ", ".join(f"{where}.{k}={c!r}" for k, c in missing.items())
        raise InputError(f"{spec.path}: column(s) not found ({keys}); the catalog has {sorted(available)}")
    right = lsdb.open_catalog(
        spec.path, columns=list(dict.fromkeys(columns.values())), storage_options=options
    )
    left = lsdb.from_dataframe(
        pd.DataFrame(
            {
                "key": positions["key"].to_numpy(np.int64),
                "ra": positions["ra"].to_numpy(np.float64),
                "dec": positions["dec"].to_numpy(np.float64),
            }
        ),
        ra_column="ra",
        dec_column="dec",
        margin_threshold=None,
    )
    result = left.crossmatch(
        right, radius_arcsec=spec.radius_arcsec, n_neighbors=N_NEIGHBORS, suffixes=("_obj", "_cat")
    )
    with dask.config.set(scheduler="threads", num_workers=max(1, int(workers))):
        df = result.compute()
    if len(df) == 0:
        return empty

    def col(key: str) -> pd.Series:
        return df[f"{columns[key]}_cat"]

    out = pd.DataFrame(
        {
            "key": df["key_obj"].to_numpy(np.int64),
            "match_name": strip_strings(col("id_column")),
            "match_type": strip_strings(col("type_column")),
            "sep_arcsec": df["_dist_arcsec"].to_numpy(np.float64),
            "match_mag": (
                pd.to_numeric(col("mag_column"), errors="coerce").to_numpy(np.float64, na_value=np.nan)
                if spec.mag_column
                else np.full(len(df), np.nan)
            ),
            "match_ra": col("ra_column").to_numpy(np.float64),
            "match_dec": col("dec_column").to_numpy(np.float64),
        }
    )
    out = out.sort_values(["key", "sep_arcsec"], kind="stable").reset_index(drop=True)
    log.info(
        "%s: %d of %d sources matched (HATS catalog %s)",
        spec.name,
        out["key"].nunique(),
        len(positions),
        spec.path,
    )
    return out


BACKEND = Backend(
    name="hats",
    match=match_hats,
    requires={"path": "a hats catalog needs the HATS catalog's directory or URL"},
    columns=NAMED_COLUMNS,
)
