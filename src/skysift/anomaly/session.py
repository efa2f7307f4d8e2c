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

While the expert looks at a card, the refits to both possible answers run in the background
(:func:`~skysift.anomaly.engine.run_loop` ``prefetch``): the next card is ready when the answer comes.

Catalog knowledge (``anomaly.free_answers``, :mod:`skysift.anomaly.free`): sources of a common class
are known regulars from the start; they are never asked and never written to the labels file.
Personalised (``anomaly.personal``): only the expert's own answers (rows of every file whose ``expert`` is
them) are known and fitted, so ``skysift label --expert NAME`` continues NAME's model
(:mod:`skysift.anomaly.experts`).

``skysift label`` (:func:`label_command`) runs on a finished run without loading the release: the
saved model of the method, the candidate pool from its global top-K table and the pool's feature
rows (:mod:`skysift.anomaly.pool`). The pool is fixed by that table, so a resumed session sees the
same pool as long as the workflow was not rerun in between.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
from coniferest.label import Label

from skysift.anomaly.engine import Search, run_loop
from skysift.anomaly.free import free_answers, with_free_answers
from skysift.anomaly.labels import append_label, as_label, merge_labels, source_labels
from skysift.anomaly.sessionfiles import SessionFiles, read_session_files
from skysift.anomaly.settings import AnomalySettings

__all__ = ["ANSWERS", "label_session", "label_command", "run_search", "viewer_url"]

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


def _best_matches(paths: Iterable[str | Path], objectids: np.ndarray) -> pd.DataFrame:
    """Nearest catalog counterpart of ``objectids`` from the cross-match tables (empty if none)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    paths = [str(p) for p in paths]
    empty = pd.DataFrame(columns=["objectid", "catalog", "match_name", "match_type", "sep_arcsec"])
    if not paths:
        return empty
    df = ds.dataset(paths, format="parquet").to_table(filter=pc.field("objectid").isin(objectids)).to_pandas()
    if not len(df):
        return empty
    return df.sort_values(["objectid", "sep_arcsec"], kind="mergesort").drop_duplicates("objectid")


def label_session(
    search: Search,
    labels_file: str | Path,
    *,
    expert: str,
    dr: str,
    pool_size: int | None = None,
    other_label_files: Iterable[str | Path] = (),
    crossmatch: Iterable[str | Path] = (),
    lightcurve_dir: str | Path | None = None,
    budget: int | None = None,
    free: pd.DataFrame | None = None,
    personal: bool = False,
    stdin: TextIO,
    stdout: TextIO,
) -> int:
    """Run the session; returns the number of answers given in it (see the module docstring).

    Parameters
    ----------
    search
        The method over its candidates: a run's pool (:func:`skysift.anomaly.pool.pool_search`) or an
        in-memory :class:`~skysift.anomaly.engine.Search`.
    labels_file
        CSV file the answers are appended to (read first: a session resumes from it).
    expert
        Who answers (written with every answer).
    dr
        Data release of the viewer links (the config's ``dr``).
    pool_size
        ``anomaly.pool_size`` of an in-memory search (a run's pool is fixed by its search).
    other_label_files
        Other experts' labels files: their answers are known and never asked again.
    crossmatch
        Cross-match tables, for the nearest catalog counterpart on the card.
    lightcurve_dir
        Where the candidates stage drew ``lc_<objectid>.png`` (shown when present).
    budget
        Stop after this many answers (None = when every source has one).
    free
        Free answers (:func:`skysift.anomaly.free.free_answers`): known regulars, never asked, never
        written to ``labels_file``; an expert's answer about the same source wins.
    personal
        ``expert``'s own model: only ``expert``'s answers (in every file) are known and fitted.
    stdin, stdout
        Where answers are read and cards written.
    """
    labels_file = Path(labels_file)
    space = search.space
    files = [Path(p) for p in other_label_files if Path(p).resolve() != labels_file.resolve()]
    if labels_file.exists() and labels_file.stat().st_size:
        files.append(labels_file)
    experts = merge_labels(files, expert=expert if personal else None)
    free = free.loc[free["objectid"].isin(space.objectid)] if free is not None else None
    n_free = 0 if free is None else len(source_labels(space, free))
    known = source_labels(space, experts if free is None else with_free_answers(experts, free))
    method = search.method
    matches = _best_matches(crossmatch, space.objectid).set_index("objectid")
    ra = space.ra if space.ra is not None else np.full(space.n_rows, np.nan)
    dec = space.dec if space.dec is not None else np.full(space.n_rows, np.nan)
    own_model = f", {expert}'s own model" if personal else ""
    stdout.write(
        f"skysift label: method {method}{own_model}, "
        f"{len(known)} source(s) already answered ({n_free} by the catalogs), "
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
        pool_size=pool_size,
        prefetch=True,  # refit to both answers while the expert looks at the card
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


def run_search(
    files: SessionFiles,
    settings: AnomalySettings,
    *,
    method: str,
    labelled: Iterable[int] = (),
    n_jobs: int = 1,
) -> Search:
    """The search of a finished run's candidate pool for ``method`` (its model, top-K table and features)."""
    from skysift.anomaly.pool import load_pool, pool_search
    from skysift.anomaly.store import load_model, load_sample
    from skysift.io import InputError

    model = files.models.get(method)
    ranked = files.ranked.get(method)
    if model is None or ranked is None or not (model[0].exists() and model[1].exists() and ranked.exists()):
        raise InputError(
            f"the run has no {method} model or top-K table: add {method} to anomaly.compare (or make it "
            "anomaly.method) and run the workflow again"
        )
    features = [p for p in files.features if p.exists()]
    if not features:
        raise InputError("the run has no feature tables; run the workflow up to extract_features first")
    loaded = load_model(*model, n_jobs=n_jobs)
    sample = load_sample(*files.sample, loaded.preprocessors) if method == "pineforest" else None
    pool = load_pool(
        pd.read_parquet(ranked), features, loaded, pool_size=settings.pool_size, labelled=labelled
    )
    return pool_search(pool, loaded, sample=sample, n_jobs=n_jobs)


def label_command(
    labels: Path,
    expert: str,
    *,
    config_path: Path,
    schema: Path,
    session: Path,
    method: str | None = None,
    budget: int | None = None,
    threads: int = 1,
    stdin: TextIO,
    stdout: TextIO,
) -> int:
    """``skysift label``: the session on a finished run's candidate pool with the config's ``anomaly`` section.

    ``session`` is the run's session file (rule ``describe_label_session``): it names what the run wrote.
    With ``anomaly.free_answers.enabled`` the catalog-classified sources are known regulars (never asked,
    never written to ``labels``); with ``anomaly.personal`` the session continues ``expert``'s own model.
    """
    from skysift.config import load_config

    config = load_config(config_path, schema)
    settings = AnomalySettings.from_config(config["anomaly"])
    files = read_session_files(session)
    method = method or settings.search.method
    answered = [Path(p) for p in settings.labels if Path(p).resolve() != Path(labels).resolve()]
    if Path(labels).exists() and Path(labels).stat().st_size:
        answered.append(Path(labels))
    crossmatch = [p for p in files.crossmatch if p.exists()]
    free = free_answers(crossmatch, settings.free_answers)
    own = merge_labels(answered, expert=expert if settings.personal else None)
    labelled = np.union1d(own["objectid"].to_numpy(np.int64), free["objectid"].to_numpy(np.int64))
    search = run_search(files, settings, method=method, labelled=labelled, n_jobs=threads)
    return label_session(
        search,
        labels,
        expert=expert,
        dr=config["dr"],
        other_label_files=settings.labels,
        crossmatch=crossmatch,
        lightcurve_dir=files.lightcurve_dir,
        budget=budget,
        free=free,
        personal=settings.personal,
        stdin=stdin,
        stdout=stdout,
    )
