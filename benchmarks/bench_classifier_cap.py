"""Peak memory, CPU and model size of train_classifier and predict_classes against the training-label cap.

    PYTHONPATH=src nice -n 5 .venv/bin/python benchmarks/bench_classifier_cap.py --fields 10 100 300 1000 --cap 2000

A synthetic release of N fields: every field has the labelled objects of a field of the release benchmark
(the per-class counts labelled by the cross-match at 100 fields, divided by 100: constant 268.6 a field,
eclipsing_binary 46.9, agn 36.4, ... slsn 0.96, microlensing 1.15; see ``LABELLED_PER_100_FIELDS``) and
``--unlabelled-per-field`` unlabelled objects. Features are ``--features`` float32 columns (the demo's
feature table has 36) with the key columns of a feature table; every class has its own Gaussian means, every
row unit noise, and each feature a few per cent of NaN, so the pipeline's imputation works. Data are seeded.

Each step runs in a fresh process, so its peak RSS (``ru_maxrss``; the parent imports nothing heavy, so the
child's figure is its own) is the step's alone:

- train: :func:`skysift.classify.run_training`, the train_classifier rule's function, on the per-field feature
  files and a label table of every labelled object. It reads the labels, caps them (``classify.max_train_rows``
  = ``--cap``, :func:`skysift.classify.labels.cap_labels`), reads the capped objects' feature rows, trains
  (``train_classifier`` with the schema's default ``classify`` settings, ``--n-estimators`` trees), checks the
  labels' representativeness (schema default: on, a 20,000-row unlabelled sample), saves the model with skops
  and writes its card, metrics and figures;
- predict: :func:`skysift.classify.run_predictions`, the predict_classes rule's function, on one synthetic
  batch of ``--batch-rows`` rows (the same batch at every N): it loads the saved model and writes the batch's
  class probabilities.

Printed per cap: fields, labelled objects, labels used, the rarest class's count among them, train peak RSS and
CPU, model file size, predict peak RSS and CPU; then the ratios of the largest release to each smaller one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

#: Labelled objects per class in the 100-field run of bench_release.py (cross-match labels, before the cap);
#: a synthetic release of N fields has round(count * N / 100) of each class.
LABELLED_PER_100_FIELDS: dict[str, int] = {
    "agn": 3642, "cepheid": 1234, "constant": 26860, "cv": 475, "delta_scuti": 1632, "eclipsing_binary": 4686,
    "flare": 217, "lpv": 1961, "microlensing": 115, "rrlyrae": 3053, "slsn": 96, "snia": 853, "snibc": 195,
    "snii": 504, "tde": 181, "yso": 1744,
}  # fmt: skip

#: The classes, in the order of the class means; unlabelled rows are drawn from their labelled mixture.
CLASSES = sorted(LABELLED_PER_100_FIELDS)


def peak_rss() -> dict[str, float]:
    """Peak RSS of this process in MiB: ``ru_maxrss`` and /proc/self/status VmHWM (a check of the former)."""
    out = {"rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    out["vmhwm_mib"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def synthetic_rows(rng, classes, field: int, n_features: int, means, nan_rate):  # noqa: ANN001, ANN201
    """Feature-table rows of objects of ``classes`` (class index per row) in one field: key columns, then
    float32 features = the class's means + unit Gaussian noise, NaN at each feature's rate."""
    import numpy as np
    import pandas as pd

    n = len(classes)
    X = (means[classes] + rng.normal(size=(n, n_features))).astype(np.float32)
    X[rng.random(X.shape) < nan_rate[None, :]] = np.nan
    index = np.arange(n, dtype=np.int64)
    df = pd.DataFrame(X, columns=[f"feature_{j:03d}" for j in range(n_features)])
    key = {
        "objectid": field * 10**12 + (1 + index % 2) * 10**11 + index,
        "filterid": (1 + index % 2).astype(np.int8),
        "fieldid": np.full(n, field, dtype=np.int16),
        "rcid": (index % 64).astype(np.int8),
        "ra": (field * 3.0 + index * 1e-4) % 360.0,
        "dec": np.full(n, -30.0 + field % 60),
        "n_points": rng.integers(20, 400, size=n).astype(np.int64),
    }
    for pos, (name, values) in enumerate(key.items()):
        df.insert(pos, name, values)
    return df


def model_of(n_features: int, seed: int, separation: float):  # noqa: ANN201
    """Per-class feature means (classes x features) and per-feature NaN rates, seeded."""
    import numpy as np

    rng = np.random.default_rng(seed)
    means = rng.normal(scale=separation, size=(len(CLASSES), n_features))
    nan_rate = np.where(rng.random(n_features) < 0.3, rng.uniform(0.0, 0.1, n_features), 0.0)
    return means, nan_rate


def generate(args: dict) -> dict:
    """Write the release of ``fields`` fields (per-field feature files, the label table) and the predict batch."""
    import numpy as np
    import pandas as pd

    root = Path(args["root"])
    n_fields, n_features, seed = args["fields"], args["features"], args["seed"]
    means, nan_rate = model_of(n_features, seed, args["separation"])
    counts = {c: round(n * n_fields / 100) for c, n in LABELLED_PER_100_FIELDS.items()}
    mixture = np.array([LABELLED_PER_100_FIELDS[c] for c in CLASSES], dtype=float)
    mixture /= mixture.sum()
    rng = np.random.default_rng([seed, n_fields])
    labelled = rng.permutation(np.repeat(np.arange(len(CLASSES)), [counts[c] for c in CLASSES]))
    per_field = np.array_split(labelled, n_fields)
    (root / "features").mkdir(parents=True, exist_ok=True)
    labels = []
    for k, field_labels in enumerate(per_field):
        field = 1 + k
        frng = np.random.default_rng([seed, n_fields, field])
        unlabelled = frng.choice(len(CLASSES), size=args["unlabelled_per_field"], p=mixture)
        classes = np.concatenate([field_labels, unlabelled])
        df = synthetic_rows(frng, classes, field, n_features, means, nan_rate)
        labels.append(pd.DataFrame({"objectid": df["objectid"].to_numpy()[: len(field_labels)],
                                    "label": np.asarray(CLASSES, dtype=object)[field_labels]}))  # fmt: skip
        df.iloc[frng.permutation(len(df))].to_parquet(
            root / "features" / f"field{field:06d}.parquet", index=False
        )
    pd.concat(labels, ignore_index=True).to_parquet(root / "labels.parquet", index=False)
    batch = Path(args["batch"])
    if not batch.exists():
        brng = np.random.default_rng([seed, 0])
        classes = brng.choice(len(CLASSES), size=args["batch_rows"], p=mixture)
        batch.parent.mkdir(parents=True, exist_ok=True)
        synthetic_rows(brng, classes, 9999, n_features, means, nan_rate).to_parquet(batch, index=False)
    return {"labelled": len(labelled)}


def train(args: dict) -> dict:
    """train_classifier: :func:`skysift.classify.run_training` with the schema's defaults, ``cap`` and trees."""
    from skysift.classify import ClassifierSettings, LabelSource, run_training
    from skysift.classify.run import TrainingOutputs
    from skysift.classify.settings import LabelTableSettings, RepresentativenessSettings
    from skysift.config import default_config

    root, out = Path(args["root"]), Path(args["out"])
    section = default_config()["classify"]
    settings = ClassifierSettings.from_config(
        {**section, "max_train_rows": args["cap"], "n_estimators": args["n_estimators"]}
    )
    label_table = str(root / "labels.parquet")
    labels = LabelSource(
        table=label_table,
        table_settings=LabelTableSettings(
            path=label_table, id_column="objectid", label_column="label", taxonomy=None
        ),
    )
    outputs = TrainingOutputs(**{name: str(out / file) for name, file in {
        "model": "model.skops", "card": "model_card.json", "metrics": "metrics.json",
        "per_class": "per_class_metrics.ecsv", "per_class_csv": "per_class_metrics.csv",
        "confusion": "confusion_matrix.png", "reliability": "reliability.png",
        "representativeness": "representativeness.png"}.items()})  # fmt: skip
    features = [str(p) for p in sorted((root / "features").glob("field*.parquet"))]
    report = run_training(
        features,
        labels,
        settings,
        outputs,
        representative=RepresentativenessSettings.from_config(section["representativeness"]),
        n_jobs=args["threads"],
    )
    counts = report["class_counts"]
    rarest = min(counts, key=counts.get)
    return {
        "labelled": report["training_labels"]["labelled"],
        "used": report["n_train"],
        "classes": len(counts),
        "rarest": rarest,
        "rarest_count": counts[rarest],
        "model_mb": os.path.getsize(outputs.model) / 1e6,
        "macro_f1": report["cv"].get("macro", {}).get("f1"),
    }


def predict(args: dict) -> dict:
    """predict_classes: :func:`skysift.classify.run_predictions` of one batch with the saved model."""
    from skysift.classify import run_predictions

    out = Path(args["out"])
    predictions = run_predictions(
        args["batch"], out / "model.skops", out / "metrics.json", out / "predictions.parquet"
    )
    return {"rows": len(predictions)}


STEPS = {"generate": generate, "train": train, "predict": predict}


def child(step: str, args: dict) -> None:
    """Run one step in this process; print its result, peak RSS and CPU as the last line of JSON."""
    start = time.perf_counter()
    result = STEPS[step](args)
    print(json.dumps({**result, **peak_rss(), "cpu_s": cpu_seconds(), "wall_s": time.perf_counter() - start}))


def run_child(step: str, args: dict) -> dict:
    """One step in a fresh process (its own peak RSS), on one BLAS/OpenMP thread."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", step, json.dumps(args)],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    )
    if proc.returncode:
        raise SystemExit(f"{step} {args.get('fields', '')} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def release(args: argparse.Namespace, n_fields: int, batch: Path) -> Path:
    """The release of ``n_fields`` fields under the workdir, generated once per data parameters."""
    params = {"fields": n_fields, "features": args.features, "seed": args.seed, "separation": args.separation,
              "unlabelled_per_field": args.unlabelled_per_field, "batch_rows": args.batch_rows}  # fmt: skip
    root = args.workdir / f"fields{n_fields}"
    stamp = root / "params.json"
    if not stamp.exists() or json.loads(stamp.read_text()) != params:
        result = run_child("generate", {**params, "root": str(root), "batch": str(batch)})
        print(f"  generated {n_fields} fields: {result['labelled']} labelled objects, {result['wall_s']:.0f} s",
              flush=True)  # fmt: skip
        stamp.write_text(json.dumps(params))
    return root


def main() -> None:
    """Parse arguments, measure every (cap, fields), print the tables and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, nargs="+", default=[10, 100, 300, 1000])
    parser.add_argument("--cap", type=int, nargs="+", default=[2000], help="classify.max_train_rows (each)")
    parser.add_argument("--n-estimators", type=int, help="classify.n_estimators (default: the schema's)")
    parser.add_argument("--features", type=int, default=36, help="feature columns (the demo's table has 36)")
    parser.add_argument("--unlabelled-per-field", type=int, default=2000)
    parser.add_argument(
        "--batch-rows", type=int, default=15000, help="rows of the batch predict_classes reads"
    )
    parser.add_argument("--separation", type=float, default=0.6, help="scale of the class means (noise 1)")
    parser.add_argument("--threads", type=int, default=1, help="n_jobs of the training (the rule has 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench_classifier_cap"))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], json.loads(args.child[1]))
        return
    if args.n_estimators is None:  # the schema's default, read in a child so this process stays small
        args.n_estimators = json.loads(subprocess.run(
            [sys.executable, "-c", "import json; from skysift.config import default_config; "
             "print(json.dumps(default_config()['classify']['n_estimators']))"],
            capture_output=True, text=True, check=True).stdout)  # fmt: skip
    data = f"{args.features}f_{args.batch_rows}rows_sep{args.separation}_seed{args.seed}"
    batch = args.workdir / f"batch_{data}" / "field009999.parquet"
    print(f"n_estimators {args.n_estimators}, {args.features} features, {args.unlabelled_per_field} unlabelled rows "
          f"a field, predict batch {args.batch_rows} rows, threads {args.threads}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    results: dict[int, dict[int, dict]] = {}
    for cap in args.cap:
        results[cap] = {}
        for n in args.fields:
            root = release(args, n, batch)
            out = args.workdir / f"fields{n}" / f"cap{cap}"
            common = {"root": str(root), "out": str(out), "batch": str(batch), "fields": n}
            t = run_child(
                "train", {**common, "cap": cap, "n_estimators": args.n_estimators, "threads": args.threads}
            )
            p = run_child("predict", common)
            results[cap][n] = {"train": t, "predict": p}
            for step, r in (("train", t), ("predict", p)):
                if abs(r["rss_mib"] - r.get("vmhwm_mib", r["rss_mib"])) > 0.02 * r["rss_mib"]:
                    print(
                        f"  warning: {step} ru_maxrss {r['rss_mib']:.0f} MiB, VmHWM {r['vmhwm_mib']:.0f} MiB"
                    )
            print(f"  cap {cap}, {n} fields: train {t['wall_s']:.0f} s, predict {p['wall_s']:.0f} s "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
    for cap, by_n in results.items():
        print(f"\nclassify.max_train_rows {cap}")
        print(f"{'fields':>7}{'labelled':>10}{'used':>7}{'rarest used':>20}{'train RSS MiB':>15}{'train CPU s':>13}"
              f"{'model MB':>10}{'predict RSS MiB':>17}{'predict CPU s':>15}")  # fmt: skip
        for n, r in by_n.items():
            t, p = r["train"], r["predict"]
            rarest = f"{t['rarest']} {t['rarest_count']}"
            print(f"{n:>7}{t['labelled']:>10}{t['used']:>7}{rarest:>20}{t['rss_mib']:>15.0f}{t['cpu_s']:>13.1f}"
                  f"{t['model_mb']:>10.1f}{p['rss_mib']:>17.0f}{p['cpu_s']:>15.1f}")  # fmt: skip
        last = max(by_n)
        for n in sorted(by_n)[:-1]:
            a, b = by_n[n], by_n[last]
            print(f"  {last} vs {n} fields: train RSS {b['train']['rss_mib'] / a['train']['rss_mib']:.2f}x, "
                  f"predict RSS {b['predict']['rss_mib'] / a['predict']['rss_mib']:.2f}x, "
                  f"model {b['train']['model_mb'] / a['train']['model_mb']:.2f}x")  # fmt: skip
    (args.workdir / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
