"""The one small protocol every light-curve source implements.

A source module (``skysift/sources/<name>.py``) defines ``SOURCE = LightCurveSource(...)`` and the
registry (:mod:`skysift.sources.registry`) names the module. A source says

* which batches (ZTF fields) a config asks for, decided at workflow-parse time without network access;
* where its release tree ``<parent>/<dr>/`` lives;
* how that release is prepared (:class:`Preparation`) and, for a prepared release, by which function
  and from which input files;
* how one batch is fetched: its files made present and verified, and listed in the batch manifest;
* which config keys change those outputs (``release_keys``, ``batch_keys``): the workflow passes exactly
  these to the rules as ``params``, so changing anything else (HTTP settings, verification mode, request
  sizes) reruns nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skysift.io import InputError
from skysift.sources.settings import SourceSettings

__all__ = [
    "Preparation",
    "LightCurveSource",
    "EXECUTION_KEYS",
    "requested_fields",
    "chosen_fields",
    "cache_parent",
    "converted_parent",
    "no_inputs",
    "no_catalogs",
]

#: Config keys that say how to fetch, not what: never rule params, read by the jobs from the config.
EXECUTION_KEYS: tuple[str, ...] = ("fetch.http", "fetch.batch_size", "fetch.verify")


def no_inputs(settings: SourceSettings) -> list[str]:
    """A preparation that reads no local file."""
    return []


def no_catalogs(release_parent: str) -> dict[str, dict]:
    """A release without catalogs of its own."""
    return {}


class Preparation(enum.Enum):
    """How a source's release tree comes to exist before its batches are fetched."""

    #: The release already exists (a mirror); batches verify its files against its checksum.md5.
    NONE = "none"
    #: Simulated with its truth table and catalogs (the demo; rule ``simulate_survey``).
    SIMULATE = "simulate"
    #: The release's index (checksum.md5) is downloaded once; each batch downloads its own files.
    INDEX = "index"
    #: The whole selection is fetched or converted into a DR tree with checksum.md5 in one job.
    CONVERT = "convert"


@dataclass(frozen=True)
class LightCurveSource:
    """One light-curve source (the config's ``source``): its batches, release, preparation and batch fetch.

    Parameters
    ----------
    name
        The config value ``source`` (and the schema enum entry).
    preparation
        How the release comes to exist (see :class:`Preparation`).
    online
        Whether preparing or fetching talks to a service: the workflow then runs those jobs as local rules
        (compute nodes are often offline).
    release_keys, batch_keys
        Dotted config keys (``fetch.filters``, ``demo``) whose values change the prepared release and a batch
        manifest: the rules' params. ``source`` and ``dr`` are always included; :data:`EXECUTION_KEYS` never.
    fields
        ``fields(settings) -> [fieldid, ...]``: the batches, without network access.
    release_parent
        ``release_parent(settings, default_parent) -> directory`` holding ``<dr>/``; ``default_parent`` is
        where the workflow puts a release the config does not place (the demo's).
    fetch_batch
        ``fetch_batch(settings, release_root, fieldid, manifest) -> [paths]``: make one field's files present
        and verified under ``release_root`` (= ``<parent>/<dr>``) and write the batch manifest.
    prepare
        ``prepare(settings, release_root)``: write the release (``SIMULATE``, ``CONVERT``) or its index
        (``INDEX``); None for ``NONE``.
    prepare_rule
        Name of the workflow rule that runs ``prepare`` (names users know from logs and ``--until``).
    release_inputs
        ``release_inputs(settings) -> [files]`` the preparation reads (so that editing them reruns it).
    catalogs
        ``catalogs(release_parent) -> {name: catalog config}``: cross-match catalogs that come with the
        release (the demo's simulated SIMBAD/VSX/TNS), used when ``crossmatch.catalogs`` is empty.
    """

    name: str
    preparation: Preparation
    online: bool
    release_keys: tuple[str, ...]
    batch_keys: tuple[str, ...]
    fields: Callable[[SourceSettings], list[int]]
    release_parent: Callable[[SourceSettings, str], str]
    fetch_batch: Callable[[SourceSettings, Path, int, Path], list[Path]]
    prepare: Callable[[SourceSettings, Path], object] | None = None
    prepare_rule: str = "prepare_release"
    release_inputs: Callable[[SourceSettings], list[str]] = no_inputs
    catalogs: Callable[[str], dict[str, dict]] = no_catalogs

    def __post_init__(self) -> None:
        """Refuse inconsistent declarations early (a new source's mistakes show at import)."""
        if (self.prepare is None) != (self.preparation is Preparation.NONE):
            raise ValueError(
                f"source {self.name!r}: prepare must be given exactly when preparation is not NONE"
            )
        execution = sorted(set(self.release_keys + self.batch_keys) & set(EXECUTION_KEYS))
        if execution:
            raise ValueError(f"source {self.name!r}: {execution} are execution settings, not result keys")


def requested_fields(settings: SourceSettings, why: str) -> list[int]:
    """``fetch.fields`` (sorted, distinct); empty is an error explaining ``why`` the source needs them."""
    if not settings.fetch.fields:
        raise InputError(f"source is {settings.source!r} but fetch.fields is empty: {why}")
    return sorted({int(f) for f in settings.fetch.fields})


def chosen_fields(settings: SourceSettings, available: list[int], absent: str) -> list[int]:
    """``fetch.fields`` (each of which must be ``available``, else an error: they ``absent``), or every available field."""
    requested = [int(f) for f in settings.fetch.fields]
    missing = sorted(set(requested) - set(available))
    if missing:
        raise InputError(f"fetch.fields {missing} {absent}")
    return sorted(set(requested or available))


def cache_parent(settings: SourceSettings, default_parent: str) -> str:
    """``fetch.cache_dir``: where a mirror of IRSA's own files lives."""
    return settings.fetch.cache_dir


def converted_parent(settings: SourceSettings, default_parent: str) -> str:
    """``<fetch.cache_dir>/<source>``: converted answers are never byte-identical to IRSA's files, keep them apart."""
    return f"{settings.fetch.cache_dir.rstrip('/')}/{settings.source}"
