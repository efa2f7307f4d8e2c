"""Glue: train the classifier on cross-match (or truth) labels; metrics and per-object probabilities."""


def main(smk) -> None:
    from skysift.classify import (
        labels_from_crossmatch,
        labels_from_truth,
        predict_classes,
        save_model,
        train_classifier,
        write_report,
    )
    from skysift.io import read_tables, write_parquet_df

    features = read_tables(smk.input.features)
    if hasattr(smk.input, "truth"):  # a Namedlist: `in` would test values
        labels = labels_from_truth(read_tables([smk.input.truth]))
    else:
        labels = labels_from_crossmatch(read_tables(smk.input.crossmatch))
    params = dict(smk.params.classify)
    params.pop("labels")
    model, report = train_classifier(features, labels, n_jobs=smk.threads, **params)
    save_model(model, smk.output.model)
    write_report(report, smk.output.metrics)
    write_parquet_df(predict_classes(model, features), smk.output.predictions)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
