# Stage 6: unsupervised anomaly search over all batches' features (one global ranking).


rule search_anomalies:
    input:
        all_batches("results/features/{batch}.parquet"),
    output:
        report(
            "results/anomaly/scores.parquet",
            caption="../report/anomaly.rst",
            category="Anomalies",
        ),
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/search_anomalies.log",
    benchmark:
        "results/benchmarks/search_anomalies.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=60,
    params:
        anomaly=config["anomaly"],
    script:
        "../scripts/search_anomalies.py"
