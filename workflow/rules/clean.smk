# Stage 2: quality cuts on every batch; the log counts every dropped epoch and light curve.


rule clean_lightcurves:
    input:
        "results/fetch/{batch}.tsv",
    output:
        "results/clean/{batch}.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/clean_lightcurves/{batch}.log",
    benchmark:
        "results/benchmarks/clean_lightcurves/{batch}.tsv"
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        clean=config["clean"],
    script:
        "../scripts/clean_lightcurves.py"
