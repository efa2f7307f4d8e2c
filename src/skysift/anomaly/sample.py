"""The fit sample: a reproducible, batch-stratified sample of a release's feature rows.

``anomaly.fit_sample`` rows are shared among the batches in proportion to their rows (largest
remainders, ties to the earlier batch), and each batch draws its share without replacement from a
generator seeded with ``(anomaly.random_state, crc32(batch name))``: the same config gives the same
sample, and a batch's draw does not depend on the other batches' names. A release with at most
``fit_sample`` rows is taken whole. The rows of every source with an expert label are added (active
methods fit them). Rows keep the order of the batch files and of the rows in them, so a sample of
every row is exactly the table an in-memory search reads.

Batches are read one at a time: the memory of the fit is that of the sample plus one batch, whatever
the number of batches.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from skysift.anomaly.settings import SpaceSettings
from skysift.anomaly.space import source_ids
from skysift.features.table import as_features_frame
from skysift.io import InputError
from skysift.sampling import batch_name_of, sample_rows, sample_sizes

__all__ = ["sample_sizes", "sample_rows", "read_fit_sample", "batch_name_of"]

logger = logging.getLogger(__name__)


def read_fit_sample(
    paths: Sequence[str | Path],
    settings: SpaceSettings,
    *,
    fit_sample: int,
    seed: int,
    labelled: np.ndarray | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Read the fit sample of per-batch feature tables, one batch at a time.

    Parameters
    ----------
    paths
        Feature parquet files, one per batch, in the release's batch order.
    settings
        The space settings (sources are associated per batch as a search would).
    fit_sample
        ``anomaly.fit_sample``.
    seed
        ``anomaly.random_state``.
    labelled
        Objectids with an expert label: every row of their sources joins the sample.

    Returns
    -------
    tuple
        The sample (feature rows with a ``source_id`` column, in file order) and what it was drawn
        from (per batch: name, rows, sampled rows, labelled rows added).
    """
    if not paths:
        raise InputError("no feature files given; check the features stage outputs")
    counts = [pq.ParquetFile(p).metadata.num_rows for p in paths]
    sizes = sample_sizes(counts, fit_sample)
    labelled = np.asarray([] if labelled is None else labelled, dtype=np.int64)
    frames, batches, columns = [], [], None
    for path, n_rows, size in zip(paths, counts, sizes, strict=True):
        name = batch_name_of(path)
        df = as_features_frame(path).reset_index(drop=True)
        if columns is None:
            columns = list(df.columns)
        elif list(df.columns) != columns:
            raise InputError(
                f"{path}: columns differ from the first batch's ({sorted(set(df.columns) ^ set(columns))}); "
                "extract every batch's features with the same settings"
            )
        take = np.zeros(len(df), dtype=bool)
        take[sample_rows(name, len(df), size, seed)] = True
        sources = source_ids(df, settings)
        added = 0
        if len(labelled):
            with_label = np.isin(sources, sources[np.isin(df["objectid"].to_numpy(np.int64), labelled)])
            added = int((with_label & ~take).sum())
            take |= with_label
        part = df.loc[take].drop(columns=["source_id"], errors="ignore")
        part.insert(len(part.columns), "source_id", sources[take])
        frames.append(part)
        batches.append({"batch": name, "rows": int(n_rows), "sampled": int(size), "labelled_added": added})
    sample = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    meta = {
        "fit_sample": int(fit_sample),
        "random_state": int(seed),
        "release_rows": int(sum(counts)),
        "sample_rows": len(sample),
        "every_row": bool(sum(counts) <= fit_sample),
        "batches": batches,
    }
    logger.info(
        "fit sample: %d of %d rows from %d batch(es)%s", len(sample), meta["release_rows"], len(paths),
        " (every row)" if meta["every_row"] else "",
    )  # fmt: skip
    return sample, meta
