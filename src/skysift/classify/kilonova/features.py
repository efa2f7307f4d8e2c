"""Kilonova features of a run's light curves: the DR files read with the run's cuts, sources associated."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from skysift.classify.early_snia import BANDS, ZERO_POINT
from skysift.classify.kilonova.basis import PCABasis, project
from skysift.io import InputError
from skysift.layout import DR_SCHEMA, read_dr_files
from skysift.lightcurves import CleanConfig, clean_table, read_manifest
from skysift.sky import associate_sources

__all__ = ["read_run_lightcurves", "run_features"]

logger = logging.getLogger(__name__)


def read_run_lightcurves(
    manifests: Sequence[str | Path], clean: CleanConfig, min_epochs: int = 1
) -> pa.Table:
    """The run's DR light curves with its quality cuts (``clean``) but at least ``min_epochs`` epochs.

    The clean stage keeps light curves with >= clean.min_epochs epochs (10 by default); a kilonova
    fades below the limit in days, so its light curves are read again from the fetched DR files.
    """
    config = dataclasses.replace(clean, min_epochs=min_epochs)
    tables = []
    for manifest in manifests:
        listing = pd.read_csv(manifest, sep="\t")
        paths = read_manifest(manifest)
        if "filterid" in listing.columns:  # g and r only: the i band is not used
            paths = [p for p, f in zip(paths, listing["filterid"], strict=True) if int(f) in BANDS]
        if paths:
            tables.append(clean_table(read_dr_files(paths), config))
    if not manifests:
        raise InputError("no fetch manifests given for the kilonova classifier")
    # a batch without g or r files (an i-band-only field) has no light curves, and no sources
    table = pa.concat_tables(tables) if tables else DR_SCHEMA.empty_table()
    logger.info("kilonova classifier: %d light curves with >= %d good epochs", table.num_rows, min_epochs)
    return table


def run_features(
    lightcurves: pa.Table, basis: PCABasis, *, min_points: int = 2, radius_arcsec: float = 1.0
) -> pd.DataFrame:
    """Features of every sky source of DR light curves (g/r objectids associated by position).

    Returns source_id, objectid_g, objectid_r, objectid (r if present, else g), ra, dec and
    the :func:`feature_names` columns.
    """
    needed = ("objectid", "filterid", "fieldid", "objra", "objdec", "hmjd", "mag")
    missing = [c for c in needed if c not in lightcurves.column_names]
    if missing:
        raise InputError(f"light-curve table lacks column(s) {missing}; expected DR light curves")
    table = lightcurves.filter(
        pc.is_in(lightcurves["filterid"], pa.array(list(BANDS), lightcurves["filterid"].type))
    )
    objects = table.select(["objectid", "filterid", "fieldid", "objra", "objdec"]).to_pandas()
    objects = objects.rename(columns={"objra": "ra", "objdec": "dec"})
    objects = associate_sources(objects, radius_arcsec)
    lengths = pc.list_value_length(table["hmjd"]).to_numpy(zero_copy_only=False).astype(np.int64)
    epochs = pd.DataFrame(
        {
            "hmjd": pc.list_flatten(table["hmjd"]).to_numpy(zero_copy_only=False).astype(float),
            "mag": pc.list_flatten(table["mag"]).to_numpy(zero_copy_only=False).astype(float),
        }
    )
    lc = np.repeat(np.arange(len(objects)), lengths)
    flux = 10 ** (-0.4 * (epochs["mag"].to_numpy() - ZERO_POINT))
    per_lc = project(basis, lc, epochs["hmjd"].to_numpy(), flux, len(objects), min_points)
    per_lc["objectid"] = objects["objectid"].to_numpy(np.int64)
    merged = objects.merge(per_lc, on="objectid", how="inner")
    merged = merged.sort_values(
        ["source_id", "filterid", "npoints", "objectid"], ascending=[True, True, False, True]
    )
    merged = merged.drop_duplicates(["source_id", "filterid"], keep="first")
    out = pd.DataFrame({"source_id": np.unique(merged["source_id"].to_numpy(np.int64))})
    names = [c for c in per_lc.columns if c != "objectid"]
    for filterid, band in BANDS.items():
        part = merged[merged["filterid"] == filterid].set_index("source_id").reindex(out["source_id"])
        out[f"objectid_{band}"] = part["objectid"].astype("Int64").array
        for name in names:
            values = part[name].to_numpy(float)
            out[f"{name}_{band}"] = np.nan_to_num(values, nan=0.0) if name == "npoints" else values
    pos = merged.groupby("source_id")[["ra", "dec"]].mean().reindex(out["source_id"])
    out["objectid"] = out["objectid_r"].fillna(out["objectid_g"]).astype(np.int64)
    out["filterid"] = np.where(out["objectid_r"].notna(), 2, 1).astype(np.int8)
    fields = objects.drop_duplicates("objectid").set_index("objectid")["fieldid"]
    out["fieldid"] = fields.reindex(out["objectid"]).to_numpy()
    out["ra"] = pos["ra"].to_numpy(float)
    out["dec"] = pos["dec"].to_numpy(float)
    logger.info("kilonova features of %d sources (%d light curves)", len(out), len(objects))
    return out
