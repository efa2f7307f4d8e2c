"""Glue: kilonova classifier: PCA basis and training set simulated at run time, forest, predictions per source."""


def main(smk) -> None:
    from skysift.classify import model_card, save_model, write_report
    from skysift.classify.kilonova import (
        build_basis,
        predict_kilonova,
        read_run_lightcurves,
        run_features,
        train_kilonova,
    )
    from skysift.classify.labels import training_labels
    from skysift.io import write_parquet_df

    p = dict(smk.params.kilonova)
    lightcurves = read_run_lightcurves(smk.input.manifests, smk.params.clean, min_epochs=1)
    labels = training_labels(smk.input, smk.params.label_table)
    basis = build_basis(p["n_basis"], p["n_components"], p["seed"])
    features = run_features(lightcurves, basis, min_points=p["min_points"])
    write_parquet_df(features, smk.output.features)
    model, basis, report = train_kilonova(features, labels, basis=basis, n_jobs=smk.threads, **p)
    card = model_card(model, report) | {
        "metrics": {
            "held_out_simulations": report["held_out_simulations"],
            "run_labels": report["run_labels"],
        },
        "pca_basis": basis.to_dict(),
    }
    save_model(model, smk.output.model, card)
    write_report(card, smk.output.card)
    write_report(report, smk.output.metrics)
    write_parquet_df(predict_kilonova(model, features), smk.output.predictions)


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
