# Stage 6: offline anomaly search over all batches' features (per band, combined per source), one
# ranked list per method, expert labels files as inputs; the oracle evaluation on the demo truth.

# The primary method first, then the others compared (each gets results/anomaly/ranked/<method>.*).
ANOMALY_METHODS = list(dict.fromkeys([config["anomaly"]["method"], *config["anomaly"]["compare"]]))


rule search_anomalies:
    input:
        features=all_batches("results/features/{batch}.parquet"),
        # Expert labels are inputs: editing a labels file reruns the search (and what it feeds).
        labels=config["anomaly"]["labels"],
    output:
        scores=report(
            "results/anomaly/scores.parquet",
            caption="../report/anomaly.rst",
            category="Anomalies",
        ),
        ranked=expand("results/anomaly/ranked/{method}.parquet", method=ANOMALY_METHODS),
        top=expand("results/anomaly/ranked/{method}.csv", method=ANOMALY_METHODS),
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/search_anomalies.log",
    benchmark:
        "results/benchmarks/search_anomalies.tsv"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=60,
    params:
        anomaly=config["anomaly"],
    script:
        "../scripts/search_anomalies.py"


rule evaluate_anomalies:
    input:
        features=all_batches("results/features/{batch}.parquet"),
        truth=f"{DEMO_ROOT}/truth.parquet",
    output:
        table=report(
            "results/anomaly/evaluation.csv",
            caption="../report/anomaly_evaluation.rst",
            category="Anomalies",
        ),
        curves="results/anomaly/evaluation_curves.csv",
        plot=report(
            "results/anomaly/evaluation.png",
            caption="../report/anomaly_evaluation.rst",
            category="Anomalies",
        ),
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/evaluate_anomalies.log",
    benchmark:
        "results/benchmarks/evaluate_anomalies.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=120,
    params:
        anomaly=config["anomaly"],
        methods=config["anomaly"]["evaluation"]["methods"],
    script:
        "../scripts/evaluate_anomalies.py"
