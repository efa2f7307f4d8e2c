"""Glue: train the classifier on cross-match (or truth) labels; metrics, figures, model card and probabilities."""


def main(smk) -> None:
    from skysift.classify import (
        labels_from_crossmatch,
        labels_from_truth,
        model_card,
        plot_confusion_matrix,
        plot_reliability,
        predict_classes,
        save_model,
        train_classifier,
        write_per_class_table,
        write_report,
    )
    from skysift.io import read_tables, write_parquet_df

    features = read_tables(smk.input.features)
    if hasattr(smk.input, "truth"):  # a Namedlist: `in` would test values
        labels = labels_from_truth(read_tables([smk.input.truth]))
    else:
        labels = labels_from_crossmatch(read_tables(smk.input.crossmatch))
    params = {
        k: v for k, v in smk.params.classify.items() if k not in ("labels", "active_learning", "early_snia")
    }
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
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
