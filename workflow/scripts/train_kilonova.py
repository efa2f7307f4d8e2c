"""Glue: kilonova classifier trained on simulations, scored on them and on the run's labelled sources."""


def main(smk) -> None:
    from skysift.classify import KilonovaSettings, LabelSource, run_kilonova_training
    from skysift.classify.run_sources import KilonovaOutputs
    from skysift.io import expand_batch_lists

    inputs = expand_batch_lists(dict(smk.input.items()))  # batch lists -> their files
    run_kilonova_training(
        inputs["features"],
        smk.input.basis,
        LabelSource.from_inputs(inputs, smk.params.label_table),
        KilonovaSettings.from_config(smk.params.kilonova),
        KilonovaOutputs(**dict(smk.output.items())),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
