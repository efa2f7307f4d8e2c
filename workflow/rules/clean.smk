# Stage 2: quality cuts. No cleaned copy of the release by default: every later stage applies the cuts as
# it reads the batch's DR files (skysift.clean.read). This rule writes the batch's objects table (the light
# curves that survive, for the cross-match and the plots) and counts every dropped epoch and light curve in
# its log; with clean.keep, write_clean_lightcurves also writes a cleaned copy of each batch.

# The clean keys that change which epochs survive (keep and row_group_size only shape the copy).
CLEAN_CUTS = {key: value for key, value in config["clean"].items() if key not in ("keep", "row_group_size")}
CLEAN_COPIES = all_batches("results/clean/{batch}.parquet") if config["clean"]["keep"] else []


rule clean_lightcurves:
    input:
        "results/fetch/{batch}.tsv",
    output:
        objects="results/clean/{batch}.objects.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/clean_lightcurves/{batch}.log",
    benchmark:
        "results/benchmarks/clean_lightcurves/{batch}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        clean=CLEAN_CUTS,
    script:
        "../scripts/clean_lightcurves.py"


rule write_clean_lightcurves:
    input:
        "results/fetch/{batch}.tsv",
    output:
        lightcurves="results/clean/{batch}.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/write_clean_lightcurves/{batch}.log",
    benchmark:
        "results/benchmarks/write_clean_lightcurves/{batch}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        clean={**CLEAN_CUTS, "row_group_size": config["clean"]["row_group_size"]},
    script:
        "../scripts/clean_lightcurves.py"
