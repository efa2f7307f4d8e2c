"""Light curves as every stage reads them: batch manifests, the quality cuts, and epoch readers."""

from skysift.lightcurves.cuts import CleanConfig, CleanStats, clean_table
from skysift.lightcurves.epochs import EPOCH_COLUMNS, read_epochs
from skysift.lightcurves.manifest import MANIFEST_COLUMNS, manifest_files, read_manifest, write_manifest

__all__ = [
    "CleanConfig",
    "CleanStats",
    "clean_table",
    "EPOCH_COLUMNS",
    "read_epochs",
    "MANIFEST_COLUMNS",
    "manifest_files",
    "read_manifest",
    "write_manifest",
]
