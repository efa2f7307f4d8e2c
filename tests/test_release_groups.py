"""Job groups of profiles/slurm (dry run): the per-batch rules are submitted as group jobs of several batches."""

from __future__ import annotations

import re

from workflow_runner import ROOT, run_snakemake


def _group_jobs(text: str, group: str) -> list[str]:
    """The bodies of the dry run's group jobs of ``group``: the lines after each "Group job" line up to the next job."""
    bodies, body = [], None
    for line in text.splitlines():
        if re.match(r"^\[[^\]]+\] Group job ", line):
            body = [] if re.search(rf"Group job {group} ", line) else None
            if body is not None:
                bodies.append(body)
        elif body is not None and line.startswith("["):
            body = None
        elif body is not None:
            body.append(line)
    return ["\n".join(b) for b in bodies]


def test_per_batch_rules_are_group_jobs_of_a_configurable_size(tmp_path):
    (tmp_path / "config.yaml").write_text("{}\n")  # the demo: 3 fields
    proc = run_snakemake(
        tmp_path,
        "--profile",
        str(ROOT / "profiles/slurm"),
        "-n",
        "--group-components",
        "batch_prepare=2",
        "batch_apply=3",
    )
    out = proc.stdout + proc.stderr
    prepare = _group_jobs(out, "batch_prepare")
    # 3 batches, 2 batches per group job -> 2 group jobs holding clean and crossmatch of every batch
    assert len(prepare) == 2, out[-3000:]
    for rule in ("clean_lightcurves", "crossmatch"):
        batches = re.findall(rf"rule {rule}:\n(?:.*\n)*?\s+wildcards: batch=(field\d+)", "\n".join(prepare))
        assert sorted(batches) == ["field000633", "field000634", "field001721"], rule
    # --group-components replaces the profile's whole list: every group is given. A batch's predict and
    # score jobs are two components (not connected to each other): 6 components, 3 per job = two group jobs
    apply = _group_jobs(out, "batch_apply")
    assert len(apply) == 2, out[-3000:]
    for rule in ("predict_classes", "score_anomalies"):
        assert "\n".join(apply).count(f"rule {rule}:") == 3, rule
    # batch_predict_sources was not given: one component (one batch's early SN Ia or kilonova prediction) per job
    apply_sources = _group_jobs(out, "batch_predict_sources")
    assert len(apply_sources) == 6, out[-3000:]
    for rule in ("predict_early_snia", "predict_kilonova"):
        assert "\n".join(apply_sources).count(f"rule {rule}:") == 3, rule
    # batch_sources was not given: one component (one batch's early SN Ia or kilonova features) per group job
    sources = _group_jobs(out, "batch_sources")
    assert len(sources) == 6, out[-3000:]
    # rules outside the groups stay single jobs: extract_features (long partition: a group's jobs must share
    # one) and the release-wide rules
    grouped = "\n".join(prepare + apply + apply_sources + sources)
    for rule in ("extract_features", "train_classifier", "train_early_snia", "train_kilonova"):
        assert f"rule {rule}:" not in grouped, rule
    assert out.count("rule extract_features:") == 3


def _job_inputs(text: str, rule: str) -> list[str]:
    """The input files of the dry run's jobs of ``rule`` (the comma-separated "input:" line of each)."""
    blocks = re.findall(rf"^rule {rule}:\n((?:    .*\n)+)", text, re.M)
    inputs = []
    for block in blocks:
        line = re.search(r"^\s+input: (.*)$", block, re.M)
        if line:
            inputs.extend(f.strip() for f in line.group(1).split(","))
    return inputs


def test_models_that_every_batch_loads_are_trained_from_batch_lists(tmp_path):
    """The training rules whose outputs every per-batch job loads take one batch list per family, not every
    batch's file: Snakemake's DAG then grows linearly in the batches (it searches a producer's inputs once
    per consumer job). The lists name every batch's file."""
    (tmp_path / "config.yaml").write_text("{}\n")  # the demo: 3 fields
    proc = run_snakemake(tmp_path, "-n")
    out = proc.stdout + proc.stderr
    lists = {
        "fit_anomaly_model": ["results/features/batches.txt"],
        "train_classifier": ["results/features/batches.txt", "results/crossmatch/batches.txt"],
        "train_early_snia": [
            "results/classify/early_snia/features/batches.txt",
            "results/crossmatch/batches.txt",
        ],
        "train_kilonova": [
            "results/classify/kilonova/features/batches.txt",
            "results/crossmatch/batches.txt",
        ],
    }
    for rule, expected in lists.items():
        inputs = _job_inputs(out, rule)
        assert inputs, f"no {rule} job in the dry run:\n{out[-3000:]}"
        assert set(expected) <= set(inputs), (rule, inputs)
        assert not [f for f in inputs if re.search(r"field\d{6}", f)], (rule, inputs)
    features_list = _job_inputs(out, "list_batches")
    assert sorted(f for f in features_list if f.startswith("results/features/")) == [
        f"results/features/{batch}.parquet" for batch in ("field000633", "field000634", "field001721")
    ]
