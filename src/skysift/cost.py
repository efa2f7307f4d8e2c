"""How big a run is: scale a finished run's Snakemake benchmark files to a target release (``skysift cost``).

A finished run leaves one benchmark file per job (``results/benchmarks/<rule>/<batch>.tsv`` for a
per-batch rule, ``results/benchmarks/<rule>.tsv`` for a release-wide one; columns ``s``, ``max_rss``
(MB), ``cpu_time`` (s)). :func:`measure_run` reads them with the run's sizes: batches (fetch manifests),
light curves (rows of the DR files the manifests list, read from the parquet footers), feature rows and
bytes on disk. :func:`predict` scales them to a release of ``fields`` batches and ``lightcurves`` light
curves under these assumptions (also printed with every estimate, see :data:`ASSUMPTIONS`):

- every job has a fixed part (the interpreter and its imports): the smallest CPU time, wall time and
  peak RSS of any job of the run; only the rest scales;
- a per-batch rule runs one job per field; the variable part of its CPU time, wall time and peak
  memory grows linearly with the light curves per batch;
- a release-wide rule scales with what it reads (:data:`RELEASE_SCALING`): the anomaly fit with its
  sample (``min(anomaly.fit_sample, feature rows)``), the merges (rank_anomalies, the feature view)
  with the number of batches at constant memory, the main classifier with its training labels
  (``min(classify.max_train_rows, labelled objects)``, the labelled objects a constant fraction of the
  light curves; the measured run's count is read from ``classify/metrics.json``), the early SN Ia
  classifier with the light curves, active learning (a label budget), the kilonova classifier (trained on
  kilonovae it simulates), the plots and the bundle (bounded by the candidate lists) not at all, any other release-wide rule with the number of batches;
- disk (mirror = the DR files of the manifests, clean, features, anomaly scores) grows linearly with
  the light curves;
- wall time: a rule's jobs run in waves of ``nodes * cores // threads`` jobs (threads per job = its
  measured CPU time / wall time, at least 1); rules run one after the other (Snakemake overlaps
  stages, so this is an upper bound) with no queue waiting.

The measured run should be a few fields of the same kind of data (the demo survey is not a DR: its
light curves per field, epochs per light curve and labelled fraction are the demo's).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from skysift.io import InputError

__all__ = [
    "ASSUMPTIONS",
    "Estimate",
    "RELEASE_SCALING",
    "RunMeasure",
    "format_estimate",
    "measure_run",
    "predict",
]

#: How a release-wide rule's CPU and memory scale: "fit_sample", "labels" (the capped training labels),
#: "batches" (memory constant), "lightcurves",
#: "fixed" (active learning: a fixed label budget; the kilonova classifier: trained on kilonovae it simulates;
#: plots and the bundle: bounded by candidates.max_plots and the lists' top_n).
RELEASE_SCALING = {
    "fit_anomaly_model": "fit_sample",
    "rank_anomalies": "batches",
    "combine_features": "batches",
    "train_classifier": "labels",
    "train_kilonova": "fixed",
    "train_early_snia": "lightcurves",
    "run_active_learning": "fixed",
    "evaluate_anomalies": "lightcurves",
    "simulate_survey": "lightcurves",
    "plot_candidates": "fixed",
    "publish_candidates": "fixed",
}

#: The assumptions printed with every estimate.
ASSUMPTIONS = (
    "every job has a fixed part (the interpreter and its imports) = the smallest CPU time, wall time and peak "
    "RSS of any measured job; only the rest scales",
    "per-batch rules: one job per field; the variable part of CPU, wall time and peak memory grows linearly "
    "with light curves per field",
    "fit_anomaly_model scales with its sample min(anomaly.fit_sample, feature rows); rank_anomalies and "
    "combine_features with the number of batches at constant memory; train_classifier with its training labels "
    "min(classify.max_train_rows, labelled objects), the labelled objects a constant fraction of the light "
    "curves; train_early_snia and simulate_survey with the light curves; run_active_learning (a label budget), train_kilonova (its "
    "own simulated training set), plot_candidates and publish_candidates (bounded by the lists) stay constant; other release-wide rules with the number of batches",
    "disk (mirror, clean, features, anomaly) grows linearly with the light curves",
    "wall time: jobs in waves of nodes*cores//threads (threads = measured CPU/wall, >= 1); rules in series, "
    "no queue wait (an upper bound on a dedicated allocation)",
    "the measured run stands for the target data: light curves per field, epochs per light curve and "
    "labelled fraction are the measured run's",
)

#: Result directories whose size is reported (besides the raw DR files of the manifests).
DISK_DIRS = ("clean", "features", "anomaly")


@dataclass
class RunMeasure:
    """What a finished run measured: sizes and every benchmark row per rule."""

    batches: int
    lightcurves: int
    feature_rows: int
    disk: dict[str, int]
    #: rule -> (per_batch, [(s, max_rss MB, cpu_time s), ...])
    rules: dict[str, tuple[bool, list[tuple[float, float, float]]]]
    #: labelled objects the classifier had (classify/metrics.json), None when it was not trained
    labelled: int | None = None


@dataclass
class RuleEstimate:
    """The prediction for one rule at the target release."""

    rule: str
    scaling: str
    jobs: int
    cpu_s: float
    peak_mb: float
    wall_s: float


@dataclass
class Estimate:
    """The prediction for a release: per rule, disk, and the target it was made for."""

    fields: int
    lightcurves: int
    nodes: int
    cores: int
    fit_sample: int
    max_train_rows: int | None = None
    rules: list[RuleEstimate] = field(default_factory=list)
    disk: dict[str, float] = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        """Total CPU seconds over every rule."""
        return sum(r.cpu_s for r in self.rules)

    @property
    def wall_s(self) -> float:
        """Wall time with the rules one after the other."""
        return sum(r.wall_s for r in self.rules)


def _read_benchmark(path: Path) -> tuple[float, float, float]:
    """(s, max_rss MB, cpu_time s) of a Snakemake benchmark file (its last row: the last repeat)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows:
        raise InputError(f"{path}: empty benchmark file; rerun the rule or delete the file")
    try:
        row = rows[-1]
        values = [row["s"], row["max_rss"], row["cpu_time"]]
        s, rss, cpu = (float(v) if v not in ("", "NA", "-") else 0.0 for v in values)
    except (KeyError, ValueError) as exc:
        raise InputError(
            f"{path}: not a Snakemake benchmark file (columns s, max_rss, cpu_time): {exc}"
        ) from exc
    return s, rss, cpu


def _dir_bytes(path: Path) -> int:
    """Bytes of the regular files under ``path`` (0 if it does not exist)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def measure_run(results: str | Path) -> RunMeasure:
    """Read a finished run's benchmark files and sizes from its results directory."""
    import pyarrow.parquet as pq

    results = Path(results)
    manifests = sorted((results / "fetch").glob("*.tsv"))
    bench = results / "benchmarks"
    if not manifests or not bench.is_dir():
        raise InputError(
            f"{results}: no fetch manifests (fetch/*.tsv) or benchmarks/ directory; point --results at the "
            "results directory of a finished run"
        )
    lightcurves, raw_bytes = 0, 0
    for manifest in manifests:
        with open(manifest, newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                path = Path(row["path"])
                if not path.exists():
                    raise InputError(
                        f"{manifest}: lists {path}, which is gone; the light curves cannot be counted"
                    )
                lightcurves += pq.ParquetFile(path).metadata.num_rows
                raw_bytes += int(row.get("bytes") or path.stat().st_size)
    feature_rows = sum(pq.ParquetFile(p).metadata.num_rows for p in (results / "features").glob("*.parquet"))
    rules: dict[str, tuple[bool, list[tuple[float, float, float]]]] = {}
    batches = {m.stem for m in manifests}
    for entry in sorted(bench.iterdir()):
        files = sorted(entry.glob("*.tsv")) if entry.is_dir() else [entry] if entry.suffix == ".tsv" else []
        if files:  # a rule's directory of per-batch files, or one file (in its own directory or not)
            per_batch = entry.is_dir() and all(p.stem in batches for p in files)
            rules[entry.name if entry.is_dir() else entry.stem] = (
                per_batch,
                [_read_benchmark(p) for p in files],
            )
    disk = {"mirror": raw_bytes, **{d: _dir_bytes(results / d) for d in DISK_DIRS}}
    return RunMeasure(len(manifests), lightcurves, feature_rows, disk, rules, _labelled(results))


def _labelled(results: Path) -> int | None:
    """Labelled objects of the run's classifier (``classify/metrics.json``), None when unknown."""
    import json

    path = results / "classify" / "metrics.json"
    if not path.is_file():
        return None
    labelled = json.loads(path.read_text(encoding="utf-8")).get("training_labels", {}).get("labelled")
    return int(labelled) if labelled is not None else None


def predict(
    run: RunMeasure,
    *,
    fields: int,
    lightcurves: int,
    nodes: int = 1,
    cores: int = 32,
    fit_sample: int = 100_000,
    max_train_rows: int | None = 10_000,
) -> Estimate:
    """Scale ``run`` to a release of ``fields`` batches and ``lightcurves`` light curves (module docstring)."""
    if fields < 1 or lightcurves < 1 or nodes < 1 or cores < 1:
        raise InputError("--fields, --lightcurves, --nodes and --cores must be at least 1")
    if run.lightcurves < 1:
        raise InputError("the measured run has no light curves to scale from")
    lc_ratio = lightcurves / run.lightcurves
    per_batch_ratio = (lightcurves / fields) / (run.lightcurves / run.batches)
    batch_ratio = fields / run.batches
    target_rows = run.feature_rows * lc_ratio
    fit_ratio = min(fit_sample, target_rows) / max(1, min(fit_sample, run.feature_rows))
    if run.labelled:
        cap = max_train_rows or math.inf
        label_ratio = min(cap, run.labelled * lc_ratio) / max(1, min(cap, run.labelled))
    else:  # labels unknown: a constant labelled fraction, uncapped
        label_ratio = lc_ratio
    jobs_measured = [row for _, rows in run.rules.values() for row in rows]
    base_s, base_mb, base_cpu = (min(row[k] for row in jobs_measured) for k in range(3))

    def scaled(value: float, base: float, ratio: float) -> float:
        """The fixed part plus the variable part times ``ratio``."""
        return min(value, base) + max(0.0, value - base) * ratio

    slots = nodes * cores
    est = Estimate(fields, lightcurves, nodes, cores, fit_sample, max_train_rows)
    for rule, (per_batch, rows) in run.rules.items():
        n = len(rows)
        s_mean = sum(r[0] for r in rows) / n
        cpu_total = sum(r[2] for r in rows)
        peak = max(r[1] for r in rows)
        threads = max(1, round(sum(r[2] for r in rows) / max(1e-9, sum(r[0] for r in rows))))
        threads = min(threads, cores)
        if per_batch:
            scaling, jobs = "per batch", fields
            cpu = scaled(cpu_total / n, base_cpu, per_batch_ratio) * fields
            peak_mb = scaled(peak, base_mb, per_batch_ratio)
            wall = math.ceil(jobs / max(1, slots // threads)) * scaled(s_mean, base_s, per_batch_ratio)
        else:
            scaling = RELEASE_SCALING.get(rule, "batches")
            ratios = {"fit_sample": fit_ratio, "labels": label_ratio, "batches": batch_ratio}
            ratio = {**ratios, "lightcurves": lc_ratio, "fixed": 1.0}[scaling]
            jobs, cpu, wall = 1, scaled(cpu_total, base_cpu, ratio), scaled(s_mean, base_s, ratio)
            peak_mb = peak if scaling == "batches" else scaled(peak, base_mb, ratio)
        est.rules.append(RuleEstimate(rule, scaling, jobs, cpu, peak_mb, wall))
    est.disk = {name: size * lc_ratio for name, size in run.disk.items()}
    return est


def _human_bytes(n: float) -> str:
    """Bytes as kB ... PB with three significant digits."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000:
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"


def format_estimate(est: Estimate, run: RunMeasure) -> str:
    """The estimate as a text table with the measured run and the assumptions."""
    lines = [
        f"measured run: {run.batches} batches, {run.lightcurves:,} light curves, {run.feature_rows:,} feature rows",
        f"target: {est.fields:,} fields, {est.lightcurves:,} light curves on {est.nodes} node(s) x {est.cores} "
        f"cores (anomaly.fit_sample {est.fit_sample:,}, classify.max_train_rows {est.max_train_rows or 'none'}; "
        f"measured run's labelled objects {run.labelled if run.labelled is not None else 'unknown'})",
        "",
        f"{'rule':<22} {'scales with':<12} {'jobs':>8} {'core-hours':>12} {'peak GB/job':>12} {'wall h':>10}",
    ]
    for r in sorted(est.rules, key=lambda r: -r.cpu_s):
        lines.append(
            f"{r.rule:<22} {r.scaling:<12} {r.jobs:>8,} {r.cpu_s / 3600:>12.3g} {r.peak_mb / 1000:>12.3g} "
            f"{r.wall_s / 3600:>10.3g}"
        )
    lines.append(
        f"{'total':<22} {'':<12} {sum(r.jobs for r in est.rules):>8,} {est.cpu_s / 3600:>12.3g} "
        f"{max((r.peak_mb for r in est.rules), default=0) / 1000:>12.3g} {est.wall_s / 3600:>10.3g}"
    )
    lines += [
        f"node-hours (core-hours / {est.cores}): {est.cpu_s / 3600 / est.cores:.3g}",
        "disk: "
        + ", ".join(f"{k} {_human_bytes(v)}" for k, v in est.disk.items())
        + f" (total {_human_bytes(sum(est.disk.values()))})",
        "",
        "assumptions:",
        *(f"- {a}" for a in ASSUMPTIONS),
    ]
    return "\n".join(lines) + "\n"
