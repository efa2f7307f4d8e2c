# Multi-messenger: gravitational-wave sky-map counterpart search, and the TNS bulk AT report.
# Off unless configured: skymap.maps adds results/skymap/<map>/ to the default target; report_to_tns
# runs only when asked for (`snakemake report_to_tns`) and only builds the JSON: sending is
# `skysift report-tns --send` (exactly once, with a ledger), never a job of the workflow.
from skysift.config import ConfigError
from skysift.skymap.gracedb import skymap_file
from skysift.skymap.settings import counterpart_section
from skysift.tnsreport import SEND_KEYS as TNS_SEND_KEYS

if config["tns_send"]:
    raise ConfigError(
        "tns_send: the workflow no longer sends to TNS (a retried or rerun job could report an object twice). "
        "Build the report with `snakemake report_to_tns`, then send it with `skysift report-tns --send "
        "--config <your config>` (see README, 'GW counterparts'); remove tns_send from the config."
    )

SKYMAP_NAMES = list(config["skymap"]["maps"])
# The configured candidate lists to search (names not in candidates.lists are skipped).
SKYMAP_LISTS = [name for name in config["skymap"]["lists"] if name in config["candidates"]["lists"]]
SKYMAP_TARGETS = expand(
    "results/skymap/{map}/{file}",
    map=SKYMAP_NAMES,
    file=["counterparts.ecsv", "counterparts.csv", "skymap.png", "summary.json", "credible_region.moc.fits"],
)
TNS_REPORT_TABLE = (
    f"results/skymap/{config['tns_report']['skymap']}/counterparts.ecsv"
    if config["tns_report"]["skymap"]
    else f"results/candidates/{config['tns_report']['list']}.ecsv"
)


rule download_gracedb_skymap:
    output:
        "resources/gracedb/{superevent}/{file}",
    localrule: True
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/download_gracedb_skymap/{superevent}/{file}.log",
    wildcard_constraints:
        superevent=r"[MT]?S\d{6}[a-z]+",
        file=r"[^/]+",
    params:
        # what is fetched; the URL and HTTP settings are read from the config (they rerun nothing)
        superevent="{superevent}",
        file="{file}",
    script:
        "../scripts/download_gracedb_skymap.py"


rule select_skymap_counterparts:
    input:
        # the configured path, or resources/gracedb/<id>/<file> for a superevent id
        skymap=lambda wc: skymap_file(config["skymap"], wc.map),
        lists=expand("results/candidates/{name}.ecsv", name=SKYMAP_LISTS),
        # light curves from the fetched DR files (a kilonova has too few epochs for results/clean)
        manifests=all_batches("results/fetch/{batch}.tsv"),
    output:
        ecsv=report(
            "results/skymap/{map}/counterparts.ecsv",
            caption="../report/skymap_counterparts.rst",
            category="GW counterparts",
            labels={"map": "{map}", "file": "counterparts"},
        ),
        csv="results/skymap/{map}/counterparts.csv",
        png=report(
            "results/skymap/{map}/skymap.png",
            caption="../report/skymap_plot.rst",
            category="GW counterparts",
            labels={"map": "{map}", "file": "sky plot"},
        ),
        summary="results/skymap/{map}/summary.json",
        moc="results/skymap/{map}/credible_region.moc.fits",
    wildcard_constraints:
        map=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/select_skymap_counterparts/{map}.log",
    benchmark:
        "results/benchmarks/select_skymap_counterparts/{map}.tsv"
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=30,
    params:
        lists=SKYMAP_LISTS,
        search=counterpart_section(config["skymap"]),
        clean=CLEAN_CUTS,
    script:
        "../scripts/select_skymap_counterparts.py"


rule report_to_tns:
    input:
        table=TNS_REPORT_TABLE,
        manifests=all_batches("results/fetch/{batch}.tsv"),
    output:
        report="results/tns/at_report.json",
        outcome="results/tns/selection.json",
    localrule: True
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/report_to_tns.log",
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=30,
    params:
        # what is reported; how to send (bot, key, HTTP, polling) belongs to `skysift report-tns --send`
        report={k: v for k, v in config["tns_report"].items() if k not in TNS_SEND_KEYS},
        clean=CLEAN_CUTS,
    script:
        "../scripts/report_to_tns.py"
