"""Candidate tables: ranked anomalies and named candidate lists, with classes, cross-matches and links.

:func:`select_candidates` (:mod:`~skysift.candidates.select`) picks the objects of one list (``anomalies`` by anomaly rank,
``class`` by predicted class and probability, ``unknown_transients`` = predicted transients
without any catalog counterpart) and joins the anomaly ranking, the features table's key
columns, the DR epoch counts, the classifier probabilities and the best cross-match per object
into an astropy Table with units and a description on every column; :func:`make_candidates`
is the ``anomalies`` selection; :func:`write_candidates` publishes a table as ECSV, CSV and
VOTable. An object missing from the features, predictions or cross-match table keeps its row,
with masked values in the columns that table would have filled. The ALeRCE and Fink links
need a ZTF *alert* name (``ZTF18abcdefg``), which DR objectids do not carry: they are masked
unless an ``alert_names`` table (objectid, ztf_name) is given.

The columns are defined in :mod:`~skysift.candidates.columns`, the join in
:mod:`~skysift.candidates.table`; plots, the HTML page and the published bundle in
:mod:`~skysift.candidates.lightcurves`, :mod:`~skysift.candidates.plots`,
:mod:`~skysift.candidates.html` and :mod:`~skysift.candidates.publish`; the workflow's stages
are the ``run_*`` functions of :mod:`~skysift.candidates.run`.
"""

from skysift.candidates.alerts import AlertNameSettings, lookup_alert_names
from skysift.candidates.columns import (
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
from skysift.candidates.inputs import read_alert_names, read_nepochs, skipped_reason
from skysift.candidates.run import (
    CandidateInputs,
    CandidateOutputs,
    PlotOutputs,
    run_alert_lookup,
    run_candidates,
    run_html,
    run_plots,
)
from skysift.candidates.select import describe_selection, make_candidates, model_of, select_candidates
from skysift.candidates.settings import CandidatesSettings, ListSpec, PlotSettings, PublishSettings
from skysift.candidates.write import write_candidates

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
