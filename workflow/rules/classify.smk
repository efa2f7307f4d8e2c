# Stage 5: a classifier trained on cross-match labels (or the demo's truth), with CV metrics
# and class probabilities for every object.


rule train_classifier:
    input:
        unpack(label_inputs),
        features=all_batches("results/features/{batch}.parquet"),
    output:
        model="results/classify/model.pkl",
        metrics=report(
            "results/classify/metrics.json",
            caption="../report/classify.rst",
            category="Classification",
        ),
        predictions="results/classify/predictions.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/train_classifier.log",
    benchmark:
        "results/benchmarks/train_classifier.tsv"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=60,
    params:
        classify=config["classify"],
    script:
        "../scripts/train_classifier.py"
