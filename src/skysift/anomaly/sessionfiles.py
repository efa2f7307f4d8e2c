"""The files of a finished run that ``skysift label`` reads, as the workflow's rule files name them.

Result paths are spelled only in the rule files: rule ``describe_label_session`` writes them into one small
JSON file (:func:`run_describe_label_session`) and ``skysift label --session <that file>`` reads it
(:func:`read_session_files`). Paths are stored relative to the JSON file's directory, so a results tree
moved or copied as a whole still works, from any working directory.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from skysift.io import InputError, PathLike, atomic_path

__all__ = [
    "model_pairs",
    "SessionFiles",
    "read_session_files",
    "write_session_files",
    "run_describe_label_session",
]

logger = logging.getLogger(__name__)


def model_pairs(paths: Sequence[PathLike]) -> list[tuple[Path, Path]]:
    """The (npz, json) file pairs of the saved models, from a rule's flat ``models`` input (npz, json, npz, ...)."""
    paths = [Path(p) for p in paths]
    return list(zip(paths[::2], paths[1::2], strict=True))


@dataclass(frozen=True)
class SessionFiles:
    """What an expert session reads: each method's model (npz, json) and top-K table, the fit sample
    (npz, json), the feature tables, the cross-match tables and the candidates' light-curve PNG directory."""

    models: Mapping[str, tuple[Path, Path]]
    ranked: Mapping[str, Path]
    sample: tuple[Path, Path]
    features: tuple[Path, ...]
    crossmatch: tuple[Path, ...]
    lightcurve_dir: Path


def write_session_files(files: SessionFiles, output: PathLike) -> Path:
    """Write ``files`` as JSON to ``output`` (atomically), each path relative to ``output``'s directory."""
    base = Path(output).absolute().parent

    def rel(path: PathLike) -> str:
        return os.path.relpath(Path(path).absolute(), base)

    doc = {
        "models": {m: [rel(npz), rel(meta)] for m, (npz, meta) in files.models.items()},
        "ranked": {m: rel(path) for m, path in files.ranked.items()},
        "sample": [rel(p) for p in files.sample],
        "features": [rel(p) for p in files.features],
        "crossmatch": [rel(p) for p in files.crossmatch],
        "lightcurve_dir": rel(files.lightcurve_dir),
    }
    with atomic_path(output) as tmp:
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
    return Path(output)


def read_session_files(path: PathLike) -> SessionFiles:
    """The :class:`SessionFiles` written by :func:`write_session_files` (paths resolved against its directory)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: no such session file; give --session the run's anomaly session file (rule "
            "describe_label_session writes it: run the workflow first)"
        )

    def at(rel: str) -> Path:
        return Path(os.path.normpath(path.parent / rel))

    try:
        doc = json.loads(path.read_text())
        return SessionFiles(
            models={m: (at(npz), at(meta)) for m, (npz, meta) in doc["models"].items()},
            ranked={m: at(p) for m, p in doc["ranked"].items()},
            sample=(at(doc["sample"][0]), at(doc["sample"][1])),
            features=tuple(at(p) for p in doc["features"]),
            crossmatch=tuple(at(p) for p in doc["crossmatch"]),
            lightcurve_dir=at(doc["lightcurve_dir"]),
        )
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise InputError(
            f"{path}: not a session file of skysift ({exc!r}); rerun the workflow to rewrite it"
        ) from exc


def run_describe_label_session(
    methods: Sequence[str],
    models: Sequence[PathLike],
    sample: Sequence[PathLike],
    ranked: Sequence[PathLike],
    features: Sequence[PathLike],
    crossmatch: Sequence[PathLike],
    lightcurve_dir: PathLike,
    output: PathLike,
) -> Path:
    """Rule ``describe_label_session``: ``models`` are (npz, json) per method in ``methods`` order, ``ranked``
    one top-K table per method; write the session file ``output``."""
    models = [Path(p) for p in models]
    files = SessionFiles(
        models=dict(zip(methods, model_pairs(models), strict=True)),
        ranked=dict(zip(methods, (Path(p) for p in ranked), strict=True)),
        sample=(Path(sample[0]), Path(sample[1])),
        features=tuple(Path(p) for p in features),
        crossmatch=tuple(Path(p) for p in crossmatch),
        lightcurve_dir=Path(lightcurve_dir),
    )
    logger.info("session of %s: %d feature table(s) -> %s", ", ".join(methods), len(files.features), output)
    return write_session_files(files, output)
