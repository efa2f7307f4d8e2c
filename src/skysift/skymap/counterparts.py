"""Counterpart search: candidates inside a sky map's credible region and a time window after the event.

:func:`search_counterparts` takes the candidate lists (astropy Tables from
:mod:`skysift.candidates`), merges them into one row per objectid (``lists`` names every list an
object is in), looks each position up in the map (probability density, credible level, distance
ansatz) and times it with its DR light curve (the run's epoch cuts, no minimum number of epochs:
see :mod:`skysift.lightcurves.epochs`): the **candidate time is the first DR epoch at or after the event time** (``first_mjd``; the DR holds detections only, so this is the first
detection after the event), the peak is the brightest epoch inside the window. A candidate is kept
when its credible level is within ``credible_level`` and it has at least one epoch inside
``[event + window_days[0], event + window_days[1]]``; drops are counted and logged. Rows are ranked
by credible level (most probable first), then by probability density.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.table import Table

from skysift.io import InputError
from skysift.lightcurves import read_epochs
from skysift.skymap.maps import SkyMap

__all__ = ["COUNTERPART_COLUMNS", "epoch_summary", "merge_lists", "search_counterparts"]

log = logging.getLogger(__name__)

#: Columns this search adds: name -> (unit, description).
COUNTERPART_COLUMNS: dict[str, tuple[u.UnitBase | None, str]] = {
    "skymap_rank": (None, "Rank in this sky map (1 = lowest credible level, i.e. most probable position)"),
    "credible_level": (
        None,
        "Smallest credible region of the sky map containing the position (searched probability)",
    ),
    "prob_density": (u.sr**-1, "Sky-map probability density at the position"),
    "distmu": (u.Mpc, "Distance ansatz location parameter DISTMU at the position (NaN: map has no distance)"),
    "distsigma": (u.Mpc, "Distance ansatz scale parameter DISTSIGMA at the position"),
    "distnorm": (u.Mpc**-2, "Distance ansatz normalisation DISTNORM at the position"),
    "first_mjd": (u.day, "First DR epoch at or after the event time (HMJD): the candidate time"),
    "dt_first": (u.day, "first_mjd minus the event time (MJD)"),
    "peak_mjd": (u.day, "HMJD of the brightest epoch inside the time window"),
    "peak_mag": (u.mag, "Brightest magnitude inside the time window (ZTF PSF mag)"),
    "n_window": (None, "Number of clean DR epochs inside the time window"),
    "n_before": (None, "Number of clean DR epochs before the event (a counterpart should have none)"),
    "lists": (None, "Candidate lists the object is in (comma-separated)"),
}

#: Columns copied from the candidate lists when present.
KEEP = (
    "objectid",
    "dr",
    "band",
    "filterid",
    "fieldid",
    "ra",
    "dec",
    "predicted_class",
    "max_probability",
    "anomaly_score",
    "rank",
    "xmatch_name",
    "xmatch_type",
    "xmatch_catalog",
    "xmatch_label",
    "snad_url",
)


def merge_lists(tables: Mapping[str, Table]) -> pd.DataFrame:
    """One row per objectid over the candidate lists, with ``lists`` naming all lists of the object.

    Each column takes the first known value over the lists, in the order given.
    """
    frames = []
    for name, table in tables.items():
        missing = [c for c in ("objectid", "ra", "dec") if c not in table.colnames]
        if missing:
            raise InputError(f"candidate list {name}: lacks column(s) {missing}")
        cols = [c for c in KEEP if c in table.colnames]
        df = table[cols].to_pandas()
        df["lists"] = name
        frames.append(df)
    if not frames:
        return pd.DataFrame({c: [] for c in ("objectid", "ra", "dec", "lists")})
    df = pd.concat(frames, ignore_index=True)
    grouped = df.groupby("objectid", sort=False)
    names = grouped["lists"].agg(",".join)
    # per column the first list's value that is known (the kilonova list lacks e.g. the anomaly rank)
    df = grouped.first()
    df["lists"] = names
    return df.reset_index()


def epoch_summary(epochs: pd.DataFrame, event_mjd: float, window_days: tuple[float, float]) -> pd.DataFrame:
    """Per objectid: first epoch after the event, epochs in the window, peak in the window, epochs before."""
    lo, hi = event_mjd + window_days[0], event_mjd + window_days[1]
    after = epochs[epochs["hmjd"] >= event_mjd]
    window = epochs[(epochs["hmjd"] >= lo) & (epochs["hmjd"] <= hi)]
    out = pd.DataFrame({"objectid": np.unique(epochs["objectid"]).astype(np.int64)}).set_index("objectid")
    out["first_mjd"] = after.groupby("objectid")["hmjd"].min()
    peak = window.loc[window.groupby("objectid")["mag"].idxmin()] if len(window) else window
    out["peak_mjd"] = peak.set_index("objectid")["hmjd"]
    out["peak_mag"] = peak.set_index("objectid")["mag"]
    out["n_window"] = window.groupby("objectid").size()
    out["n_before"] = epochs[epochs["hmjd"] < event_mjd].groupby("objectid").size()
    out[["n_window", "n_before"]] = out[["n_window", "n_before"]].fillna(0).astype(np.int64)
    return out.reset_index()


def search_counterparts(
    sky: SkyMap,
    tables: Mapping[str, Table],
    dr_files: Iterable[str | Path],
    *,
    clean: Mapping | None = None,
    credible_level: float = 0.9,
    window_days: tuple[float, float] = (0.0, 14.0),
    event_mjd: float | None = None,
) -> Table:
    """The candidates inside the ``credible_level`` region and the time window, ranked (see module doc).

    ``dr_files`` are DR-layout parquet files holding the candidates' light curves (the fetched DR
    files, or clean files); ``clean`` is the clean config whose epoch cuts apply (see
    :mod:`skysift.lightcurves.epochs`).
    """
    if not 0 < credible_level <= 1:
        raise InputError(f"skymap.credible_level must be in (0, 1], got {credible_level}")
    if window_days[1] < window_days[0]:
        raise InputError(f"skymap.window_days {list(window_days)}: the end is before the start")
    event = sky.event_mjd if event_mjd is None else event_mjd
    if event is None:
        raise InputError(f"sky map {sky.name}: no MJD-OBS/DATE-OBS in the header; set skymap.event_mjd")
    df = merge_lists(tables)
    n_all = len(df)
    rows = sky.pixel_of(df["ra"].to_numpy(np.float64), df["dec"].to_numpy(np.float64))
    density, level = sky.credible_levels(df["ra"].to_numpy(np.float64), df["dec"].to_numpy(np.float64))
    df["credible_level"], df["prob_density"] = level, density
    for key, values in sky.distance_at(rows).items():
        df[key.lower()] = values
    for key in ("distmu", "distsigma", "distnorm"):
        if key not in df:
            df[key] = np.nan
    inside = df["credible_level"] <= credible_level
    df = df[inside]
    epochs = read_epochs(dr_files, df["objectid"], clean)
    df = df.merge(epoch_summary(epochs, event, window_days), on="objectid", how="left")
    df["n_window"] = df["n_window"].fillna(0).astype(np.int64)
    df["n_before"] = df["n_before"].fillna(0).astype(np.int64)
    in_window = df["n_window"] > 0
    log.info(
        "sky map %s: %d candidates of %d lists; %d outside the %.3g credible region, %d inside but without "
        "an epoch in the window [%+g, %+g] d of MJD %.5f; %d kept",
        sky.name,
        n_all,
        len(tables),
        n_all - int(inside.sum()),
        credible_level,
        int((~in_window).sum()),
        window_days[0],
        window_days[1],
        event,
        int(in_window.sum()),
    )
    df = df[in_window].copy()
    df["dt_first"] = df["first_mjd"] - event
    df = df.sort_values(["credible_level", "prob_density", "objectid"], ascending=[True, False, True])
    df.insert(0, "skymap_rank", np.arange(1, len(df) + 1, dtype=np.int64))
    return _to_table(df, tables, sky, credible_level, window_days, event)


def _to_table(
    df: pd.DataFrame,
    tables: Mapping[str, Table],
    sky: SkyMap,
    credible_level: float,
    window_days: tuple[float, float],
    event: float,
) -> Table:
    """The ranked frame as an astropy Table with units and descriptions (list columns keep theirs)."""
    order = [
        "skymap_rank",
        *[c for c in KEEP if c in df.columns],
        *[c for c in COUNTERPART_COLUMNS if c not in ("skymap_rank",) and c in df.columns],
    ]
    table = Table.from_pandas(df[order].reset_index(drop=True))
    source = next(iter(tables.values()), None)
    for name in table.colnames:
        if name in COUNTERPART_COLUMNS:
            unit, text = COUNTERPART_COLUMNS[name]
            table[name].unit, table[name].description = unit, text
        elif source is not None and name in source.colnames:
            table[name].unit, table[name].description = source[name].unit, source[name].description
    table.meta.update(
        {
            "skymap": sky.name,
            "event_mjd": float(event),
            "credible_level": float(credible_level),
            "window_days": [float(window_days[0]), float(window_days[1])],
            "region_area_deg2": round(sky.region_area_deg2(credible_level), 4),
            "lists": list(tables),
            "description": "Candidates inside the sky map's credible region and time window, ranked "
            "by credible level; candidate time = first DR epoch at or after the event.",
        }
    )
    return table
