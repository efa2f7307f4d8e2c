"""The global top-K: a streaming merge of the per-batch scores tables' heads.

Every per-batch table (:mod:`skysift.anomaly.batch`) is in rank order, and its sort keys (source
score and tail excess against the fit sample, band percentile, known-regular flag, objectid) are
comparable across batches. The merge keeps the K best rows seen so far and reads each batch in
chunks, stopping at the first chunk that brings nothing into the top-K: memory is K rows plus one
chunk, whatever the number of batches, and a batch far below the top costs one chunk's read.

The top-K table has the columns of a ranked list (:data:`~skysift.anomaly.ranking.RANKED_COLUMNS`)
with ``anomaly_rank`` = 1..K, the global rank. With K >= the number of rows it is every row, in the
order an in-memory search over all rows gives (its ``rank_order`` is the same total order).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from skysift.anomaly.batch import BATCH_COLUMNS
from skysift.anomaly.ranking import RANKED_COLUMNS, rank_order
from skysift.io import InputError

__all__ = ["merge_top_k", "CHUNK_ROWS"]

logger = logging.getLogger(__name__)

#: Rows read from a batch table at a time.
CHUNK_ROWS = 8192


def _chunks(path: str | Path, limit: int) -> Iterator[pd.DataFrame]:
    """The first ``limit`` rows of a per-batch table, chunk by chunk."""
    pf = pq.ParquetFile(path)
    missing = [c for c in BATCH_COLUMNS if c not in pf.schema_arrow.names]
    if missing:
        raise InputError(
            f"{path}: not a per-batch anomaly scores table (no column(s) {missing}); rerun score_anomalies"
        )
    seen = 0
    for batch in pf.iter_batches(batch_size=min(CHUNK_ROWS, max(limit, 1)), columns=list(BATCH_COLUMNS)):
        frame = batch.to_pandas()
        if seen + len(frame) > limit:
            frame = frame.iloc[: limit - seen]
        seen += len(frame)
        yield frame
        if seen >= limit:
            return


def _best(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """The ``k`` first rows of ``frame`` in rank order."""
    order = rank_order(
        frame["objectid"].to_numpy(np.int64),
        frame["band_percentile"].to_numpy(np.float64),
        frame["anomaly_score"].to_numpy(np.float64),
        frame["source_regular"].to_numpy(bool),
        frame["source_excess"].to_numpy(np.float64),
    )
    return frame.iloc[order[:k]].reset_index(drop=True)


def merge_top_k(paths: Sequence[str | Path], k: int) -> pd.DataFrame:
    """The ``k`` best rows of the per-batch tables ``paths`` (module docstring), ``anomaly_rank`` 1..n."""
    if k < 1:
        raise ValueError(f"anomaly.top_k must be >= 1, got {k}")
    top: pd.DataFrame | None = None
    read = 0
    for path in paths:
        for chunk in _chunks(path, k):
            read += len(chunk)
            last = int(chunk["objectid"].iloc[-1]) if len(chunk) else None
            top = _best(chunk if top is None else pd.concat([top, chunk], ignore_index=True), k)
            if last is None or (len(top) == k and not (top["objectid"].to_numpy() == last).any()):
                break  # this chunk's worst row did not make it: the batch's later rows cannot
    if top is None:
        raise InputError("no per-batch anomaly scores given; check the score_anomalies outputs")
    top = top.rename(columns={"batch_rank": "anomaly_rank"})
    top["anomaly_rank"] = np.arange(1, len(top) + 1, dtype=np.int64)
    logger.info("top-%d of %d batch(es): %d rows (read %d)", k, len(paths), len(top), read)
    return top.loc[:, list(RANKED_COLUMNS)]
