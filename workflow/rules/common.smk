# Config validation (once, with defaults from the schema) and the small helpers the rules share.
# Nothing else reads raw config.
import re
from pathlib import Path

from skysift.classify.settings import classifier_section
from skysift.config import validate_config
from skysift.crossmatch import resolve_catalogs
from skysift.layout import batch_name
from skysift.sources import (
    DEMO_CATALOG_COLUMNS,
    Preparation,
    SourceSettings,
    batch_params,
    get_source,
    release_params,
    release_parent,
    resolve_fields,
)


# The schema beside the rules (also when this workflow is a module of another one).
validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))

DR = config["dr"]
DEMO_ROOT = "results/demo"
# The configured light-curve source (skysift.sources.registry) and what it reads from the config.
SOURCE = get_source(config["source"])
SOURCE_SETTINGS = SourceSettings.from_config(config)
# The directory that holds the release directory <dr>/ (the demo and the online sources write their own).
RELEASE_PARENT = release_parent(SOURCE_SETTINGS, DEMO_ROOT)
RELEASE_ROOT = f"{RELEASE_PARENT}/{DR}"
FIELDS = resolve_fields(SOURCE_SETTINGS)
BATCHES = [batch_name(f) for f in FIELDS]
# Cross-match catalogs with their backends (local files, CDS XMatch, TNS, HATS); a release may bring its own
# (demo). The downloaded TNS catalog (rule download_tns_catalog) and each batch's CDS XMatch answer (rule
# query_xmatch) live here.
TNS_CATALOG_PATH = "results/crossmatch/catalogs/{name}.parquet"
XMATCH_RESULT_PATH = "results/crossmatch/xmatch/{name}/{batch}.parquet"
CATALOGS = resolve_catalogs(
    config["crossmatch"]["catalogs"],
    SOURCE.catalogs(RELEASE_PARENT),
    tns_path=TNS_CATALOG_PATH,
)
CANDIDATES = [f"results/candidates/candidates{ext}" for ext in (".ecsv", ".csv", ".vot")]


wildcard_constraints:
    batch=r"field\d{6}",


def release_input(wildcards):
    """What a fetch job depends on: the simulated release (simulate_survey), the index or converted release that
    the source's preparation rule writes (its checksum.md5), or an existing mirror's checksum.md5 if it has one."""
    if SOURCE.preparation is Preparation.SIMULATE:
        return RELEASE_ROOT
    checksum = f"{RELEASE_ROOT}/checksum.md5"
    if SOURCE.preparation is Preparation.NONE:
        return [checksum] if Path(checksum).exists() else []
    return checksum


def field_of(wildcards):
    """The ZTF field id of a batch wildcard (batches are fields)."""
    return int(wildcards.batch.removeprefix("field"))


def catalog_files(wildcards):
    """A batch's cross-match inputs by catalog: files (demo: outputs of simulate_survey, tns: of
    download_tns_catalog) or the batch's CDS XMatch result (query_xmatch). A hats catalog at a URL
    (s3://, https://) is no file Snakemake can track, so it has no input."""
    return {
        name: XMATCH_RESULT_PATH.format(name=name, batch=wildcards.batch) if spec["backend"] == "xmatch" else spec["path"]
        for name, spec in CATALOGS.items()
        if not (spec["backend"] == "hats" and "://" in str(spec["path"]))
    }


def all_batches(pattern):
    """Expand a per-batch path pattern over every batch."""
    return expand(pattern, batch=BATCHES)


# Batch lists: the release-wide rules whose outputs every batch's job loads (fit_anomaly_model, train_classifier,
# train_early_snia, train_kilonova) take one file naming the batches' outputs instead of the outputs themselves.
# Snakemake searches a producer's input list once per consumer job, so N per-batch jobs consuming a model
# trained on N inputs cost N^2 file-name comparisons (21 million at 1,000 batches); with the lists, N.
BATCH_LIST_FAMILIES = ("features", "crossmatch", "classify/early_snia/features", "classify/kilonova/features")


def batch_list(family):
    """The batch list of ``results/<family>/<batch>.parquet`` (rule list_batches in features.smk)."""
    if family not in BATCH_LIST_FAMILIES:
        raise ValueError(f"no batch list for {family!r}; add it to BATCH_LIST_FAMILIES")
    return f"results/{family}/batches.txt"


# The label table's settings (columns, taxonomy) when labels come from it: a param of every supervised rule.
LABEL_TABLE = config["classify"]["label_table"] if config["classify"]["labels"] == "table" else None


def label_inputs(wildcards):
    """Training labels: the cross-match tables, the demo truth table, or the user's label table."""
    if config["classify"]["labels"] == "truth":
        return {"truth": f"{DEMO_ROOT}/truth.parquet"}
    if config["classify"]["labels"] == "table":
        path = config["classify"]["label_table"]["path"]
        if not path:
            raise ValueError("classify.labels = table needs classify.label_table.path (the label table)")
        return {"label_table": path}
    return {"crossmatch": batch_list("crossmatch")}


def source_prediction_inputs(wildcards):
    """Per-batch predictions (and metrics.json: trained or skipped) of the per-source classifiers that candidate
    lists select from (early_snia, kilonova)."""
    used = {spec["select"] for spec in config["candidates"]["lists"].values()}
    inputs = {}
    for name in ("early_snia", "kilonova"):
        if name in used:
            inputs[f"{name}_predictions"] = all_batches(f"results/classify/{name}/predictions/{{batch}}.parquet")
            inputs[f"{name}_metrics"] = f"results/classify/{name}/metrics.json"
    return inputs
