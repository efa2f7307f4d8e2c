"""Training labels from the cross-match table: one best match and label per object.

The cross-match table has one row per object and catalog (objectid, catalog, match_name,
match_type, sep_arcsec, label). An object's best row is chosen by, in order: having a
non-empty label, the catalog's position in ``priority`` (catalogs not listed come after,
alphabetically), the smallest separation, and the catalog name — so the choice is
deterministic and the label used for training is the label shown in candidate tables.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from skysift.io import InputError

__all__ = [
    "DEFAULT_PRIORITY",
    "XMATCH_COLUMNS",
    "best_crossmatch",
    "labels_from_crossmatch",
    "labels_from_truth",
    "clean_labels",
]

logger = logging.getLogger(__name__)

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


def labels_from_crossmatch(xmatch_df: pd.DataFrame, priority: Sequence[str] = DEFAULT_PRIORITY) -> pd.Series:
    """Best classifier label per objectid (Series objectid -> label), unlabelled objects left out."""
    best = best_crossmatch(xmatch_df, priority)
    labels = best["label"].dropna() if len(best) else pd.Series([], dtype="string")
    labels = labels.astype(str)
    labels.index.name = "objectid"
    labels.name = "label"
    logger.info(
        "labels from cross-match: %d of %d matched objects labelled (%s)",
        len(labels),
        len(best),
        {k: int(v) for k, v in labels.value_counts().sort_index().items()},
    )
    return labels


def labels_from_truth(truth_df: pd.DataFrame) -> pd.Series:
    """Labels from the demo survey's truth table (objectid, class): every object labelled, for evaluation."""
    missing = [c for c in ("objectid", "class") if c not in truth_df.columns]
    if missing:
        raise InputError(f"truth table lacks column(s) {missing}; expected the demo survey's truth.parquet")
    labels = pd.Series(
        truth_df["class"].astype(str).to_numpy(), index=truth_df["objectid"].to_numpy(np.int64), name="label"
    )
    labels.index.name = "objectid"
    logger.info("labels from truth: %d objects", len(labels))
    return labels
