# Stage 3: cross-match every batch's objects with the configured catalogs (local files).


rule crossmatch:
    input:
        objects="results/clean/{batch}.parquet",
        catalogs=catalog_files,
    output:
        "results/crossmatch/{batch}.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/crossmatch/{batch}.log",
    benchmark:
        "results/benchmarks/crossmatch/{batch}.tsv"
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        catalogs=CATALOGS,
        taxonomy=config["crossmatch"]["taxonomy"],
    script:
        "../scripts/crossmatch.py"
