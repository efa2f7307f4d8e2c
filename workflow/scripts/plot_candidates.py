"""Glue: a light-curve PNG per listed candidate, the score distribution and the sky map."""


def main(smk) -> None:
    from skysift.candidates import PlotOutputs, PlotSettings, run_plots

    run_plots(
        dict(zip(smk.params.lists, smk.input.lists, strict=True)),
        scores=smk.input.scores,
        features=smk.input.features,
        clean=smk.input.clean,
        manifests=smk.input.manifests,
        settings=PlotSettings.from_config(smk.params.plots),
        outputs=PlotOutputs(**dict(smk.output.items())),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
