# Stage 5: a classifier trained on cross-match labels (or the demo's truth, or a user table), with CV
# metrics, figures and class probabilities for every object; active-learning curves; the early SN Ia
# and kilonova classifiers. A stage with too few labels writes its outputs with a "skipped" metrics.json.
# Release shape: train_classifier and run_active_learning read only the labelled objects' rows (the classifier
# also, to check that they represent the rest, a seeded batch-stratified sample of the unlabelled rows);
# predict_classes applies the saved model to one batch per job (grouped on a cluster: group "batch_apply",
# see profiles/slurm).
# The training rules take batch lists (rule list_batches in common.smk), not every batch's file.
# Params are only the keys that change a rule's outputs (label inputs come from common.smk).


rule train_classifier:
    input:
        unpack(label_inputs),
        features=batch_list("features"),
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
        mem_mb=lambda wc, attempt: 3000 * attempt,  # the model: 2.0 GB at classify.max_train_rows 10,000
        runtime=30,
    script:
        "../scripts/predict_classes.py"


rule run_active_learning:
    input:
        unpack(label_inputs),
        features=batch_list("features"),
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


# The early SN Ia and kilonova classifiers in the same release shape (skysift.classify.run_sources): per-batch
# features of every sky source (group "batch_sources" on a cluster), training on the labelled sources' rows only
# (kilonova: on its simulations, scored on the labelled sources), per-batch predictions (group "batch_apply").
EARLY_SNIA = config["classify"]["early_snia"]
KILONOVA = config["classify"]["kilonova"]


rule extract_early_snia_features:
    input:
        manifest="results/fetch/{batch}.tsv",
    output:
        "results/classify/early_snia/features/{batch}.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/extract_early_snia_features/{batch}.log",
    benchmark:
        "results/benchmarks/extract_early_snia_features/{batch}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        early_snia={key: EARLY_SNIA[key] for key in ("min_points", "rise_window_days")},
        clean=CLEAN_CUTS,
    script:
        "../scripts/extract_early_snia_features.py"


rule train_early_snia:
    input:
        unpack(label_inputs),
        features=batch_list("classify/early_snia/features"),
    output:
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
        early_snia=EARLY_SNIA,
        label_table=LABEL_TABLE,
    script:
        "../scripts/train_early_snia.py"


rule predict_early_snia:
    input:
        features="results/classify/early_snia/features/{batch}.parquet",
        model="results/classify/early_snia/model.skops",
        metrics="results/classify/early_snia/metrics.json",
    output:
        "results/classify/early_snia/predictions/{batch}.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/predict_early_snia/{batch}.log",
    benchmark:
        "results/benchmarks/predict_early_snia/{batch}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=15,
    params:
        positive=EARLY_SNIA["positive_class"],
    script:
        "../scripts/predict_early_snia.py"


rule build_kilonova_basis:
    output:
        "results/classify/kilonova/basis.json",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/build_kilonova_basis.log",
    benchmark:
        "results/benchmarks/build_kilonova_basis.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=10,
    params:
        basis={key: KILONOVA[key] for key in ("n_basis", "n_components", "seed")},
    script:
        "../scripts/build_kilonova_basis.py"


rule extract_kilonova_features:
    input:
        manifest="results/fetch/{batch}.tsv",
        basis="results/classify/kilonova/basis.json",
    output:
        "results/classify/kilonova/features/{batch}.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/extract_kilonova_features/{batch}.log",
    benchmark:
        "results/benchmarks/extract_kilonova_features/{batch}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=30,
    params:
        min_points=KILONOVA["min_points"],
        clean=CLEAN_CUTS,
    script:
        "../scripts/extract_kilonova_features.py"


rule train_kilonova:
    input:
        unpack(label_inputs),
        features=batch_list("classify/kilonova/features"),
        basis="results/classify/kilonova/basis.json",
    output:
        model="results/classify/kilonova/model.skops",
        card="results/classify/kilonova/model_card.json",
        metrics=report(
            "results/classify/kilonova/metrics.json",
            caption="../report/kilonova.rst",
            category="Classification",
        ),
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
        kilonova=KILONOVA,
        label_table=LABEL_TABLE,
    script:
        "../scripts/train_kilonova.py"


rule predict_kilonova:
    input:
        features="results/classify/kilonova/features/{batch}.parquet",
        model="results/classify/kilonova/model.skops",
        metrics="results/classify/kilonova/metrics.json",
    output:
        "results/classify/kilonova/predictions/{batch}.parquet",
    conda:
        "../../envs/skysift.yaml"
    log:
        "logs/predict_kilonova/{batch}.log",
    benchmark:
        "results/benchmarks/predict_kilonova/{batch}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=15,
    script:
        "../scripts/predict_kilonova.py"
