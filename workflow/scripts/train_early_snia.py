"""Glue: early SN Ia classifier trained with active learning on the labelled sources' rise features."""


def main(smk) -> None:
    from skysift.classify import EarlySniaSettings, LabelSource, run_early_snia_training
    from skysift.classify.run_sources import EarlySniaOutputs
    from skysift.io import expand_batch_lists

    inputs = expand_batch_lists(dict(smk.input.items()))  # batch lists -> their files
    run_early_snia_training(
        inputs["features"],
        LabelSource.from_inputs(inputs, smk.params.label_table),
        EarlySniaSettings.from_config(smk.params.early_snia),
        EarlySniaOutputs(**dict(smk.output.items())),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
