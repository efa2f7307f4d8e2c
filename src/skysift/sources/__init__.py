"""Stage 1, fetch: where light curves come from and which batches exist.

Sources: ``demo`` (simulated), ``local`` (a mirror), ``irsa_bulk`` (IRSA's DR parquet files),
``irsa_api`` (IRSA nph_light_curves), ``snad`` (SNAD ZTF DR API), ``hats`` (a HATS catalog read
with lsdb, the optional extra ``skysift[hats]``) and ``table`` (a long-format CSV/parquet file with a
column mapping). A batch is one ZTF field. Each source is one module implementing the protocol of
:mod:`skysift.sources.base`, named in :mod:`skysift.sources.registry`; :mod:`skysift.sources.run`
resolves the batches at workflow-parse time without network access, prepares the release and
fetches one batch.
"""

from skysift.sources.base import EXECUTION_KEYS, LightCurveSource, Preparation
from skysift.sources.demo import DEMO_CATALOG_COLUMNS, demo_catalog_specs
from skysift.sources.registry import SOURCES, get_source
from skysift.sources.run import (
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
from skysift.sources.settings import FetchSettings, HatsSettings, SourceSettings, TableSettings

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
