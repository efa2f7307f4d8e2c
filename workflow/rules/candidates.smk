# Stage 7: the ranked candidate table (ECSV, CSV, VOTable).


rule make_candidates:
    input:
        features=all_batches("results/features/{batch}.parquet"),
        scores="results/anomaly/scores.parquet",
        predictions="results/classify/predictions.parquet",
        crossmatch=all_batches("results/crossmatch/{batch}.parquet"),
    output:
        ecsv=report(
            "results/candidates/candidates.ecsv",
            caption="../report/candidates.rst",
            category="Candidates",
        ),
        csv="results/candidates/candidates.csv",
        votable="results/candidates/candidates.vot",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/make_candidates.log",
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        dr=DR,
        candidates=config["candidates"],
    script:
        "../scripts/make_candidates.py"
