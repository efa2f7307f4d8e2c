# Stage 6: offline anomaly search over all batches' features (per band, combined per source), one
# ranked list per method, expert labels files as inputs; the oracle evaluation on the demo truth.

from skysift.anomaly import OracleSettings, SearchSettings, settings_section

# The primary method first, then the others compared (each gets results/anomaly/ranked/<method>.*).
ANOMALY_METHODS = list(SearchSettings.from_config(config["anomaly"]).methods)


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
        # Only the anomaly keys the ranked lists depend on: pool_size and the evaluation rerun nothing.
        search=settings_section(SearchSettings, config["anomaly"]),
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
        # Only the anomaly keys the evaluation depends on: method, compare, top_n, labels rerun nothing.
        oracle=settings_section(OracleSettings, config["anomaly"]),
    script:
        "../scripts/evaluate_anomalies.py"
