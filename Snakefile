# skysift: find transients and anomalies in ZTF data releases.
# This file only wires: config, includes, and the default target. Logic lives in src/skysift.
import os
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.20")

# Rule files and every job's script use the library of this checkout, whatever the environment has installed.
# current_basedir, not basedir: used as a module of another workflow, basedir is that workflow's directory.
# Without a checkout beside this file (a module from a remote source) the installed package is used.
SKYSIFT_SRC = str(Path(workflow.current_basedir) / "src")
if Path(SKYSIFT_SRC, "skysift").is_dir():
    sys.path.insert(0, SKYSIFT_SRC)
    # Set (not read) for the jobs' script processes; Slurm jobs parse this file again and set it again.
    os.environ.update(
        PYTHONPATH=os.pathsep.join(
            [SKYSIFT_SRC, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != SKYSIFT_SRC]]
        )
    )


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/crossmatch.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/classify.smk"
include: "workflow/rules/anomaly.smk"
include: "workflow/rules/candidates.smk"
include: "workflow/rules/multimessenger.smk"


rule all:
    input:
        CANDIDATES,
        SKYMAP_TARGETS,
        "results/classify/metrics.json",
        "results/classify/active_learning/learning_curves.png",
        "results/classify/early_snia/metrics.json",
        "results/classify/kilonova/metrics.json",
        all_batches("results/classify/early_snia/predictions/{batch}.parquet"),
        all_batches("results/classify/kilonova/predictions/{batch}.parquet"),
        PUBLISHED,
        "results/features/features.h5",
        ANOMALY_SESSION,
        CLEAN_COPIES,
    default_target: True
