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

import lazy_loader

# The names of __init__.pyi, imported from their modules when first used: a workflow's rule files import
# only the settings they need, and parsing the workflow does not load scikit-learn, coniferest or astropy.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
