"""Personalised AAD: each expert's answers drive that expert's own model; ranked lists per expert, a consensus.

An expert's model is the run's model refitted to that expert's answers only (the rows of every labels
file whose ``expert`` column is the name: :func:`skysift.anomaly.labels.merge_labels` with ``expert``)
plus the free answers (:mod:`skysift.anomaly.free`). Refits depend only on the set of answers
(:mod:`skysift.anomaly.engine`), so two experts who gave the same answers have the same ranking, and
``skysift label --expert NAME`` with ``anomaly.personal`` continues exactly NAME's model.

:func:`expert_lists` ranks a search's rows for every expert (:data:`~skysift.anomaly.ranking.RANKED_COLUMNS`,
the label columns being that expert's answers with their provenance: expert, time, file:line).
:func:`consensus_list` combines them: one row per objectid, sources ordered by their mean rank over
the experts (ties: more "anomaly" votes, then the source id), with every expert's rank and answer.
:func:`run_rank_expert_anomalies` is the ``rank_expert_anomalies`` rule on a run's candidate pool.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from skysift.anomaly.engine import Search
from skysift.anomaly.free import free_answers, with_free_answers
from skysift.anomaly.labels import merge_labels, read_labels, source_labels
from skysift.anomaly.ranking import ranked_list
from skysift.anomaly.settings import AnomalySettings
from skysift.io import atomic_path, write_parquet_df

__all__ = ["expert_names", "expert_labels", "expert_lists", "consensus_list", "run_rank_expert_anomalies"]

logger = logging.getLogger(__name__)


def expert_names(label_files: Sequence[str | Path]) -> list[str]:
    """The experts (non-empty ``expert`` values) of the labels files, sorted."""
    names: set[str] = set()
    for path in label_files:
        names.update(n for n in read_labels(path)["expert"] if n)
    return sorted(names)


def expert_labels(
    label_files: Sequence[str | Path], expert: str, free: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``expert``'s merged answers (every file) plus the free answers their own answers do not override."""
    own = merge_labels(label_files, expert=expert)
    return own if free is None else with_free_answers(own, free)


def expert_lists(
    search: Search,
    label_files: Sequence[str | Path],
    *,
    experts: Sequence[str] | None = None,
    free: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Expert -> the rows of ``search`` ranked by that expert's model (module docstring).

    ``experts``: whose lists (default: every expert of the files).
    """
    names = list(experts) if experts is not None else expert_names(label_files)
    space = search.space
    if free is not None:
        free = free.loc[free["objectid"].isin(space.objectid)]
    out = {}
    for name in names:
        labels = expert_labels(label_files, name, free)
        labels = labels.loc[labels["objectid"].isin(space.objectid)]
        known = source_labels(space, labels)
        out[name] = ranked_list(search, labels, known).assign(expert=name)
        logger.info(
            "%s: %d answer(s) known, top 3 %s", name, len(known), out[name]["objectid"].head(3).tolist()
        )
    return out


def _source_ranks(ranked: pd.DataFrame) -> pd.Series:
    """Source id -> its rank (1 = first source of the list)."""
    first = ranked.drop_duplicates("source_id")
    return pd.Series(np.arange(1, len(first) + 1), index=first["source_id"].to_numpy(np.int64))


def consensus_list(lists: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One list from the experts' lists: sources by mean rank over the experts (module docstring).

    Columns: objectid, filterid, source_id, consensus_rank (1..), mean_rank (of the source over the
    experts), votes_anomaly, votes_regular (the experts' answers about the source), ranks ("name:rank"
    per expert), answers ("name:label@time (file:line)" per expert who answered), known_class.
    """
    if not lists:
        raise ValueError("consensus_list: no expert lists (no labels file names an expert)")
    names = list(lists)
    base = next(iter(lists.values()))
    ranks = pd.DataFrame({n: _source_ranks(lists[n]) for n in names})
    rows = base[["objectid", "filterid", "source_id", "known_class"]].copy()
    per_source_answer = {}
    for n in names:
        lab = lists[n].loc[lists[n]["label_expert"] == n]
        per_source_answer[n] = lab.drop_duplicates("source_id").set_index("source_id")
    sid = rows["source_id"].to_numpy(np.int64)
    rows["mean_rank"] = ranks.mean(axis=1).reindex(sid).to_numpy()
    votes = {
        value: sum(
            (a["label"] == value).reindex(sid).fillna(False).to_numpy(bool)
            for a in per_source_answer.values()
        )
        for value in ("anomaly", "regular")
    }
    rows["votes_anomaly"] = np.asarray(votes["anomaly"], dtype=np.int64)
    rows["votes_regular"] = np.asarray(votes["regular"], dtype=np.int64)
    rows["ranks"] = [" ".join(f"{n}:{int(ranks.at[s, n])}" for n in names) for s in sid]
    text = {
        n: (a["label"] + "@" + a["label_time"].astype(str) + " (" + a["label_origin"].astype(str) + ")")
        for n, a in per_source_answer.items()
    }
    rows["answers"] = ["; ".join(f"{n}:{text[n][s]}" for n in names if s in text[n].index) for s in sid]
    order = np.lexsort(
        (rows["objectid"].to_numpy(), sid, -rows["votes_anomaly"].to_numpy(), rows["mean_rank"].to_numpy())
    )
    out = rows.iloc[order].reset_index(drop=True)
    first = out.drop_duplicates("source_id")["source_id"].to_numpy(np.int64)
    out["consensus_rank"] = (
        pd.Series(np.arange(1, len(first) + 1), index=first).reindex(out["source_id"]).to_numpy()
    )
    cols = ["objectid", "filterid", "source_id", "consensus_rank", "mean_rank", "votes_anomaly", "votes_regular",
            "ranks", "answers", "known_class"]  # fmt: skip
    return out.loc[:, cols]


def run_rank_expert_anomalies(
    files: object,
    settings: AnomalySettings,
    *,
    label_files: Sequence[str | Path],
    experts: str | Path,
    consensus: str | Path,
    consensus_csv: str | Path,
    top_n: int | None = None,
    n_jobs: int = 1,
) -> dict[str, pd.DataFrame]:
    """The ``rank_expert_anomalies`` rule: per-expert lists of the primary method's candidate pool and a consensus.

    ``files`` is the run's :class:`~skysift.anomaly.sessionfiles.SessionFiles`; ``experts`` gets every
    expert's list (one parquet table, column ``expert``), ``consensus`` / ``consensus_csv`` the consensus
    (every row / its first ``top_n`` rows).
    """
    from skysift.anomaly.session import run_search

    crossmatch = [p for p in files.crossmatch if Path(p).exists()]
    free = free_answers(crossmatch, settings.free_answers)
    merged = merge_labels(label_files)
    labelled = np.union1d(merged["objectid"].to_numpy(np.int64), free["objectid"].to_numpy(np.int64))
    search = run_search(files, settings, method=settings.search.method, labelled=labelled, n_jobs=n_jobs)
    lists = expert_lists(search, label_files, free=free)
    if not lists:
        logger.warning("no labels file names an expert: the lists are the run's model without answers")
        lists = {"": ranked_list(search, free, source_labels(search.space, free)).assign(expert="")}
    table = consensus_list(lists)
    write_parquet_df(pd.concat(lists.values(), ignore_index=True), experts)
    write_parquet_df(table, consensus)
    with atomic_path(Path(consensus_csv)) as tmp:
        table.head(top_n or len(table)).to_csv(tmp, index=False)
    return lists
