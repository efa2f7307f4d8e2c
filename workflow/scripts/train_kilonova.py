"""Glue: kilonova classifier: PCA basis and training set simulated at run time, forest, predictions per source."""


def main(smk) -> None:
    from skysift.classify import KilonovaSettings, LabelSource, run_kilonova
    from skysift.classify.run import KilonovaOutputs
    from skysift.lightcurves import CleanConfig

    run_kilonova(
        smk.input.manifests,
        LabelSource.from_inputs(dict(smk.input.items()), smk.params.label_table),
        KilonovaSettings.from_config(smk.params.kilonova),
        CleanConfig.from_config(smk.params.clean),
        KilonovaOutputs(**dict(smk.output.items())),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
