"""Job groups of profiles/slurm (dry run): the per-batch rules are submitted as group jobs of several batches."""

from __future__ import annotations

import re

from workflow_runner import ROOT, run_snakemake


def _group_jobs(text: str, group: str) -> list[str]:
    """The bodies of the dry run's group jobs of ``group`` (each up to the next top-level line)."""
    bodies = re.split(r"^\[[^\]]+\] Group job ", text, flags=re.M)[1:]
    return [b for b in bodies if b.startswith(f"{group} ")]


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
    # 3 batches, 2 batches per group job -> 2 group jobs holding clean, crossmatch, features of every batch
    assert len(prepare) == 2, out[-3000:]
    for rule in ("clean_lightcurves", "crossmatch", "extract_features"):
        batches = re.findall(rf"rule {rule}:\n(?:.*\n)*?\s+wildcards: batch=(field\d+)", "".join(prepare))
        assert sorted(batches) == ["field000633", "field000634", "field001721"], rule
    # --group-components replaces the profile's whole list: every group is given; 3 per job = one job
    apply = _group_jobs(out, "batch_apply")
    assert len(apply) == 1 and apply[0].count("rule predict_classes:") == 3
    # rules outside the groups stay single jobs
    assert not re.search(r"Group job \S+ .*\n(?:.*\n)*?\s+rule train_classifier:", "".join(prepare + apply))
