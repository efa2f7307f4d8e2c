"""Training labels: from the cross-match (best match per object), the demo's truth, or a user table.

Cross-match labels are the labels of :func:`skysift.crossmatch.best.best_crossmatch`, so the label
used for training is the counterpart shown in candidate tables. :class:`LabelSource` says which
of the three a workflow rule was given and reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skysift.classify.settings import LabelTableSettings
from skysift.crossmatch.best import DEFAULT_PRIORITY, best_crossmatch, clean_labels
from skysift.io import InputError, read_tables

__all__ = [
    "LabelSource",
    "cap_labels",
    "labels_from_crossmatch",
    "labels_from_truth",
    "labels_from_table",
    "read_label_table",
]

logger = logging.getLogger(__name__)


def cap_labels(labels: pd.Series, max_rows: int | None, *, seed: int) -> pd.Series:
    """At most ``max_rows`` of ``labels`` (objectid -> class; unlabelled entries dropped), chosen before
    any feature row is read, so a training job's memory does not grow with the release's labels.

    The cap is shared out class by class, smallest first: a class below its fair share keeps every
    label, and the largest classes are cut to a common size by a seeded draw. Rare classes, whose
    labels are the precious ones, are never thinned. ``max_rows`` None, or more than the labels,
    keeps every label.
    """
    labels = labels[labels.notna()]
    if max_rows is None or len(labels) <= max_rows:
        return labels
    rng = np.random.default_rng(seed)
    counts = labels.value_counts().sort_index(kind="stable").sort_values(kind="stable")
    remaining, chosen = max_rows, []
    for i, (label, count) in enumerate(counts.items()):
        take = min(int(count), remaining // (len(counts) - i))
        remaining -= take
        members = np.sort(labels.index[labels == label].to_numpy())
        chosen.append(rng.choice(members, size=take, replace=False))
    keep = labels.index.isin(np.concatenate(chosen))
    logger.info(
        "%d labels capped to %d (max_train_rows; per class: %s)",
        len(labels), int(keep.sum()), labels[keep].value_counts().sort_index().to_dict(),
    )  # fmt: skip
    return labels[keep]


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


@dataclass(frozen=True)
class LabelSource:
    """Where a supervised stage's labels come from: the demo ``truth`` table, a user label ``table``
    (read with ``table_settings``) or the ``crossmatch`` tables, in that order of precedence."""

    truth: str | Path | None = None
    table: str | Path | None = None
    table_settings: LabelTableSettings | None = None
    crossmatch: Sequence[str | Path] = ()

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, Any], label_table: Mapping[str, Any] | None) -> LabelSource:
        """From a workflow rule's named inputs (``truth``, ``label_table`` or ``crossmatch``: see
        ``label_inputs`` in workflow/rules/common.smk) and the ``classify.label_table`` section."""
        return cls(
            truth=inputs.get("truth"),
            table=inputs.get("label_table"),
            table_settings=LabelTableSettings.from_config(label_table) if label_table else None,
            crossmatch=list(inputs.get("crossmatch") or ()),
        )

    def read(self) -> pd.Series:
        """The labels (Series objectid -> class)."""
        if self.truth is not None:
            return labels_from_truth(read_tables([self.truth]))
        if self.table is not None:
            if self.table_settings is None:
                raise InputError(f"{self.table}: a label table needs classify.label_table (its columns)")
            return labels_from_table(
                self.table,
                id_column=self.table_settings.id_column,
                label_column=self.table_settings.label_column,
                taxonomy=self.table_settings.taxonomy,
            )
        if not self.crossmatch:
            raise InputError("no labels given: set classify.labels (crossmatch, truth or table)")
        return labels_from_crossmatch(read_tables(self.crossmatch))
