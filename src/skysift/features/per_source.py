"""Per-source multiband feature rows: one row per sky source, its g and r features side by side.

ZTF DR light curves are per band (an objectid is one field, one filter); the classifier of
``classify.unit: source`` works on sky sources, the way ALeRCE classifies objects. A batch's
feature table with ``source_id`` (``features.colours: true``, :func:`skysift.sky.associate_sources`)
becomes a table of one row per source with:

    objectid            the source's key: its ``source_id`` (the smallest member objectid)
    fieldid, ra, dec    of the source (ra/dec: its member with most points)
    n_bands             bands with a light curve (1 or 2)
    <feature>_g/_r      every per-band feature of the g and r member (NaN when the band is missing);
                        the member with most points where a chain joined two of one band
    colour_gr_*         the per-source colours of the colour group (median, at maximum), and
    colour_gr_mean      g - r of the weighted mean magnitudes

:func:`source_members` maps every objectid to its source, so per-source labels and predictions
go to each member objectid (and the candidate lists keep their per-band rows).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from skysift.features.table import feature_columns
from skysift.io import InputError

__all__ = ["BANDS", "require_source_id", "source_members", "source_table", "source_labels"]

logger = logging.getLogger(__name__)

#: ZTF filterid -> column suffix of the per-source table (i-band rows are rare and kept out).
BANDS: dict[int, str] = {1: "g", 2: "r"}

#: Per-source colour columns of the colour group: one value per source, carried by every member row.
_SOURCE_LEVEL = ("colour_gr_median", "colour_gr_max")


def require_source_id(features: pd.DataFrame, what: str) -> None:
    """Raise the error naming ``features.colours`` when a features table has no ``source_id``."""
    if "source_id" not in features.columns:
        raise InputError(
            f"{what}: the features table has no 'source_id' column; per-source rows need the "
            "association of the colour group: set features.colours: true (classify.unit: source needs it)"
        )


def source_members(features: pd.DataFrame) -> pd.Series:
    """objectid -> source_id of every row of a features table with ``source_id``."""
    require_source_id(features, "source_members")
    return pd.Series(
        features["source_id"].to_numpy(np.int64),
        index=pd.Index(features["objectid"].to_numpy(np.int64), name="objectid"),
        name="source_id",
    )


def source_table(features: pd.DataFrame) -> pd.DataFrame:
    """One row per sky source of a per-band features table (see the module's docstring).

    Every source of the table has a row, in ascending ``objectid`` (= source_id) order; rows of
    filters other than g and r still count in the source but contribute no columns.
    """
    require_source_id(features, "source_table")
    per_band = [c for c in feature_columns(features) if c not in _SOURCE_LEVEL]
    order = features.sort_values(["n_points", "objectid"], ascending=[False, True], kind="stable")
    best = order.drop_duplicates(["source_id", "filterid"])
    first = order.drop_duplicates("source_id").set_index("source_id")
    sources = np.unique(features["source_id"].to_numpy(np.int64))
    out = pd.DataFrame(index=pd.Index(sources, name="source_id"))
    out["fieldid"] = first["fieldid"].reindex(sources).to_numpy() if "fieldid" in first else -1
    for key in ("ra", "dec"):
        if key in first:
            out[key] = first[key].reindex(sources).to_numpy(np.float64)
    band_parts = []
    for filterid, suffix in BANDS.items():
        rows = best[best["filterid"] == filterid].set_index("source_id")
        cols = ["n_points", *per_band] if "n_points" in rows else per_band
        band_parts.append(rows[cols].add_suffix(f"_{suffix}").reindex(sources))
    out = pd.concat([out, *band_parts], axis=1)
    out["n_bands"] = sum(out[f"n_points_{s}"].notna().astype(np.int8) for s in BANDS.values())
    for name in _SOURCE_LEVEL:
        if name in first:
            out[name] = first[name].reindex(sources).to_numpy(np.float64)
    if {"weighted_mean_g", "weighted_mean_r"} <= set(out.columns):
        out["colour_gr_mean"] = out["weighted_mean_g"] - out["weighted_mean_r"]
    out = out.reset_index()
    out.insert(0, "objectid", out["source_id"].to_numpy(np.int64))
    out = out.drop(columns=["source_id"])
    logger.info(
        "%d per-band rows -> %d sources (%d with g and r)",
        len(features),
        len(out),
        int((out["n_bands"] == 2).sum()),
    )
    return out


def source_labels(labels: pd.Series, members: pd.Series) -> pd.Series:
    """Per-source labels (source_id -> class) from per-objectid labels.

    A source takes the label its labelled members agree on; a source whose members disagree
    is left out and counted in the log (a label table naming a g and an r object of one source
    with two classes is a conflict to resolve, not a guess to make).
    """
    labelled = labels.dropna()
    labelled = labelled[labelled.index.isin(members.index)]
    frame = pd.DataFrame({"source_id": members.reindex(labelled.index).to_numpy(), "label": labelled.values})
    n_classes = frame.groupby("source_id")["label"].nunique()
    conflicts = n_classes[n_classes > 1].index
    if len(conflicts):
        logger.warning(
            "%d source(s) have members labelled with different classes and are not trained on, e.g. %s",
            len(conflicts),
            conflicts[:5].tolist(),
        )
    agreed = frame[~frame["source_id"].isin(conflicts)].drop_duplicates("source_id")
    out = pd.Series(agreed["label"].to_numpy(), index=agreed["source_id"].to_numpy(np.int64), name="label")
    out.index.name = "objectid"
    return out.sort_index()
