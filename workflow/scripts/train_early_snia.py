"""Glue: early SN Ia classifier: rising-phase sigmoid features, active-learning training, purity/efficiency."""


def main(smk) -> None:
    import logging

    import pandas as pd

    from skysift.classify import save_model, write_report
    from skysift.classify.active import plot_learning_curves, summarise_curves
    from skysift.classify.early_snia import predict_early_snia, source_features, train_early_snia
    from skysift.classify.labels import training_labels
    from skysift.clean import read_clean_lightcurves
    from skysift.io import InputError, atomic_path, write_parquet_df
    from skysift.lightcurves import manifest_files

    p = dict(smk.params.early)
    lightcurves = read_clean_lightcurves(manifest_files(smk.input.manifests), smk.params.clean)
    labels = training_labels(smk.input, smk.params.label_table)
    features = source_features(
        lightcurves, min_points=p["min_points"], rise_window_days=p["rise_window_days"]
    )
    write_parquet_df(features, smk.output.features)
    try:
        model, report, curves = train_early_snia(
            features,
            labels,
            positive=p["positive_class"],
            exclude=p["exclude_classes"],
            strategies=p["strategies"],
            seeds=p["seeds"],
            n_initial=p["n_initial"],
            batch_size=p["batch_size"],
            budget=p["budget"],
            test_fraction=p["test_fraction"],
            n_estimators=p["n_estimators"],
            n_jobs=smk.threads,
        )
    except InputError as exc:  # too few labelled SNe Ia (a tiny run): say so in every output
        logging.getLogger("train_early_snia").warning("early SN Ia classifier not trained: %s", exc)
        model, report = None, {"skipped": str(exc)}
        curves = pd.DataFrame(
            columns=["strategy", "seed", "n_labels", "purity", "efficiency", "balanced_accuracy"]
        )
    save_model(model, smk.output.model, {"model": "early_snia", **report})
    write_report(report, smk.output.metrics)
    with atomic_path(smk.output.curves) as tmp:
        curves.to_csv(tmp, index=False)
    plot_learning_curves(
        summarise_curves(curves), smk.output.plot, metric="purity", title="early SN Ia: purity"
    )
    write_parquet_df(predict_early_snia(model, features, p["positive_class"]), smk.output.predictions)


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
