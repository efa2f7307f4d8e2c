"""The candidate stages end to end, from input paths and typed settings to every output file.

One function per workflow rule (the scripts in workflow/scripts/ only unpack Snakemake's objects):
:func:`run_candidates` (make_candidates), :func:`run_plots` (plot_candidates) and
:func:`run_html` (render_candidates_html); the bundle is :func:`skysift.candidates.publish.publish_bundle`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astropy.table import Table

from skysift.candidates.columns import SOURCE_SELECTIONS
from skysift.candidates.html import write_html
from skysift.candidates.inputs import read_alert_names, read_nepochs, skipped_reason
from skysift.candidates.lightcurves import plot_lightcurves
from skysift.candidates.plots import merge_lists, plot_order, plot_score_distribution, plot_sky_map
from skysift.candidates.select import make_candidates, select_candidates
from skysift.candidates.settings import CandidatesSettings, PlotSettings
from skysift.candidates.write import write_candidates
from skysift.io import read_tables
from skysift.lightcurves import manifest_files

__all__ = [
    "CandidateInputs",
    "CandidateOutputs",
    "PlotOutputs",
    "read_lists",
    "run_candidates",
    "run_html",
    "run_plots",
]

logger = logging.getLogger(__name__)

PathLike = str | Path

#: The models whose metrics.json says whether they were trained: input name prefix -> model.
_MODELS = ("classifier", *SOURCE_SELECTIONS)


@dataclass(frozen=True)
class CandidateInputs:
    """The tables candidate lists are made from (one file per batch where a stage is per batch)."""

    features: Sequence[PathLike]
    scores: PathLike
    predictions: PathLike
    crossmatch: Sequence[PathLike]
    manifests: Sequence[PathLike]
    alert_names: PathLike | None = None
    #: Per-source classifiers' predictions by selection (``early_snia``, ``kilonova``).
    source_predictions: Mapping[str, PathLike] = field(default_factory=dict)
    #: metrics.json of the models (``classifier``, ``early_snia``, ``kilonova``): a skipped one empties its lists.
    model_metrics: Mapping[str, PathLike] = field(default_factory=dict)

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, Any]) -> CandidateInputs:
        """From the make_candidates rule's named inputs: features, scores, predictions, crossmatch,
        manifests, alert_names (a list of at most one), <model>_metrics and <selection>_predictions."""
        alert_names = list(inputs.get("alert_names") or [])
        return cls(
            features=list(inputs["features"]),
            scores=inputs["scores"],
            predictions=inputs["predictions"],
            crossmatch=list(inputs["crossmatch"]),
            manifests=list(inputs["manifests"]),
            alert_names=alert_names[0] if alert_names else None,
            source_predictions={
                name: inputs[f"{name}_predictions"]
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
    """
    features = read_tables(inputs.features)
    scores = read_tables([inputs.scores])
    predictions = read_tables([inputs.predictions])
    xmatch = read_tables(inputs.crossmatch)
    common = {
        "dr": dr,
        "nepochs_df": read_nepochs(inputs.manifests),
        "alert_names_df": read_alert_names(inputs.alert_names),
    }
    source_predictions = {name: read_tables([path]) for name, path in inputs.source_predictions.items()}
    skipped = {
        name: reason
        for name, path in inputs.model_metrics.items()
        if (reason := skipped_reason(path)) is not None
    }
    table = make_candidates(features, scores, predictions, xmatch, top_n=settings.top_n, **common)
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
            **common,
        )
        stem = str(ecsv).removesuffix(".ecsv")
        write_candidates(lists[name], ecsv, f"{stem}.csv", f"{stem}.vot")
    return lists


def read_lists(paths: Mapping[str, PathLike]) -> dict[str, Table]:
    """Candidate lists by name from their ECSV files."""
    return {name: Table.read(path, format="ascii.ecsv") for name, path in paths.items()}


def run_plots(
    lists: Mapping[str, PathLike],
    *,
    scores: PathLike,
    features: Sequence[PathLike],
    clean: Sequence[PathLike],
    manifests: Sequence[PathLike],
    settings: PlotSettings,
    outputs: PlotOutputs,
    n_jobs: int = 1,
) -> None:
    """The score distribution, the sky map (over every object) and a light-curve PNG per listed
    candidate (best-ranked first, at most ``settings.max_plots``), flagged epochs from the DR files."""
    tables = read_lists(lists)
    plot_score_distribution(read_tables([scores]), tables, outputs.scores)
    plot_sky_map(tables, outputs.sky_map, background=read_tables(features)[["ra", "dec"]])
    plot_lightcurves(
        merge_lists(tables),
        clean,
        outputs.lightcurves,
        objectids=plot_order(tables, settings.max_plots),
        raw_paths=manifest_files(manifests),
        fold_min_snr=settings.fold_min_snr,
        n_jobs=n_jobs,
    )


def run_html(lists: Mapping[str, PathLike], out: PathLike, *, title: str, dr: str, source: str) -> Path:
    """The static HTML page of the lists beside their plots."""
    return write_html(read_lists(lists), out, title=title, dr=dr, source=source)
