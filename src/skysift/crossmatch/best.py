"""The best cross-match of every object: one row (and label) per objectid over all catalogs.

The cross-match table has one row per object and catalog (objectid, catalog, match_name,
match_type, sep_arcsec, label). An object's best row is chosen by, in order: having a
non-empty label, the catalog's position in ``priority`` (catalogs not listed come after,
alphabetically), the smallest separation, and the catalog name — so the choice is
deterministic, and the label a classifier is trained on (:mod:`skysift.classify.labels`) is
the counterpart shown in candidate tables (:mod:`skysift.candidates`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from skysift.io import InputError

__all__ = ["DEFAULT_PRIORITY", "XMATCH_COLUMNS", "best_crossmatch", "clean_labels"]

#: Catalog priority: a spectroscopic TNS class beats a VSX variable type beats a SIMBAD type.
DEFAULT_PRIORITY: tuple[str, ...] = ("tns", "vsx", "simbad")

#: Columns of the cross-match table.
XMATCH_COLUMNS: tuple[str, ...] = ("objectid", "catalog", "match_name", "match_type", "sep_arcsec", "label")


def clean_labels(labels: pd.Series) -> pd.Series:
    """Labels as stripped strings, with null/empty/'nan' entries set to NA."""
    out = labels.astype("string").str.strip()
    out = out.mask(out.isna() | (out == "") | (out.str.lower().isin(["nan", "none"])))
    return out


def best_crossmatch(xmatch_df: pd.DataFrame, priority: Sequence[str] = DEFAULT_PRIORITY) -> pd.DataFrame:
    """One cross-match row per objectid (labelled first, then catalog priority, then separation)."""
    missing = [c for c in XMATCH_COLUMNS if c not in xmatch_df.columns]
    if missing:
        raise InputError(f"cross-match table lacks column(s) {missing}; expected {list(XMATCH_COLUMNS)}")
    if len(xmatch_df) == 0:
        return xmatch_df.loc[:, list(XMATCH_COLUMNS)].set_index("objectid")
    df = xmatch_df.loc[:, list(XMATCH_COLUMNS)].copy()
    df["label"] = clean_labels(df["label"])
    catalog = df["catalog"].astype("string").str.strip().str.lower()
    order = {name.lower(): i for i, name in enumerate(priority)}
    df["_unlabelled"] = df["label"].isna().to_numpy().astype(np.int8)
    df["_prio"] = catalog.map(order).fillna(len(order)).astype(np.int64).to_numpy()
    df["_catalog"] = catalog.fillna("")
    df["_sep"] = pd.to_numeric(df["sep_arcsec"], errors="coerce").fillna(np.inf)
    df = df.sort_values(["objectid", "_unlabelled", "_prio", "_catalog", "_sep"], kind="mergesort")
    best = df.drop_duplicates("objectid", keep="first")
    return best.drop(columns=["_unlabelled", "_prio", "_catalog", "_sep"]).set_index("objectid")
