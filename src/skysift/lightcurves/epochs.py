"""The DR epochs of a few candidates, with the run's quality cuts but no minimum number of epochs.

The clean stage drops light curves with fewer than ``clean.min_epochs`` epochs, and a kilonova
fades below the limit within days, so the kilonova list holds objects that results/clean/ does
not. :func:`read_epochs` reads only the wanted objectids from DR-layout parquet files (the fetched
DR files of the manifests, or clean files) and applies the clean stage's epoch cuts
(:func:`skysift.lightcurves.cuts.clean_table`) with ``min_epochs = 1``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from skysift.layout import DR_SCHEMA
from skysift.lightcurves.cuts import CleanConfig, clean_table

__all__ = ["EPOCH_COLUMNS", "read_epochs"]

log = logging.getLogger(__name__)

EPOCH_COLUMNS = ("objectid", "filterid", "hmjd", "mag", "magerr")


def read_epochs(
    dr_files: Iterable[str | Path], objectids: Iterable[int], clean: Mapping | None = None
) -> pd.DataFrame:
    """Long-format epochs (objectid, filterid, hmjd, mag, magerr) of ``objectids`` after the epoch cuts."""
    ids = sorted({int(i) for i in objectids})
    config = dataclasses.replace(CleanConfig.from_config(dict(clean or {})), min_epochs=1)
    frames = []
    if ids:
        for path in dr_files:
            table = pq.read_table(path, filters=[("objectid", "in", ids)])
            if table.num_rows == 0:
                continue
            table = clean_table(table.select(DR_SCHEMA.names).cast(DR_SCHEMA), config)
            if table.num_rows:
                df = table.select(list(EPOCH_COLUMNS)).to_pandas()
                frames.append(df.explode(["hmjd", "mag", "magerr"]))
    if not frames:
        return pd.DataFrame(
            {c: pd.Series(dtype=np.int64 if c in ("objectid", "filterid") else float) for c in EPOCH_COLUMNS}
        )
    epochs = pd.concat(frames, ignore_index=True).dropna(subset=["hmjd"])
    epochs = epochs.astype(
        {"objectid": np.int64, "filterid": np.int64, "hmjd": float, "mag": float, "magerr": float}
    )
    missing = len(ids) - epochs["objectid"].nunique()
    log.info("epochs of %d objectids read (%d without a good epoch)", len(ids) - missing, missing)
    return epochs.reset_index(drop=True)
