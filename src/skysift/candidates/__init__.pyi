"""Type stub of :mod:`skysift.candidates`: what the package exports, and from where (read lazily, see __init__.py)."""

from .alerts import AlertNameSettings, lookup_alert_names
from .columns import (
    ALERCE_URL,
    CANDIDATE_COLUMNS,
    DEFAULT_TRANSIENT_CLASSES,
    FINK_URL,
    SELECTIONS,
    SNAD_URL,
    SOURCE_SELECTIONS,
    column_descriptions,
    snad_url,
)
from .inputs import read_alert_names, read_nepochs, skipped_reason
from .run import (
    CandidateInputs,
    CandidateOutputs,
    PlotOutputs,
    run_alert_lookup,
    run_candidates,
    run_html,
    run_plots,
)
from .select import describe_selection, make_candidates, model_of, select_candidates
from .settings import CandidatesSettings, ListSpec, PlotSettings, PublishSettings
from .write import write_candidates

__all__ = [
    "ALERCE_URL",
    "CANDIDATE_COLUMNS",
    "DEFAULT_TRANSIENT_CLASSES",
    "FINK_URL",
    "SELECTIONS",
    "SOURCE_SELECTIONS",
    "SNAD_URL",
    "AlertNameSettings",
    "CandidateInputs",
    "CandidateOutputs",
    "CandidatesSettings",
    "ListSpec",
    "PlotOutputs",
    "PlotSettings",
    "PublishSettings",
    "column_descriptions",
    "describe_selection",
    "make_candidates",
    "model_of",
    "read_alert_names",
    "lookup_alert_names",
    "read_nepochs",
    "run_alert_lookup",
    "run_candidates",
    "run_html",
    "run_plots",
    "select_candidates",
    "skipped_reason",
    "snad_url",
    "write_candidates",
]
