"""Glue: early SN Ia classifier trained with active learning on the labelled sources' rise features."""


def main(smk) -> None:
    from skysift.classify import EarlySniaSettings, LabelSource, run_early_snia_training
    from skysift.classify.run_sources import EarlySniaOutputs

    run_early_snia_training(
        smk.input.features,
        LabelSource.from_inputs(dict(smk.input.items()), smk.params.label_table),
        EarlySniaSettings.from_config(smk.params.early_snia),
        EarlySniaOutputs(**dict(smk.output.items())),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
