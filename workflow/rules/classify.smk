# Stage 5: a classifier trained on cross-match labels (or the demo's truth, or a user table), with CV
# metrics, figures and class probabilities for every object; active-learning curves; the early SN Ia
# and kilonova classifiers. A stage with too few labels writes its outputs with a "skipped" metrics.json.
# Release shape: train_classifier reads only the labelled objects' rows (and, to check that they represent
# the rest, a seeded batch-stratified sample of the unlabelled rows); predict_classes applies the
# saved model to one batch per job (grouped on a cluster: group "per_batch", see profiles/slurm).
# Params are only the keys that change a rule's outputs (label inputs come from common.smk).


rule train_classifier:
    input:
        unpack(label_inputs),
        features=all_batches("results/features/{batch}.parquet"),
    output:
        model="results/classify/model.skops",
        card="results/classify/model_card.json",
        metrics=report(
            "results/classify/metrics.json",
            caption="../report/classify.rst",
            category="Classification",
        ),
        per_class=report(
            "results/classify/per_class_metrics.ecsv",
            caption="../report/classify_per_class.rst",
            category="Classification",
        ),
        per_class_csv="results/classify/per_class_metrics.csv",
        confusion=report(
            "results/classify/confusion_matrix.png",
            caption="../report/classify_confusion.rst",
            category="Classification",
        ),
        reliability=report(
            "results/classify/reliability.png",
            caption="../report/classify_reliability.rst",
            category="Classification",
        ),
        representativeness=report(
            "results/classify/representativeness.png",
            caption="../report/classify_representativeness.rst",
            category="Classification",
        ),
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
        classifier=classifier_section(config["classify"]),
        representativeness=config["classify"]["representativeness"],
        label_table=LABEL_TABLE,
    script:
        "../scripts/train_classifier.py"


rule predict_classes:
    input:
        features="results/features/{batch}.parquet",
        model="results/classify/model.skops",
        metrics="results/classify/metrics.json",
    output:
        "results/classify/predictions/{batch}.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/predict_classes/{batch}.log",
    benchmark:
        "results/benchmarks/predict_classes/{batch}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    script:
        "../scripts/predict_classes.py"


rule run_active_learning:
    input:
        unpack(label_inputs),
        features=all_batches("results/features/{batch}.parquet"),
    output:
        curves="results/classify/active_learning/curves.csv",
        summary=report(
            "results/classify/active_learning/learning_curves.csv",
            caption="../report/active_learning.rst",
            category="Classification",
        ),
        plot=report(
            "results/classify/active_learning/learning_curves.png",
            caption="../report/active_learning.rst",
            category="Classification",
        ),
        metrics="results/classify/active_learning/metrics.json",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/run_active_learning.log",
    benchmark:
        "results/benchmarks/run_active_learning.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=60,
    params:
        active_learning=config["classify"]["active_learning"],
        label_table=LABEL_TABLE,
    script:
        "../scripts/run_active_learning.py"


rule train_early_snia:
    input:
        unpack(label_inputs),
        manifests=all_batches("results/fetch/{batch}.tsv"),
    output:
        features="results/classify/early_snia/features.parquet",
        model="results/classify/early_snia/model.skops",
        metrics=report(
            "results/classify/early_snia/metrics.json",
            caption="../report/early_snia.rst",
            category="Classification",
        ),
        curves="results/classify/early_snia/learning_curves.csv",
        plot=report(
            "results/classify/early_snia/learning_curves.png",
            caption="../report/early_snia.rst",
            category="Classification",
        ),
        predictions="results/classify/early_snia/predictions.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/train_early_snia.log",
    benchmark:
        "results/benchmarks/train_early_snia.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=60,
    params:
        early_snia=config["classify"]["early_snia"],
        label_table=LABEL_TABLE,
        clean=CLEAN_CUTS,
    script:
        "../scripts/train_early_snia.py"


rule train_kilonova:
    input:
        unpack(label_inputs),
        manifests=all_batches("results/fetch/{batch}.tsv"),
    output:
        features="results/classify/kilonova/features.parquet",
        model="results/classify/kilonova/model.skops",
        card="results/classify/kilonova/model_card.json",
        metrics=report(
            "results/classify/kilonova/metrics.json",
            caption="../report/kilonova.rst",
            category="Classification",
        ),
        predictions="results/classify/kilonova/predictions.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/train_kilonova.log",
    benchmark:
        "results/benchmarks/train_kilonova.tsv"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=60,
    params:
        kilonova=config["classify"]["kilonova"],
        clean=CLEAN_CUTS,
        label_table=LABEL_TABLE,
    script:
        "../scripts/train_kilonova.py"
