"""The candidate stages end to end, from input paths and typed settings to every output file.

One function per workflow rule (the scripts in workflow/scripts/ only unpack Snakemake's objects):
:func:`run_alert_lookup` (lookup_alert_names), :func:`run_candidates` (make_candidates),
:func:`run_plots` (plot_candidates) and
:func:`run_html` (render_candidates_html); the bundle is :func:`skysift.candidates.publish.publish_bundle`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from astropy.table import Table

from skysift.candidates.alerts import AlertNameSettings, lookup_alert_names
from skysift.candidates.columns import DEFAULT_TRANSIENT_CLASSES, SOURCE_SELECTIONS
from skysift.candidates.html import write_html
from skysift.candidates.inputs import id_filter, read_alert_names, read_columns, read_nepochs, skipped_reason
from skysift.candidates.lightcurves import plot_lightcurves
from skysift.candidates.plots import (
    merge_lists,
    plot_order,
    plot_score_distribution,
    plot_sky_map,
    sky_density,
)
from skysift.candidates.select import (
    make_candidates,
    select_candidates,
    select_rows,
    source_objectids,
    source_selection,
    top_rows,
)
from skysift.candidates.settings import CandidatesSettings, ListSpec, PlotSettings
from skysift.candidates.write import write_candidates
from skysift.crossmatch.best import best_crossmatch
from skysift.io import PathLike, read_tables
from skysift.lightcurves import manifest_files

__all__ = [
    "CandidateInputs",
    "CandidateOutputs",
    "PlotOutputs",
    "preselect",
    "preselect_sources",
    "read_lists",
    "run_alert_lookup",
    "run_candidates",
    "run_html",
    "run_plots",
]

logger = logging.getLogger(__name__)


#: The models whose metrics.json says whether they were trained: input name prefix -> model.
_MODELS = ("classifier", *SOURCE_SELECTIONS)


@dataclass(frozen=True)
class CandidateInputs:
    """The tables candidate lists are made from (one file per batch where a stage is per batch).

    ``features``, ``predictions`` and ``crossmatch`` are per batch, in the same batch order;
    ``scores`` is one file or one per batch (in that order).
    """

    features: Sequence[PathLike]
    scores: Sequence[PathLike]
    predictions: Sequence[PathLike]
    crossmatch: Sequence[PathLike]
    manifests: Sequence[PathLike]
    alert_names: PathLike | None = None
    #: Per-source classifiers' predictions by selection (``early_snia``, ``kilonova``): one file per batch
    #: (or one file).
    source_predictions: Mapping[str, PathLike | Sequence[PathLike]] = field(default_factory=dict)
    #: metrics.json of the models (``classifier``, ``early_snia``, ``kilonova``): a skipped one empties its lists.
    model_metrics: Mapping[str, PathLike] = field(default_factory=dict)

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, Any]) -> CandidateInputs:
        """From the make_candidates rule's named inputs: features, scores, predictions, crossmatch,
        manifests, alert_names (a list of at most one), <model>_metrics and <selection>_predictions."""
        alert_names = list(inputs.get("alert_names") or [])
        return cls(
            features=list(inputs["features"]),
            scores=_as_list(inputs["scores"]),
            predictions=_as_list(inputs["predictions"]),
            crossmatch=list(inputs["crossmatch"]),
            manifests=list(inputs["manifests"]),
            alert_names=alert_names[0] if alert_names else None,
            source_predictions={
                name: _as_list(inputs[f"{name}_predictions"])
                for name in SOURCE_SELECTIONS
                if f"{name}_predictions" in inputs
            },
            model_metrics={
                name: inputs[f"{name}_metrics"] for name in _MODELS if f"{name}_metrics" in inputs
            },
        )


@dataclass(frozen=True)
class CandidateOutputs:
    """The ranked anomaly table (ECSV, CSV, VOTable) and every list's ECSV (its .csv and .vot beside it)."""

    ecsv: PathLike
    csv: PathLike
    votable: PathLike
    lists: Mapping[str, PathLike]


@dataclass(frozen=True)
class PlotOutputs:
    """The light-curve PNG directory, the score distribution and the sky map."""

    lightcurves: PathLike
    scores: PathLike
    sky_map: PathLike


def run_candidates(
    inputs: CandidateInputs, settings: CandidatesSettings, outputs: CandidateOutputs, *, dr: str
) -> dict[str, Table]:
    """Write the ranked anomaly table and every configured list; return the lists by name.

    A list selected by a model that was not trained (too few labels) is empty, with a ``note``.
    The release is never held: every batch's own lists are made from its score and probability
    columns alone; only the rows of their union (and of the per-source lists) are read in full.
    """
    source_predictions = preselect_sources(inputs, settings.lists)
    skipped = {
        name: reason
        for name, path in inputs.model_metrics.items()
        if (reason := skipped_reason(path)) is not None
    }
    winners, n_scored = _winners(inputs, settings, source_predictions)
    rows = id_filter(winners)
    features = read_columns(inputs.features, filter=rows)
    scores = read_columns(inputs.scores, filter=rows)
    predictions = read_columns(inputs.predictions, filter=rows)
    xmatch = read_columns(inputs.crossmatch, filter=rows)
    common = {
        "dr": dr,
        "nepochs_df": read_nepochs(inputs.manifests, winners),
        "alert_names_df": read_alert_names(inputs.alert_names),
        "links": settings.links,
    }
    table = make_candidates(features, scores, predictions, xmatch, top_n=settings.top_n, **common)
    table.meta["n_scored"] = n_scored
    write_candidates(table, outputs.ecsv, outputs.csv, outputs.votable)
    lists = {}
    for name, ecsv in outputs.lists.items():
        lists[name] = select_candidates(
            features,
            scores,
            predictions,
            xmatch,
            settings.lists[name],
            name=name,
            transient_classes=settings.transient_classes,
            source_predictions=source_predictions,
            skipped=skipped,
            n_scored=n_scored,
            **common,
        )
        stem = str(ecsv).removesuffix(".ecsv")
        write_candidates(lists[name], ecsv, f"{stem}.csv", f"{stem}.vot")
    return lists


#: The columns a list is selected by (the rest of a row is read for the selected objects only).
_SCORE_COLUMNS = ["objectid", "anomaly_score", "anomaly_rank"]
_PREDICTION_COLUMNS = ["objectid", "predicted_class", "max_probability"]


def _winners(
    inputs: CandidateInputs, settings: CandidatesSettings, source_predictions: Mapping[str, pd.DataFrame]
) -> tuple[np.ndarray, int]:
    """Objectids that may enter the ranked table or a list (every batch's own lists and the per-source
    selections), and the number of scored objects."""
    specs = {
        "candidates": ListSpec(
            select="anomalies", classes=None, top_n=settings.top_n, min_score=None, min_probability=None
        ),
        **{n: spec for n, spec in settings.lists.items() if spec.select not in SOURCE_SELECTIONS},
    }
    winners, n_scored = preselect(inputs, specs, settings.transient_classes)
    for preds in source_predictions.values():
        winners = np.union1d(winners, _source_objectids(preds))
    logger.info("%d preselected objects of %d scored", len(winners), n_scored)
    return winners, n_scored


def run_alert_lookup(
    inputs: CandidateInputs,
    settings: CandidatesSettings,
    lookup: AlertNameSettings,
    out: PathLike,
    *,
    cache: PathLike,
) -> pd.DataFrame:
    """ZTF alert names of every object that may become a candidate (the preselection of
    :func:`run_candidates`), by cone search in the broker (cached in ``cache``); writes ``out`` (CSV)."""
    source_predictions = preselect_sources(inputs, settings.lists)
    winners, _ = _winners(inputs, settings, source_predictions)
    positions = read_columns(inputs.features, ["objectid", "ra", "dec"], filter=id_filter(winners))
    for preds in source_predictions.values():  # a source selection may have no features row
        if {"ra", "dec"} <= set(preds.columns):
            positions = pd.concat(
                [positions, preds.loc[preds["objectid"].isin(winners), ["objectid", "ra", "dec"]]]
            )
    positions = positions.drop_duplicates("objectid").sort_values("objectid", kind="stable")
    return lookup_alert_names(positions, out, lookup, cache_path=cache)


def preselect(
    inputs: CandidateInputs,
    specs: Mapping[str, ListSpec],
    transient_classes: Sequence[str] = DEFAULT_TRANSIENT_CLASSES,
) -> tuple[np.ndarray, int]:
    """Objectids that may enter a list (every list's release-wide top_n), and the number of scored
    objects.

    Per batch only the objectids of its features, the score and probability columns of its objects
    and its cross-match are read. Each list keeps a running top_n: after a batch, the list's kept rows
    and the batch's own top_n are merged and cut back to top_n (the order is total, see
    :func:`skysift.candidates.select.top_rows`). Memory is one batch's columns plus top_n rows per
    list, whatever the number of batches.
    """
    if len(inputs.predictions) != len(inputs.features) or len(inputs.crossmatch) != len(inputs.features):
        raise ValueError(
            f"{len(inputs.features)} feature, {len(inputs.predictions)} prediction and "
            f"{len(inputs.crossmatch)} cross-match files: expected one of each per batch, in batch order"
        )
    paired = len(inputs.scores) == len(inputs.features)
    kept: dict[str, pd.DataFrame] = {}
    n_scored = 0
    for i, features in enumerate(inputs.features):
        ids = read_columns([features], ["objectid"])["objectid"].to_numpy(np.int64)
        in_batch = id_filter(ids)
        scores = read_columns([inputs.scores[i]] if paired else inputs.scores, _SCORE_COLUMNS, in_batch)
        predictions = read_columns([inputs.predictions[i]], _PREDICTION_COLUMNS, in_batch)
        xmatch = read_columns([inputs.crossmatch[i]], filter=in_batch)
        matched = set(best_crossmatch(xmatch).index)
        n_scored += len(scores)
        for name, spec in specs.items():
            rows = select_rows(name, spec, scores, predictions, matched, transient_classes)
            kept[name] = rows if name not in kept else top_rows(_concat(kept[name], rows), spec)
    ids = [rows["objectid"].to_numpy(np.int64) for rows in kept.values()]
    return (np.unique(np.concatenate(ids)) if ids else np.empty(0, np.int64)), n_scored


def preselect_sources(inputs: CandidateInputs, lists: Mapping[str, ListSpec]) -> dict[str, pd.DataFrame]:
    """The per-source classifiers' prediction rows that may enter an ``early_snia``/``kilonova`` list, by
    selection, read one batch file at a time.

    The rows kept so far and the next batch's rows are selected together by every such list (the
    anomaly scores of ``min_score`` read for the batch's sources only), and only the rows some list
    takes are kept: a running top_n per list. Its order (probability, then objectid) is total, so the
    lists equal those of every row at once, while memory is one batch's predictions plus the lists.
    A selection no list uses is not read.
    """
    kept: dict[str, pd.DataFrame] = {}
    for select, paths in inputs.source_predictions.items():
        specs = {name: spec for name, spec in lists.items() if spec.select == select}
        if not specs:
            continue
        needs_scores = any(spec.min_score is not None for spec in specs.values())
        pool = pd.DataFrame()
        pool_scores = pd.DataFrame()
        n_rows = 0
        for path in _as_list(paths):
            preds = read_tables([path])
            n_rows += len(preds)
            pool = _concat(pool, preds)  # an empty batch's columns still join the schema
            if preds.empty:
                continue
            if needs_scores:
                oid = source_objectids(preds, f"{path}: the {select} predictions")
                batch_ids = id_filter(oid.dropna().astype(np.int64))
                pool_scores = _concat(pool_scores, read_columns(inputs.scores, _SCORE_COLUMNS, batch_ids))
            pool_ids = source_objectids(pool, f"{path}: the {select} predictions")
            keep = np.zeros(len(pool), dtype=bool)
            for name, spec in specs.items():
                chosen = source_selection(name, select, spec, pool_scores, pool)["objectid"]
                keep |= pool_ids.isin(chosen).to_numpy()
            pool = pool[keep].reset_index(drop=True)
            if needs_scores:
                pool_scores = pool_scores[pool_scores["objectid"].isin(source_objectids(pool, select))]
        kept[select] = pool
        logger.info("%s: %d of %d source predictions may enter a list", select, len(pool), n_rows)
    return kept


def _concat(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """``first`` then ``second`` (either may be empty; an empty frame's columns are kept)."""
    if first.empty and not len(first.columns):
        return second.reset_index(drop=True)
    return pd.concat([first, second], ignore_index=True)


def _source_objectids(preds: pd.DataFrame) -> np.ndarray:
    """Every objectid a per-source prediction table can put in a list (objectid, else objectid_r/_g)."""
    columns = [c for c in ("objectid", "objectid_r", "objectid_g") if c in preds.columns]
    values = [pd.to_numeric(preds[c], errors="coerce").dropna().to_numpy(np.int64) for c in columns]
    return np.unique(np.concatenate(values)) if values else np.empty(0, np.int64)


def _as_list(value: PathLike | Sequence[PathLike]) -> list[PathLike]:
    """One path or a list of paths, as a list."""
    return [value] if isinstance(value, str | Path) else list(value)


def read_lists(paths: Mapping[str, PathLike]) -> dict[str, Table]:
    """Candidate lists by name from their ECSV files."""
    return {name: Table.read(path, format="ascii.ecsv") for name, path in paths.items()}


def run_plots(
    lists: Mapping[str, PathLike],
    *,
    scores: PathLike,
    features: Sequence[PathLike],
    objects: Sequence[PathLike],
    manifests: Sequence[PathLike],
    settings: PlotSettings,
    outputs: PlotOutputs,
    cuts: Mapping | None = None,
    n_jobs: int = 1,
) -> None:
    """The score distribution, the sky map (over every object) and a light-curve PNG per listed
    candidate (best-ranked first, at most ``settings.max_plots``).

    ``objects`` are the batches' objects tables; the epochs are read from the manifests' DR files through
    the quality cuts ``cuts`` (the clean section), flagged epochs shown apart."""
    tables = read_lists(lists)
    plot_score_distribution(read_tables([scores]), tables, outputs.scores)
    plot_sky_map(tables, outputs.sky_map, background=sky_density(features))
    plot_lightcurves(
        merge_lists(tables),
        objects,
        outputs.lightcurves,
        objectids=plot_order(tables, settings.max_plots),
        raw_paths=manifest_files(manifests),
        cuts=dict(cuts or {}),
        fold_min_snr=settings.fold_min_snr,
        n_jobs=n_jobs,
    )


def run_html(lists: Mapping[str, PathLike], out: PathLike, *, title: str, dr: str, source: str) -> Path:
    """The static HTML page of the lists beside their plots."""
    return write_html(read_lists(lists), out, title=title, dr=dr, source=source)
