# skysift: find transients and anomalies in ZTF data releases.
# This file only wires: config, includes, and the default target. Logic lives in src/skysift.
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.20")

# Rule files and scripts use the library of this checkout (scripts prepend the same directory).
sys.path.insert(0, str(Path(workflow.basedir) / "src"))


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
        PUBLISHED,
        "results/features/features.h5",
    default_target: True
