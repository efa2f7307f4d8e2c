# Stage 1: fetch. A batch is fetched when its files are present and verified; its manifest
# lists them. Downloads and verification are local rules (compute nodes are often offline).


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
    localrule: True
    script:
        "../scripts/fetch_lightcurves.py"
