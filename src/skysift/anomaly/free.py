"""Catalog knowledge as free answers: cross-matched sources of a common class are known regulars.

A source whose best cross-match (:func:`skysift.crossmatch.best.best_crossmatch`: a labelled row
first, then TNS > VSX > SIMBAD, then separation) lies within ``anomaly.free_answers.max_sep_arcsec``
and names one of ``anomaly.free_answers.classes`` (the classifier taxonomy ``label`` or the catalog's
raw ``match_type``) is an answer "regular" that no expert had to give. :func:`free_answers` returns
them as a merged-labels table (:func:`skysift.anomaly.labels.merge_labels` columns) with

``label_expert``  ``catalog:<catalog>``: catalog-derived, never an expert's name
``label_origin``  the cross-match file the answer came from
``label_note``    the match: catalog, name, type, separation
``known_class``   the class that made it known

They live in memory and in derived tables only (the fit's ``results/anomaly/model/labels.parquet``,
the ranked lists' label columns): nothing here writes a labels file, and :func:`with_free_answers`
lets every expert answer about an objectid win over the catalog's. The fit (AAD, PineForest) refits
to the free answers among its sample rows, ``skysift label`` never asks about them, the oracle
evaluation starts from them, and ranked lists can leave them out (``exclude_known``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from skysift.anomaly.labels import empty_labels
from skysift.anomaly.settings import FreeAnswerSettings
from skysift.crossmatch.best import best_crossmatch
from skysift.io import InputError

__all__ = ["CATALOG_PREFIX", "FREE_TIME", "free_answers", "with_free_answers", "is_free", "known_classes"]

logger = logging.getLogger(__name__)

#: ``label_expert`` of a catalog-derived answer starts with this.
CATALOG_PREFIX = "catalog:"
#: ``label_time`` of a free answer: before any expert's answer, so that an expert's answer wins.
FREE_TIME = "1970-01-01T00:00:00Z"

#: Seed of the subset kept when more than ``max_answers`` objects are classified.
SUBSET_SEED = 20261202

_READ_COLUMNS = ["objectid", "catalog", "match_name", "match_type", "sep_arcsec", "label"]


def _classified_rows(path: str | Path, settings: FreeAnswerSettings) -> pd.DataFrame:
    """The best cross-match of each object of one batch's table that names a listed class within
    ``max_sep_arcsec`` (objectid index), with a ``file`` column. A batch's objects are only in its
    own table, so the best match per object is found file by file."""
    try:
        rows = pd.read_parquet(path, columns=_READ_COLUMNS)
    except (KeyError, ValueError) as exc:  # pyarrow: a column missing
        raise InputError(
            f"{path}: not a cross-match table with columns {_READ_COLUMNS} ({exc}); rerun crossmatch"
        ) from exc
    if not len(rows):
        return rows.set_index("objectid").assign(file=str(path))
    best = best_crossmatch(rows)
    classes = set(settings.classes)
    label = best["label"].astype("string").fillna("")
    mtype = best["match_type"].astype("string").fillna("").str.strip()
    hit = label.isin(classes) | mtype.isin(classes)
    close = pd.to_numeric(best["sep_arcsec"], errors="coerce").fillna(np.inf) <= settings.max_sep_arcsec
    return best.loc[(hit & close).to_numpy()].assign(file=str(path))


def _subset_key(objectid: np.ndarray) -> np.ndarray:
    """A seeded pseudo-random key per objectid (splitmix64): the ``max_answers`` smallest keys are a
    random subset that does not depend on the order or the number of the files read."""
    with np.errstate(over="ignore"):
        z = objectid.astype(np.uint64) + np.uint64(SUBSET_SEED) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def free_answers(crossmatch: Sequence[str | Path], settings: FreeAnswerSettings) -> pd.DataFrame:
    """The free answers of the cross-match tables ``crossmatch`` (module docstring); empty when disabled.

    Read one batch's table at a time; more than ``settings.max_answers`` classified objects keep the
    ``max_answers`` of smallest seeded key (:func:`_subset_key`), so memory holds at most
    ``max_answers`` answers plus one batch's rows, and the fit, a session and the evaluation see the
    same answers. Returns the merged-labels columns plus ``known_class``.
    """
    out = empty_labels().assign(known_class=pd.Series(dtype=object))
    if not settings.enabled or not settings.classes or not crossmatch:
        return out
    kept: pd.DataFrame | None = None
    n_classified = 0
    for path in crossmatch:
        rows = _classified_rows(path, settings)
        n_classified += len(rows)
        rows = rows.assign(_key=_subset_key(rows.index.to_numpy(np.int64)))
        kept = rows if kept is None else pd.concat([kept, rows])
        if len(kept) > settings.max_answers:
            kept = kept.nsmallest(settings.max_answers, "_key")
    if kept is None or not len(kept):
        return out
    if n_classified > len(kept):
        logger.info("free answers: %d classified objects, %d kept (max_answers)", n_classified, len(kept))
    best = kept.sort_index()
    files = best["file"]
    classes = set(settings.classes)
    known = np.where(
        best["label"].astype("string").fillna("").isin(classes), best["label"], best["match_type"]
    )
    oid = best.index.to_numpy(np.int64)
    out = pd.DataFrame(
        {
            "objectid": oid,
            "label": "regular",
            "label_expert": CATALOG_PREFIX + best["catalog"].astype(str).to_numpy(),
            "label_time": FREE_TIME,
            "label_note": [
                f'{c} {n} ({t}) {s:.2f}"'
                for c, n, t, s in zip(
                    best["catalog"], best["match_name"], best["match_type"], best["sep_arcsec"], strict=True
                )  # fmt: skip
            ],
            "label_origin": files.to_numpy(),
            "label_votes": np.ones(len(oid), dtype=np.int64),
            "label_conflict": np.zeros(len(oid), dtype=bool),
            "known_class": np.asarray(known, dtype=object),
        }
    )
    logger.info(
        "free answers: %d regular object(s) from the catalogs %s",
        len(out),
        out["known_class"].value_counts().to_dict(),
    )
    return out


def with_free_answers(labels: pd.DataFrame, free: pd.DataFrame) -> pd.DataFrame:
    """Expert labels (:func:`~skysift.anomaly.labels.merge_labels`) plus the free answers of other objectids.

    An expert's answer about an objectid wins over the catalog's (and, per source, the latest answer
    wins: a free answer's time is :data:`FREE_TIME`). Every row gets ``known_class`` (the free
    answer's class, empty for expert answers).
    """
    experts = labels.assign(known_class="") if "known_class" not in labels else labels
    if not len(free):
        return experts.reset_index(drop=True)
    extra = free.loc[~free["objectid"].isin(experts["objectid"])]
    if not len(experts):
        return extra.reset_index(drop=True)
    merged = pd.concat([experts, extra], ignore_index=True)
    return merged.sort_values("objectid", kind="mergesort").reset_index(drop=True)


def is_free(labels: pd.DataFrame) -> np.ndarray:
    """Which rows of a labels table are catalog-derived (``label_expert`` starts with ``catalog:``)."""
    if "label_expert" not in labels:
        return np.zeros(len(labels), dtype=bool)
    return labels["label_expert"].astype(str).str.startswith(CATALOG_PREFIX).to_numpy()


def known_classes(labels: pd.DataFrame, objectid: np.ndarray) -> np.ndarray:
    """The ``known_class`` of each objectid (empty string when none) from a labels table."""
    if "known_class" not in labels or not len(labels):
        return np.full(len(objectid), "", dtype=object)
    return labels.set_index("objectid")["known_class"].reindex(objectid).fillna("").to_numpy(dtype=object)
