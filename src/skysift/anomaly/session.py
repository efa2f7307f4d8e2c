"""``skysift label``: an expert-in-the-loop session in the terminal, crash-safe and resumable.

The session shows the best-ranked source without an answer (its objectids, position, scores,
the features that drove them, nearest catalog counterpart, light-curve PNG if the candidates
stage drew one, SNAD viewer link) and reads one answer per line:

``y`` anomaly, ``n`` regular, ``s``/``skip`` unknown (not asked again, not fitted), ``q``/``quit``
(or end of input) stops. Anything else is asked again.

Every answer is appended to the labels file at once (one line per answer, ``fsync``-ed:
:func:`skysift.anomaly.labels.append_label`) for the source's first-shown objectid. At start the
session reads that file and the other experts' files (``anomaly.labels``) as answers already
given; since each refit depends only on the set of answers (:mod:`skysift.anomaly.engine`), a
session resumed after ``q``, a crash or ``kill -9`` asks exactly the questions an uninterrupted
session would have asked next. Reading from stdin makes it scriptable (and testable).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
from coniferest.label import Label

from skysift.anomaly.engine import Search, run_loop
from skysift.anomaly.labels import append_label, as_label, merge_labels, source_labels
from skysift.anomaly.settings import AnomalySettings
from skysift.anomaly.space import build_space
from skysift.features.table import as_features_frame

__all__ = ["ANSWERS", "label_session", "label_command", "viewer_url"]

logger = logging.getLogger(__name__)

#: Accepted answers -> label value (None = stop).
ANSWERS: dict[str, str | None] = {
    "y": "anomaly",
    "yes": "anomaly",
    "n": "regular",
    "no": "regular",
    "s": "unknown",
    "skip": "unknown",
    "q": None,
    "quit": None,
}


def viewer_url(dr: str, objectid: int) -> str:
    """The SNAD ZTF viewer page of an object."""
    return f"https://ztf.snad.space/{dr}/view/{int(objectid)}"


def _best_matches(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Nearest catalog counterpart per objectid from the cross-match tables (empty if none)."""
    frames = [pd.read_parquet(p) for p in paths]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["objectid", "catalog", "match_name", "match_type", "sep_arcsec"])
    df = pd.concat(frames, ignore_index=True).sort_values(["objectid", "sep_arcsec"], kind="mergesort")
    return df.drop_duplicates("objectid")


def label_session(
    features: pd.DataFrame | str | Path | Iterable[str | Path],
    labels_file: str | Path,
    *,
    expert: str,
    settings: AnomalySettings,
    dr: str,
    other_label_files: Iterable[str | Path] = (),
    crossmatch: Iterable[str | Path] = (),
    lightcurve_dir: str | Path | None = None,
    budget: int | None = None,
    stdin: TextIO,
    stdout: TextIO,
    n_jobs: int = 1,
) -> int:
    """Run the session; returns the number of answers given in it (see the module docstring).

    Parameters
    ----------
    features
        Feature table(s): a DataFrame or parquet path(s).
    labels_file
        CSV file the answers are appended to (read first: a session resumes from it).
    expert
        Who answers (written with every answer).
    settings
        The ``anomaly`` section: method, seed, space, detectors and the candidate pool.
    dr
        Data release of the viewer links (the config's ``dr``).
    other_label_files
        Other experts' labels files: their answers are known and never asked again.
    crossmatch
        Cross-match tables, for the nearest catalog counterpart on the card.
    lightcurve_dir
        Where the candidates stage drew ``lc_<objectid>.png`` (shown when present).
    budget
        Stop after this many answers (None = when every source has one).
    stdin, stdout
        Where answers are read and cards written.
    n_jobs
        Threads of the forests.
    """
    labels_file = Path(labels_file)
    df = as_features_frame(features).reset_index(drop=True)
    search_settings = settings.search
    space = build_space(df, search_settings.space)
    files = [Path(p) for p in other_label_files if Path(p).resolve() != labels_file.resolve()]
    if labels_file.exists() and labels_file.stat().st_size:
        files.append(labels_file)
    known = source_labels(space, merge_labels(files))
    method = search_settings.method
    search = Search(
        space, method, search_settings.detectors, seed=search_settings.random_state, n_jobs=n_jobs
    )
    matches = _best_matches(crossmatch).set_index("objectid")
    ra = df["ra"].to_numpy() if "ra" in df else np.full(len(df), np.nan)
    dec = df["dec"].to_numpy() if "dec" in df else np.full(len(df), np.nan)
    stdout.write(
        f"skysift label: method {method}, {len(known)} source(s) already answered, "
        f"answers go to {labels_file}\n  y = anomaly, n = regular, s = skip (unknown), q = quit\n"
    )
    n_given = 0

    def decide(source: int, scores: np.ndarray) -> Label | None:
        nonlocal n_given
        rows = np.flatnonzero(space.source_id == source)
        pct, source_score = search.combine(scores)
        rows = rows[np.argsort(-np.nan_to_num(pct[rows], nan=-1.0), kind="stable")]
        lines = [f"\n#{len(known) + n_given + 1}  source {source}  score {source_score[rows[0]]:.4f}"]
        for r in rows:
            oid = int(space.objectid[r])
            lines.append(
                f"  objectid {oid}  band {int(space.filterid[r])}  ra {ra[r]:.6f}  dec {dec[r]:.6f}  "
                f"{method} {scores[r]:.4g}  band percentile {pct[r]:.4f}"
            )
            lines.append(f"    drivers: {_drivers(search, r)}")
            if oid in matches.index:
                m = matches.loc[oid]
                lines.append(
                    f'    nearest match: {m["catalog"]} {m["match_name"]} ({m["match_type"]}) {m["sep_arcsec"]:.2f}"'
                )
            if lightcurve_dir is not None and (Path(lightcurve_dir) / f"lc_{oid}.png").exists():
                lines.append(f"    light curve: {Path(lightcurve_dir) / f'lc_{oid}.png'}")
            lines.append(f"    viewer: {viewer_url(dr, oid)}")
        stdout.write("\n".join(lines) + "\n")
        while True:
            stdout.write("anomaly? [y/n/s/q] ")
            stdout.flush()
            line = stdin.readline()
            if not line:  # end of input: stop like q
                stdout.write("\n")
                return None
            answer = line.strip().lower()
            if answer in ANSWERS:
                break
            stdout.write(f"  {answer!r}: answer y, n, s or q\n")
        label = ANSWERS[answer]
        if label is None:
            return None
        append_label(labels_file, int(space.objectid[rows[0]]), label, expert)
        n_given += 1
        return as_label(label)

    steps = run_loop(
        search,
        decide,
        budget=budget if budget is not None else len(search.sources),
        known=known,
        pool_size=settings.pool_size,
    )
    stdout.write(f"{len(steps)} answer(s) saved to {labels_file}\n")
    return len(steps)


def _drivers(search: Search, row: int) -> str:
    """The three features that drove one row's score, for the card."""
    space = search.space
    for band, detector in search.detectors.items():
        local = np.flatnonzero(space.band_rows[band] == row)
        if len(local):
            sig = detector.signature(local)[0]
            top = np.argsort(sig, kind="stable")[:3]
            return ", ".join(f"{space.feature_names[j]} ({sig[j]:.3g})" for j in top)
    return "-"


def label_command(
    labels: Path,
    expert: str,
    *,
    config_path: Path,
    schema: Path,
    results: Path,
    method: str | None = None,
    budget: int | None = None,
    stdin: TextIO,
    stdout: TextIO,
) -> int:
    """``skysift label``: the session on a finished run's features with the config's ``anomaly`` section."""
    from skysift.config import load_config
    from skysift.io import InputError

    config = load_config(config_path, schema)
    settings = AnomalySettings.from_config(config["anomaly"])
    if method:
        settings = dataclasses.replace(settings, search=dataclasses.replace(settings.search, method=method))
    features = sorted((results / "features").glob("field*.parquet"))
    if not features:
        raise InputError(
            f"no feature tables in {results / 'features'}; run the workflow up to extract_features first"
        )
    return label_session(
        features,
        labels,
        expert=expert,
        settings=settings,
        dr=config["dr"],
        other_label_files=settings.labels,
        crossmatch=sorted((results / "crossmatch").glob("field*.parquet")),
        lightcurve_dir=results / "candidates" / "lightcurves",
        budget=budget,
        stdin=stdin,
        stdout=stdout,
    )
