"""Glue: train the classifier on cross-match (or truth, or user-table) labels; metrics, figures, model card and probabilities."""


def main(smk) -> None:
    from skysift.classify import (
        model_card,
        plot_confusion_matrix,
        plot_reliability,
        predict_classes,
        save_model,
        train_classifier,
        write_per_class_table,
        write_report,
    )
    from skysift.classify.labels import training_labels
    from skysift.io import read_tables, write_parquet_df

    features = read_tables(smk.input.features)
    labels = training_labels(smk.input, smk.params.classify["label_table"])
    model_keys = ("model", "n_estimators", "min_class_count", "cv_folds", "random_state", "hierarchical",
                  "calibration", "small_classes", "merge_classes")  # fmt: skip
    params = {k: smk.params.classify[k] for k in model_keys}
    model, report = train_classifier(features, labels, n_jobs=smk.threads, **params)
    card = model_card(model, report)
    save_model(model, smk.output.model, card)
    write_report(card, smk.output.card)
    write_report(report, smk.output.metrics)
    write_per_class_table(report, smk.output.per_class)
    write_per_class_table(report, smk.output.per_class_csv)
    plot_confusion_matrix(report, smk.output.confusion)
    plot_reliability(report, smk.output.reliability)
    write_parquet_df(predict_classes(model, features), smk.output.predictions)


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
