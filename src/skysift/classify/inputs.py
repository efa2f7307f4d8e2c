"""The labelled rows the classifier trains on, read from per-batch feature tables with parquet filters.

Training reads only the labelled objects' rows (per band) or, for ``classify.unit: source``, every
member row of the labelled sources, so it never holds the release in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from skysift.features.per_source import require_source_id, source_labels, source_members, source_table
from skysift.io import PathLike

__all__ = ["read_labelled_features", "read_labelled_sources"]

logger = logging.getLogger(__name__)


def read_labelled_features(features: Sequence[PathLike], objectids: Sequence[int]) -> pd.DataFrame:
    """The rows of ``objectids`` from per-batch feature tables, read with a parquet filter (row groups
    and rows of other objects are skipped), so training never holds the release in memory."""
    ids = pa.array(np.unique(np.asarray(objectids, dtype=np.int64)), type=pa.int64())
    tables = [pq.read_table(path, filters=pc.field("objectid").isin(ids)) for path in features]
    if not tables:
        return pd.DataFrame({"objectid": np.empty(0, dtype=np.int64)})
    table = pa.concat_tables(tables, promote_options="default").to_pandas()
    logger.info("read %d labelled objects' features from %d batch file(s)", len(table), len(tables))
    return table


def read_labelled_sources(
    features: Sequence[PathLike], labelled_rows: pd.DataFrame, labels: pd.Series
) -> tuple[pd.DataFrame, pd.Series]:
    """Per-source rows (:func:`~skysift.features.per_source.source_table`) of every source with a
    labelled member, and their labels (source_id -> class). The sources' other members are read with
    a parquet filter on ``source_id``, so only labelled sources' rows are ever in memory."""
    if not len(labelled_rows):
        return labelled_rows, pd.Series(dtype=object)
    require_source_id(labelled_rows, "classify.unit: source")
    ids = pa.array(np.unique(labelled_rows["source_id"].to_numpy(np.int64)), type=pa.int64())
    tables = [pq.read_table(path, filters=pc.field("source_id").isin(ids)) for path in features]
    rows = pa.concat_tables(tables, promote_options="default").to_pandas()
    table = source_table(rows)
    source_label = source_labels(labels, source_members(rows))
    logger.info("%d labelled objects -> %d labelled sources", len(labelled_rows), len(source_label))
    return table, source_label
