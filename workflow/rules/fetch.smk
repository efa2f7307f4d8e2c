# Stage 1: fetch. A batch is fetched when its files are present and verified; its manifest
# lists them. Downloads and verification are local rules (compute nodes are often offline).
# irsa_bulk: fetch_checksums caches the release's checksum.md5 once, then each batch downloads
# its field's files. irsa_api/snad: query_lightcurves runs every query once and writes the
# answers as a DR tree; each batch then verifies its field like a local mirror. hats: query_hats reads
# the selection from a HATS catalog (lsdb) into a DR tree; table: convert_table turns a long-format
# CSV/parquet file into one. Both then verify per batch like a local mirror.


rule simulate_survey:
    output:
        release=directory(f"{DEMO_ROOT}/{DR}"),
        truth=f"{DEMO_ROOT}/truth.parquet",
        catalogs=[f"{DEMO_ROOT}/catalogs/{name}.parquet" for name in DEMO_CATALOG_COLUMNS],
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/simulate_survey.log",
    benchmark:
        "results/benchmarks/simulate_survey.tsv"
    params:
        demo=config["demo"],
        dr=DR,
    localrule: True
    script:
        "../scripts/simulate_survey.py"


if config["source"] == "irsa_bulk":

    rule fetch_checksums:
        output:
            f"{RELEASE_PARENT}/{DR}/checksum.md5",
        conda:
            "../../envs/skysift.yaml"
        log:
            "logs/fetch_checksums.log",
        params:
            fetch=config["fetch"],
            dr=DR,
        localrule: True
        script:
            "../scripts/fetch_checksums.py"


if config["source"] in ("irsa_api", "snad"):

    rule query_lightcurves:
        input:
            [path for path in (config["fetch"]["ids_file"], config["fetch"]["cones_file"]) if path],
        output:
            f"{RELEASE_PARENT}/{DR}/checksum.md5",
        conda:
            "../../envs/skysift.yaml"
        log:
            "logs/query_lightcurves.log",
        params:
            fetch=config["fetch"],
            dr=DR,
            source=config["source"],
        localrule: True
        script:
            "../scripts/query_lightcurves.py"


if config["source"] == "hats":

    rule query_hats:
        output:
            f"{RELEASE_PARENT}/{DR}/checksum.md5",
        conda:
            "../../envs/skysift.yaml"
        log:
            "logs/query_hats.log",
        params:
            fetch=config["fetch"],
            fields=FIELDS,
            dr=DR,
        localrule: True
        script:
            "../scripts/query_hats.py"


if config["source"] == "table":

    rule convert_table:
        input:
            config["fetch"]["table"]["path"],
        output:
            f"{RELEASE_PARENT}/{DR}/checksum.md5",
        conda:
            "../../envs/skysift.yaml"
        log:
            "logs/convert_table.log",
        resources:
            mem_mb=lambda wc, attempt: 4000 * attempt,
        params:
            table=config["fetch"]["table"],
            dr=DR,
        script:
            "../scripts/convert_table.py"


rule fetch_lightcurves:
    input:
        release_input,
    output:
        "results/fetch/{batch}.tsv",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/fetch_lightcurves/{batch}.log",
    params:
        release_root=f"{RELEASE_PARENT}/{DR}",
        fieldid=field_of,
        verify=config["fetch"]["verify"],
        source=config["source"],
        fetch=config["fetch"],
        dr=DR,
    localrule: True
    script:
        "../scripts/fetch_lightcurves.py"
