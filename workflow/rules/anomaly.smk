# Stage 6: offline anomaly search of a release in three rules: fit the per-band detectors of every method
# on a sample (fit_anomaly_model), score each batch (score_anomalies, one job per batch), merge the
# batches' heads into each method's global top-K (rank_anomalies); the oracle evaluation on the demo truth.

from skysift.anomaly import FitSettings, OracleSettings, RankSettings, settings_section

# The primary method first, then the others compared (each gets a model, per-batch scores and a top-K).
ANOMALY_METHODS = list(FitSettings.from_config(config["anomaly"]).methods)
ANOMALY_MODEL = "results/anomaly/model/{method}"
ANOMALY_SAMPLE = ["results/anomaly/model/sample.npz", "results/anomaly/model/sample.json"]
ANOMALY_LABELS = "results/anomaly/model/labels.parquet"
# Every row of a batch, scored by one method, in rank order within the batch (batch_rank); anomaly_score
# is on the release's scale (band percentiles against the fit sample).
ANOMALY_BATCH_SCORES = "results/anomaly/scores/{method}/{batch}.parquet"
# The primary method's per-batch scores (what the candidates stage looks objects up in).
ANOMALY_PRIMARY_BATCH_SCORES = ANOMALY_BATCH_SCORES.replace("{method}", ANOMALY_METHODS[0])
ANOMALY_RANKED = expand("results/anomaly/ranked/{method}.parquet", method=ANOMALY_METHODS)
# Every method's saved model files, in method order: npz, json, npz, json, ...
ANOMALY_MODELS = [f"{ANOMALY_MODEL.format(method=m)}.{ext}" for m in ANOMALY_METHODS for ext in ("npz", "json")]
# Catalog knowledge as free answers (anomaly.free_answers): the cross-match tables are inputs only when enabled.
ANOMALY_CROSSMATCH = (
    all_batches("results/crossmatch/{batch}.parquet") if config["anomaly"]["free_answers"]["enabled"] else []
)


rule fit_anomaly_model:
    input:
        features=batch_list("features"),
        # Expert labels are inputs: editing a labels file refits (AAD, PineForest) and reranks.
        labels=config["anomaly"]["labels"],
        crossmatch=batch_list("crossmatch") if ANOMALY_CROSSMATCH else [],
    output:
        models=ANOMALY_MODELS,
        sample=ANOMALY_SAMPLE,
        labels=ANOMALY_LABELS,
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/fit_anomaly_model.log",
    benchmark:
        "results/benchmarks/fit_anomaly_model.tsv"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=60,
    params:
        # Only the anomaly keys the models depend on: top_k, top_n, pool_size and the evaluation rerun nothing.
        fit=settings_section(FitSettings, config["anomaly"]),
    script:
        "../scripts/fit_anomaly_model.py"


rule score_anomalies:
    input:
        features="results/features/{batch}.parquet",
        models=ANOMALY_MODELS,
        labels=ANOMALY_LABELS,
    output:
        expand(ANOMALY_BATCH_SCORES, method=ANOMALY_METHODS, allow_missing=True),
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/score_anomalies/{batch}.log",
    benchmark:
        "results/benchmarks/score_anomalies/{batch}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    script:
        "../scripts/score_anomalies.py"


rule rank_anomalies:
    input:
        batches=expand(ANOMALY_BATCH_SCORES, method=ANOMALY_METHODS, batch=BATCHES),
    output:
        scores=report(
            "results/anomaly/scores.parquet",
            caption="../report/anomaly.rst",
            category="Anomalies",
        ),
        ranked=ANOMALY_RANKED,
        top=expand("results/anomaly/ranked/{method}.csv", method=ANOMALY_METHODS),
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/rank_anomalies.log",
    benchmark:
        "results/benchmarks/rank_anomalies.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        rank=settings_section(RankSettings, config["anomaly"]),
        batches={m: expand(ANOMALY_BATCH_SCORES, method=m, batch=BATCHES) for m in ANOMALY_METHODS},
    script:
        "../scripts/rank_anomalies.py"


rule evaluate_anomalies:
    input:
        features=all_batches("results/features/{batch}.parquet"),
        models=ANOMALY_MODELS,
        sample=ANOMALY_SAMPLE,
        ranked=ANOMALY_RANKED,
        truth=f"{DEMO_ROOT}/truth.parquet",
        crossmatch=ANOMALY_CROSSMATCH,
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
        # Only the anomaly keys the evaluation depends on beyond its inputs: the candidate pool, the classes,
        # the methods, budgets and seeds compared (method, compare, top_n, labels rerun nothing).
        oracle=settings_section(OracleSettings, config["anomaly"]),
        methods=ANOMALY_METHODS,
    script:
        "../scripts/evaluate_anomalies.py"


# What `skysift label --session results/anomaly/session.json` reads of this run: the library never spells these
# paths; this rule writes them down (relative to the session file).
ANOMALY_SESSION = "results/anomaly/session.json"


rule describe_label_session:
    input:
        models=ANOMALY_MODELS,
        sample=ANOMALY_SAMPLE,
        ranked=ANOMALY_RANKED,
        features=all_batches("results/features/{batch}.parquet"),
    output:
        ANOMALY_SESSION,
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/describe_label_session.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 500 * attempt,
        runtime=5,
    params:
        methods=ANOMALY_METHODS,
        # optional on the card: the nearest catalog match and the candidates' light-curve PNGs, when present
        crossmatch=all_batches("results/crossmatch/{batch}.parquet"),
        lightcurve_dir="results/candidates/lightcurves",
    script:
        "../scripts/describe_label_session.py"


# Personalised AAD (anomaly.personal): the primary method's candidate pool ranked by each expert's own model
# (that expert's answers in anomaly.labels + the free answers) and a consensus list (mean rank over the
# experts, with every expert's answer and its provenance). Not in the default target:
# `snakemake results/anomaly/experts/consensus.csv`.
rule rank_expert_anomalies:
    input:
        models=ANOMALY_MODELS,
        sample=ANOMALY_SAMPLE,
        ranked=ANOMALY_RANKED,
        features=all_batches("results/features/{batch}.parquet"),
        labels=config["anomaly"]["labels"],
        crossmatch=ANOMALY_CROSSMATCH,
    output:
        experts="results/anomaly/experts/lists.parquet",
        consensus="results/anomaly/experts/consensus.parquet",
        consensus_csv="results/anomaly/experts/consensus.csv",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/rank_expert_anomalies.log",
    benchmark:
        "results/benchmarks/rank_expert_anomalies.tsv"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        anomaly=config["anomaly"],
        methods=ANOMALY_METHODS,
    script:
        "../scripts/rank_expert_anomalies.py"
