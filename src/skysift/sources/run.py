"""Run the configured light-curve source: its batches, its release and one batch.

Library users call :func:`resolve_fields`, :func:`prepare_release` and :func:`fetch_batch` with
:class:`~skysift.sources.settings.SourceSettings`. The workflow's rules pass :func:`release_params` /
:func:`batch_params` (only the keys that change outputs, so Snakemake reruns exactly when they change)
and their scripts call :func:`run_prepare_release` / :func:`run_fetch_batch`, which rebuild the settings
from those params plus the execution settings of the validated config.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from skysift.config import default_config, get
from skysift.sources.base import EXECUTION_KEYS, Preparation
from skysift.sources.registry import get_source
from skysift.sources.settings import SourceSettings

__all__ = [
    "resolve_fields",
    "release_parent",
    "prepare_release",
    "fetch_batch",
    "release_params",
    "batch_params",
    "job_settings",
    "run_prepare_release",
    "run_fetch_batch",
]

log = logging.getLogger(__name__)


def resolve_fields(settings: SourceSettings) -> list[int]:
    """The ZTF fields (batches) of a run, decided without network access (errors name the config key)."""
    return get_source(settings.source).fields(settings)


def release_parent(settings: SourceSettings, default_parent: str) -> str:
    """The directory holding the source's ``<dr>/`` tree; ``default_parent`` is the demo's."""
    return get_source(settings.source).release_parent(settings, default_parent)


def prepare_release(settings: SourceSettings, release_root: str | Path) -> object:
    """Write the source's release (or its index) under ``release_root`` = ``<parent>/<dr>``; a mirror needs nothing."""
    source = get_source(settings.source)
    if source.preparation is Preparation.NONE:
        log.info("source %s: the release %s exists, nothing to prepare", source.name, release_root)
        return None
    return source.prepare(settings, Path(release_root))


def fetch_batch(
    settings: SourceSettings, release_root: str | Path, fieldid: int, manifest: str | Path
) -> list[Path]:
    """Make one field's files present and verified under ``release_root`` and write its manifest."""
    return get_source(settings.source).fetch_batch(settings, Path(release_root), int(fieldid), Path(manifest))


def _sorted(value: Any) -> Any:
    """``value`` with every mapping's keys sorted, so reordering a config file's keys changes no param."""
    if isinstance(value, Mapping):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_sorted(item) for item in value]
    return copy.deepcopy(value)


def _params(config: Mapping[str, Any], source: str, keys: Iterable[str]) -> dict[str, Any]:
    """``{"source": .., "dr": .., key: value}`` of dotted keys, in a stable order (Snakemake compares reprs)."""
    params: dict[str, Any] = {"source": source, "dr": config["dr"]}
    for key in keys:
        params[key] = _sorted(get(config, key))
    return params


def release_params(config: Mapping[str, Any], source: str | None = None) -> dict[str, Any]:
    """Params of the release-preparation rule of ``source`` (default: the configured one)."""
    name = source or config["source"]
    return _params(config, name, get_source(name).release_keys)


def batch_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """Params of the batch-fetch rule of the configured source."""
    return _params(config, config["source"], get_source(config["source"]).batch_keys)


def _set(config: dict, dotted: str, value: Any) -> None:
    """Set a dotted key of a config dict in place."""
    *parents, last = dotted.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[last] = copy.deepcopy(value)


def job_settings(params: Mapping[str, Any], config: Mapping[str, Any]) -> SourceSettings:
    """The settings a workflow job runs with.

    Result keys come from the rule's ``params`` (what Snakemake compares to decide reruns), the execution
    settings (:data:`~skysift.sources.base.EXECUTION_KEYS`) from the validated ``config``, and every other
    key keeps its schema default: a key a source reads without declaring it cannot change an output unnoticed.
    """
    merged = default_config()
    for key in EXECUTION_KEYS:
        _set(merged, key, get(config, key))
    for key, value in params.items():
        _set(merged, key, value)
    return SourceSettings.from_config(merged)


def run_prepare_release(
    params: Mapping[str, Any], config: Mapping[str, Any], release_root: str | Path
) -> object:
    """Workflow entry of the release-preparation rules (simulate_survey, fetch_checksums, query_*, convert_table)."""
    return prepare_release(job_settings(params, config), release_root)


def run_fetch_batch(
    params: Mapping[str, Any],
    config: Mapping[str, Any],
    release_root: str | Path,
    fieldid: int,
    manifest: str | Path,
) -> list[Path]:
    """Workflow entry of fetch_lightcurves: one batch of the configured source."""
    return fetch_batch(job_settings(params, config), release_root, fieldid, manifest)
