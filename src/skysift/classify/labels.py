"""Training labels from the cross-match table: one best match and label per object.

The cross-match table has one row per object and catalog (objectid, catalog, match_name,
match_type, sep_arcsec, label). An object's best row is chosen by, in order: having a
non-empty label, the catalog's position in ``priority`` (catalogs not listed come after,
alphabetically), the smallest separation, and the catalog name — so the choice is
deterministic and the label used for training is the label shown in candidate tables.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skysift.io import InputError

__all__ = [
    "DEFAULT_PRIORITY",
    "XMATCH_COLUMNS",
    "best_crossmatch",
    "labels_from_crossmatch",
    "labels_from_truth",
    "labels_from_table",
    "read_label_table",
    "training_labels",
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


def read_label_table(path: str | Path) -> pd.DataFrame:
    """Read a user label table: parquet, CSV, or anything astropy reads (ECSV, FITS, VOTable)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: label table not found; set classify.label_table.path")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix == ".csv":
            return pd.read_csv(path)
        from astropy.table import Table

        return Table.read(path).to_pandas()
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{path}: cannot read the label table (parquet, CSV, ECSV, FITS, VOTable): {exc}"
        ) from exc


def labels_from_table(
    table: pd.DataFrame | str | Path,
    *,
    id_column: str = "objectid",
    label_column: str = "label",
    taxonomy: str | None = None,
    taxonomy_path: str | Path | None = None,
) -> pd.Series:
    """Labels (objectid -> class) from a user table with an objectid column and a label column.

    ``taxonomy`` names a catalog section of the taxonomy file (simbad, vsx, tns) when the labels
    are catalog types: they are mapped to classifier classes with the cross-match's rules
    (:func:`skysift.crossmatch.map_type`), and types that map to no class are left out (counted).
    Empty labels are left out; one objectid with two different labels is an error.
    """
    source = str(table) if not isinstance(table, pd.DataFrame) else "label table"
    df = table if isinstance(table, pd.DataFrame) else read_label_table(table)
    missing = [c for c in (id_column, label_column) if c not in df.columns]
    if missing:
        raise InputError(
            f"{source}: no column(s) {missing} (columns: {list(df.columns)}); "
            "set classify.label_table.id_column / label_column"
        )
    ids = pd.to_numeric(df[id_column], errors="coerce")
    bad = ids.isna() | (ids % 1 != 0)
    if bad.any():
        example = df.loc[bad, id_column].iloc[0]
        raise InputError(
            f"{source}: column {id_column!r} has {int(bad.sum())} value(s) that are not integer ZTF objectids, "
            f"e.g. {example!r}"
        )
    labels = clean_labels(df[label_column])
    if taxonomy is not None:
        from skysift.crossmatch import load_taxonomy, map_type

        sections = load_taxonomy(taxonomy_path)
        if taxonomy not in sections:
            raise InputError(
                f"classify.label_table.taxonomy = {taxonomy!r} is not a catalog of the taxonomy file "
                f"({sorted(sections)})"
            )
        mapping = sections[taxonomy]
        mapped = labels.map(lambda v: map_type(v, mapping) if pd.notna(v) else "")
        unmapped = labels.notna() & (mapped == "")
        if unmapped.any():
            logger.warning(
                "%s: %d label(s) of column %r map to no class in the %s taxonomy and are left out: %s",
                source,
                int(unmapped.sum()),
                label_column,
                taxonomy,
                labels[unmapped].value_counts().head(10).to_dict(),
            )
        labels = clean_labels(mapped)
    out = pd.DataFrame({"objectid": ids.astype("Int64"), "label": labels}).dropna()
    n_empty = len(df) - len(out)
    out = out.drop_duplicates()
    conflict = out["objectid"].duplicated(keep=False)
    if conflict.any():
        examples = out[conflict].head(4).to_dict(orient="records")
        raise InputError(
            f"{source}: objectid(s) with different labels in column {label_column!r}, e.g. {examples}"
        )
    result = pd.Series(
        out["label"].astype(str).to_numpy(), index=out["objectid"].to_numpy(np.int64), name="label"
    )
    result.index.name = "objectid"
    logger.info(
        "labels from %s: %d objects (%d rows without a usable label) %s",
        source,
        len(result),
        n_empty,
        {k: int(v) for k, v in result.value_counts().sort_index().items()},
    )
    return result


def training_labels(inputs: Any, label_table: Mapping[str, Any] | None = None) -> pd.Series:
    """Labels for a workflow rule from its inputs: ``truth`` (demo), ``table`` (user) or ``crossmatch``.

    ``inputs`` is a Snakemake input Namedlist (or an object with those attributes) made by
    ``label_inputs`` in workflow/rules/common.smk; ``label_table`` is ``classify.label_table``.
    """
    from skysift.io import read_tables

    if hasattr(inputs, "truth"):  # a Namedlist: `in` would test values
        return labels_from_truth(read_tables([inputs.truth]))
    if hasattr(inputs, "label_table"):
        spec = dict(label_table or {})
        return labels_from_table(
            inputs.label_table,
            id_column=spec.get("id_column", "objectid"),
            label_column=spec.get("label_column", "label"),
            taxonomy=spec.get("taxonomy"),
        )
    return labels_from_crossmatch(read_tables(inputs.crossmatch))
