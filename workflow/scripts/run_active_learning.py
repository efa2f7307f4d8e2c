"""Glue: active-learning learning curves (strategies x seeds) on the labelled objects of the feature table."""


def main(smk) -> None:
    from skysift.classify.active import (
        active_learning_inputs,
        plot_learning_curves,
        run_active_learning,
        summarise_curves,
    )
    from skysift.classify.labels import training_labels
    from skysift.io import atomic_path, read_tables

    p = dict(smk.params.active)
    features = read_tables(smk.input.features)
    labels = training_labels(smk.input, smk.params.label_table)
    X, y, make_model = active_learning_inputs(
        features, labels, model=p["model"], n_estimators=p["n_estimators"], n_jobs=smk.threads
    )
    curves = run_active_learning(
        X,
        y,
        make_model,
        strategies=p["strategies"],
        seeds=p["seeds"],
        n_initial=p["n_initial"],
        batch_size=p["batch_size"],
        budget=p["budget"],
        test_fraction=p["test_fraction"],
    )
    summary = summarise_curves(curves)
    for frame, path in ((curves, smk.output.curves), (summary, smk.output.summary)):
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False)
    plot_learning_curves(summary, smk.output.plot, metric=p["metric"])


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
