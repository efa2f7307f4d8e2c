"""Glue: early SN Ia classifier: rising-phase sigmoid features, active-learning training, purity/efficiency."""


def main(smk) -> None:
    from skysift.classify import EarlySniaSettings, LabelSource, run_early_snia
    from skysift.classify.run import EarlySniaOutputs

    run_early_snia(
        smk.input.lightcurves,
        LabelSource.from_inputs(dict(smk.input.items()), smk.params.label_table),
        EarlySniaSettings.from_config(smk.params.early_snia),
        EarlySniaOutputs(**dict(smk.output.items())),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
