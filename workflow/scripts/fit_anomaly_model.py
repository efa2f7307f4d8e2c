"""Glue: fit every method's per-band detectors on the release's fit sample and save the models."""


def main(smk) -> None:
    from skysift.anomaly import FitSettings, run_fit_anomaly_model
    from skysift.anomaly.sessionfiles import model_pairs
    from skysift.io import expand_batch_lists

    inputs = expand_batch_lists(dict(smk.input.items()))  # batch lists -> their files
    models = list(smk.output.models)
    run_fit_anomaly_model(
        inputs["features"],
        FitSettings.from_config(smk.params.fit),
        models=model_pairs(models),
        sample=tuple(smk.output.sample),
        labels=smk.output.labels,
        label_files=smk.input.labels,
        crossmatch=inputs["crossmatch"],
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
