# Config validation (once, with defaults from the schema) and the small helpers the rules share.
# Nothing else reads raw config.
from pathlib import Path

from skysift.classify.settings import classifier_section
from skysift.config import validate_config
from skysift.crossmatch import catalog_inputs, resolve_catalogs
from skysift.layout import batch_name
from skysift.sources import (
    CONVERTED_SOURCES,
    DEMO_CATALOG_COLUMNS,
    ONLINE_SOURCES,
    demo_catalog_specs,
    release_parent,
    resolve_fields,
)


validate_config(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")

DR = config["dr"]
DEMO_ROOT = "results/demo"
# The directory that holds the release directory <dr>/ (the demo and the online sources write their own).
RELEASE_PARENT = release_parent(config, DEMO_ROOT)
FIELDS = resolve_fields(config)
BATCHES = [batch_name(f) for f in FIELDS]
# Cross-match catalogs with their backends (local files, CDS XMatch, TNS).
CATALOGS = resolve_catalogs(
    config["crossmatch"]["catalogs"],
    demo_catalog_specs(DEMO_ROOT) if config["source"] == "demo" else {},
)
CANDIDATES = [f"results/candidates/candidates{ext}" for ext in (".ecsv", ".csv", ".vot")]


wildcard_constraints:
    batch=r"field\d{6}",


def release_input(wildcards):
    """What a fetch job depends on: the simulated release (demo), the fetched index (online), the converted
    release (table, hats, APIs) or the mirror's checksum.md5."""
    if config["source"] == "demo":
        return f"{DEMO_ROOT}/{DR}"
    if config["source"] in ONLINE_SOURCES + CONVERTED_SOURCES:
        return f"{RELEASE_PARENT}/{DR}/checksum.md5"
    checksum = Path(RELEASE_PARENT) / DR / "checksum.md5"
    return [str(checksum)] if checksum.exists() else []


def field_of(wildcards):
    """The ZTF field id of a batch wildcard (batches are fields)."""
    return int(wildcards.batch.removeprefix("field"))


def catalog_files(wildcards):
    """A batch's cross-match inputs by catalog: files (demo: outputs of simulate_survey, tns: of
    download_tns_catalog) or the batch's CDS XMatch result (query_xmatch)."""
    return catalog_inputs(CATALOGS, wildcards.batch)


def all_batches(pattern):
    """Expand a per-batch path pattern over every batch."""
    return expand(pattern, batch=BATCHES)


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
    return {"crossmatch": all_batches("results/crossmatch/{batch}.parquet")}


def source_prediction_inputs(wildcards):
    """Predictions (and metrics.json: trained or skipped) of the per-source classifiers that candidate lists
    select from (early_snia, kilonova)."""
    used = {spec["select"] for spec in config["candidates"]["lists"].values()}
    return {
        f"{name}_{kind}": f"results/classify/{name}/{kind}.{ext}"
        for name in ("early_snia", "kilonova")
        if name in used
        for kind, ext in (("predictions", "parquet"), ("metrics", "json"))
    }
