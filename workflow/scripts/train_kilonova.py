"""Glue: kilonova classifier trained on simulations, scored on them and on the run's labelled sources."""


def main(smk) -> None:
    from skysift.classify import KilonovaSettings, LabelSource, run_kilonova_training
    from skysift.classify.run_sources import KilonovaOutputs

    run_kilonova_training(
        smk.input.features,
        smk.input.basis,
        LabelSource.from_inputs(dict(smk.input.items()), smk.params.label_table),
        KilonovaSettings.from_config(smk.params.kilonova),
        KilonovaOutputs(**dict(smk.output.items())),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
