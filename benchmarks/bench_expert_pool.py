"""The expert's wait per answer in `skysift label` with a pool from the global top-K of a large release.

    .venv/bin/python benchmarks/bench_expert_pool.py --objects 10000000 --batches 100 --answers 30

A synthetic release: ``--objects`` scored rows (g and r rows of ``objects/2`` sources) in ``--batches``
per-batch scores tables with synthetic scores (what score_anomalies writes), merged into the global
top-K by the real merge (:func:`skysift.anomaly.merge_top_k`, ``anomaly.top_k`` rows). The models are
fitted (:func:`skysift.anomaly.run_fit_anomaly_model`, the schema's default detector settings) on a
synthetic fit sample of ``anomaly.fit_sample`` rows x ``--features`` features; the feature tables hold
the rows of the top-K (the only rows a session reads: its pool and labelled objects). Then, per method,
the real session (:func:`skysift.anomaly.run_search` + :func:`skysift.anomaly.label_session`) takes its
pool (``anomaly.pool_size`` sources) from the top-K and is answered by a script; the wait per answer
is the time from one answer to the next card (refit, rescoring, ranking, the card with its drivers,
the answer's fsync), read from the times the session asks for input and gets its answer. The
scripted expert looks at each card for ``--think`` seconds (the session refits to both possible
answers meanwhile; 0 = answers at once, the worst case); ``--threads`` as ``skysift label --threads``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd


def synthetic_features(objectid: np.ndarray, n_features: int, odd: bool) -> pd.DataFrame:
    """Feature rows of objectids (deterministic per id): Gaussian, or shifted in a few features if ``odd``."""
    rng = np.random.default_rng(int(objectid.sum() % 2**32))
    X = rng.normal(size=(len(objectid), n_features))
    if odd:
        cols = rng.integers(0, n_features, size=(len(objectid), 3))
        np.put_along_axis(X, cols, np.take_along_axis(X, cols, 1) + rng.choice([-6.0, 6.0], cols.shape), 1)
    df = pd.DataFrame(X.astype(np.float32), columns=[f"f{j}" for j in range(n_features)])
    df.insert(0, "objectid", objectid)
    df.insert(1, "filterid", (1 + (objectid // 10**11) % 10).astype(np.int8))
    df.insert(2, "fieldid", (objectid // 10**12).astype(np.int16))
    index = (objectid % 10**11).astype(np.float64)  # the source's index: g and r rows share a position
    df.insert(3, "ra", (index * 1e-3) % 360.0)  # 3.6" apart: one source per index
    df.insert(4, "dec", -30.0 + np.floor(index * 1e-3 / 360.0) * 1e-3)
    return df


def batch_scores(field: int, n_rows: int, rng: np.random.Generator, method: str) -> pd.DataFrame:
    """A per-batch scores table of synthetic scores: g/r row pairs of one source, in rank order."""
    from skysift.anomaly import BATCH_COLUMNS
    from skysift.anomaly.ranking import rank_order

    n_src = n_rows // 2
    s = np.arange(n_src, dtype=np.int64)
    oid = np.concatenate([field * 10**12 + 1 * 10**11 + s, field * 10**12 + 2 * 10**11 + s])
    source = np.concatenate([oid[:n_src], oid[:n_src]])
    pct = rng.random(2 * n_src)
    best = np.maximum(pct[:n_src], pct[n_src:])
    df = pd.DataFrame({"objectid": oid, "filterid": np.repeat(np.array([1, 2], np.int8), n_src),
                       "anomaly_score": np.concatenate([best, best]), "batch_rank": 0, "source_id": source,
                       "method": method, "method_score": pct, "band_percentile": pct, "drivers": "", "label": "",
                       "label_expert": "", "label_time": "", "label_origin": "", "label_conflict": False,
                       "source_excess": 0.0, "source_regular": False})  # fmt: skip
    order = rank_order(oid, pct, df["anomaly_score"].to_numpy(), np.zeros(len(df), bool), np.zeros(len(df)))
    df = df.iloc[order].reset_index(drop=True)
    df["batch_rank"] = np.arange(1, len(df) + 1)
    return df.loc[:, list(BATCH_COLUMNS)]


class TimedAnswers(io.TextIOBase):
    """stdin of the session: answers y/n (seeded), and the time at which each was asked for."""

    def __init__(self, n: int, think: float, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.think = think
        self.answers = ["y\n" if a else "n\n" for a in rng.random(n) < 0.3] + ["q\n"]
        self.asked: list[float] = []
        self.answered: list[float] = []
        self.cpu: list[float] = []

    def readline(self, size: int = -1) -> str:  # noqa: ARG002 - TextIO signature
        self.asked.append(time.perf_counter())
        self.cpu.append(time.process_time())
        time.sleep(self.think)  # the expert looks at the card
        self.answered.append(time.perf_counter())
        return self.answers[len(self.asked) - 1] if len(self.asked) <= len(self.answers) else ""


def main() -> None:
    """Build the release, merge, fit, and time the sessions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000_000, help="scored rows of the release")
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--features", type=int, default=36)
    parser.add_argument("--answers", type=int, default=30)
    parser.add_argument("--methods", default="aad,pineforest,isoforest")
    parser.add_argument("--threads", type=int, default=2, help="as skysift label --threads")
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds the scripted expert looks at a card"
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench_expert_pool"))
    args = parser.parse_args()

    from skysift.anomaly import (
        AnomalySettings,
        FitSettings,
        SessionFiles,
        label_session,
        merge_top_k,
        run_fit_anomaly_model,
        run_search,
    )
    from skysift.config import default_config

    methods = args.methods.split(",")
    section = {**default_config()["anomaly"], "method": methods[0], "compare": methods[1:]}
    settings = AnomalySettings.from_config(section)
    results = args.workdir / "results"
    print(f"{args.objects} rows in {args.batches} batches; top_k {section['top_k']}, pool_size "
          f"{section['pool_size']}, fit_sample {section['fit_sample']}, n_trees {section['n_trees']}, "
          f"{args.features} features; load {os.getloadavg()[0]:.1f}")  # fmt: skip

    rng = np.random.default_rng(0)
    per_batch = args.objects // args.batches
    paths = []
    start = time.perf_counter()
    for b in range(args.batches):
        path = results / "anomaly/scores/synthetic" / f"field{b + 1:06d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            batch_scores(b + 1, per_batch, rng, methods[0]).to_parquet(path)
        paths.append(path)
    print(f"per-batch tables written: {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    top = merge_top_k(paths, section["top_k"])
    print(f"merge_top_k of {args.objects} rows -> {len(top)}: {time.perf_counter() - start:.1f} s, "
          f"process peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip

    # the fit sample and the top-K rows' features, then the models
    half = np.arange(10**6, 10**6 + section["fit_sample"] // 2, dtype=np.int64)
    sample_ids = np.concatenate([1999 * 10**12 + 1 * 10**11 + half, 1999 * 10**12 + 2 * 10**11 + half])
    fit_dir = args.workdir / "fit"
    fit_dir.mkdir(parents=True, exist_ok=True)
    sample_file = fit_dir / "field001999.parquet"
    synthetic_features(sample_ids, args.features, odd=False).to_parquet(sample_file)
    model_dir = results / "anomaly/model"
    start = time.perf_counter()
    run_fit_anomaly_model([sample_file], FitSettings.from_config(section),
                          models=[(model_dir / f"{m}.npz", model_dir / f"{m}.json") for m in methods],
                          sample=(model_dir / "sample.npz", model_dir / "sample.json"),
                          labels=model_dir / "labels.parquet")  # fmt: skip
    print(f"models fitted on {len(sample_ids)} rows: {time.perf_counter() - start:.1f} s")
    (results / "features").mkdir(parents=True, exist_ok=True)
    for field, rows in top.groupby(top["objectid"] // 10**12):
        feats = synthetic_features(np.sort(rows["objectid"].to_numpy(np.int64)), args.features, odd=True)
        feats.to_parquet(results / "features" / f"field{int(field):06d}.parquet")
    (results / "anomaly/ranked").mkdir(parents=True, exist_ok=True)
    for m in methods:
        top.assign(method=m).to_parquet(results / "anomaly/ranked" / f"{m}.parquet")

    session = SessionFiles(
        models={m: (model_dir / f"{m}.npz", model_dir / f"{m}.json") for m in methods},
        ranked={m: results / "anomaly/ranked" / f"{m}.parquet" for m in methods},
        sample=(model_dir / "sample.npz", model_dir / "sample.json"),
        features=tuple(sorted((results / "features").glob("field*.parquet"))),
        crossmatch=(),
        lightcurve_dir=results / "candidates" / "lightcurves",
    )
    report = {}
    for m in methods:
        labels = args.workdir / f"answers_{m}.csv"
        labels.unlink(missing_ok=True)
        start = time.perf_counter()
        search = run_search(session, settings, method=m, n_jobs=args.threads)
        startup = time.perf_counter() - start
        answers = TimedAnswers(args.answers, args.think)
        label_session(search, labels, expert="bench", dr="dr24", budget=args.answers, stdin=answers,
                      stdout=io.StringIO())  # fmt: skip
        search = None
        # from an answer to the next card
        waits = (np.array(answers.asked[1:]) - np.array(answers.answered[:-1]))[: args.answers - 1]
        cpu = np.diff(answers.cpu)[: args.answers - 1]  # CPU of all threads of the process, per answer
        report[m] = {"startup_s": startup, "median_s": float(np.median(waits)), "p90_s": float(np.quantile(waits, 0.9)),
                     "max_s": float(waits.max()), "cpu_median_s": float(np.median(cpu)), "answers": len(waits) + 1}  # fmt: skip
        print(f"{m:<11} session start {startup:6.2f} s; wait per answer median {report[m]['median_s']:.3f} s, "
              f"p90 {report[m]['p90_s']:.3f} s, max {report[m]['max_s']:.3f} s, CPU median {np.median(cpu):.3f} s "
              f"over {len(waits)} answers; load {os.getloadavg()[0]:.1f}")  # fmt: skip
    (args.workdir / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
