"""Type stub of :mod:`skysift.sources`: what the package exports, and from where (read lazily, see __init__.py)."""

from .base import EXECUTION_KEYS, LightCurveSource, Preparation
from .demo import DEMO_CATALOG_COLUMNS, demo_catalog_specs
from .registry import SOURCES, get_source
from .run import (
    batch_params,
    fetch_batch,
    job_settings,
    prepare_release,
    release_params,
    release_parent,
    resolve_fields,
    run_fetch_batch,
    run_prepare_release,
)
from .settings import FetchSettings, HatsSettings, SourceSettings, TableSettings

__all__ = [
    "LightCurveSource",
    "Preparation",
    "EXECUTION_KEYS",
    "SOURCES",
    "get_source",
    "SourceSettings",
    "FetchSettings",
    "TableSettings",
    "HatsSettings",
    "resolve_fields",
    "release_parent",
    "prepare_release",
    "fetch_batch",
    "release_params",
    "batch_params",
    "job_settings",
    "run_prepare_release",
    "run_fetch_batch",
    "DEMO_CATALOG_COLUMNS",
    "demo_catalog_specs",
]
