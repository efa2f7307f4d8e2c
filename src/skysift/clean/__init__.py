"""Stage 2, clean: the quality cuts of :mod:`skysift.lightcurves.cuts` applied to a batch's DR files as they
are read (:mod:`skysift.clean.read`), duplicate light curves found from two columns (:mod:`skysift.clean.plan`),
every drop counted in the log. The stage writes the batch's objects table, and a cleaned copy only when asked
(:mod:`skysift.clean.batch`)."""

from skysift.clean.batch import OBJECT_COLUMNS, clean_files, clean_objects, run_clean
from skysift.clean.plan import BatchPlan, FilePlan, plan_batch
from skysift.clean.read import batch_reader, iter_clean, iter_cut, read_clean_lightcurves
from skysift.lightcurves.cuts import CleanConfig, CleanStats, clean_table

__all__ = [
    "OBJECT_COLUMNS",
    "BatchPlan",
    "CleanConfig",
    "CleanStats",
    "FilePlan",
    "batch_reader",
    "clean_files",
    "clean_objects",
    "clean_table",
    "iter_clean",
    "iter_cut",
    "plan_batch",
    "read_clean_lightcurves",
    "run_clean",
]
