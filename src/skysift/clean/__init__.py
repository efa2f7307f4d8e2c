"""Stage 2, clean: the quality cuts of :mod:`skysift.lightcurves.cuts` applied to a batch's DR files,
streamed (files in objectid order, ``row_group_size`` rows at a time, through one ParquetWriter), every
drop counted in the log."""

from skysift.clean.batch import clean_files
from skysift.lightcurves.cuts import CleanConfig, CleanStats, clean_table

__all__ = ["CleanConfig", "CleanStats", "clean_table", "clean_files"]
