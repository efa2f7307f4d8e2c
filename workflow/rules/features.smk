# Stage 4: light-curve features per band, spread over a Dask cluster sized from the job. The rule reads
# the batch's DR files and applies the quality cuts as it reads them (counted in its log). How Dask runs
# (the dask section) is read by the script, not a param: changing it reruns nothing.

if config["dask"]["mode"] == "slurm":

    # The job owns a dask-jobqueue SLURMCluster: it runs where Snakemake runs and its
    # workers are Slurm jobs (never a Slurm job submitting more Slurm jobs).
    localrules:
        extract_features,



rule extract_features:
    input:
        "results/fetch/{batch}.tsv",
    output:
        report(
            "results/features/{batch}.parquet",
            caption="../report/features.rst",
            category="Features",
        ),
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/extract_features/{batch}.log",
    benchmark:
        "results/benchmarks/extract_features/{batch}.tsv"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=60,
    params:
        features=config["features"],
        clean=CLEAN_CUTS,
    script:
        "../scripts/extract_features.py"


rule write_feature_batch:
    input:
        "results/features/{batch}.parquet",
    output:
        "results/features/{batch}.h5",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/write_feature_batch/{batch}.log",
    benchmark:
        "results/benchmarks/write_feature_batch/{batch}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=30,
    params:
        dr=DR,
        features=config["features"],
        clean=CLEAN_CUTS,
    script:
        "../scripts/write_feature_batch.py"


# The release view: HDF5 virtual datasets over the per-batch stores (skysift.features.view). It reads only
# their shapes and attributes, so it is cheap at any release size and copies no feature value.
rule combine_features:
    input:
        all_batches("results/features/{batch}.h5"),
    output:
        "results/features/features.h5",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/combine_features/features.log",
    benchmark:
        "results/benchmarks/combine_features/features.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=30,
    script:
        "../scripts/combine_features.py"


# The batch lists (see BATCH_LIST_FAMILIES in common.smk): one file naming every batch's features, cross-match
# or per-source features, the input of the training rules whose models every batch's job loads.
rule list_batches:
    input:
        lambda wildcards: all_batches(f"results/{wildcards.family}/{{batch}}.parquet"),
    output:
        "results/{family}/batches.txt",
    wildcard_constraints:
        family="|".join(re.escape(family) for family in BATCH_LIST_FAMILIES),
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/list_batches/{family}.log",
    benchmark:
        "results/benchmarks/list_batches/{family}.tsv"
    localrule: True
    script:
        "../scripts/list_batches.py"
