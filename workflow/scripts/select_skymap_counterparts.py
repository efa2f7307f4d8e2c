"""Glue: candidates of the configured lists inside one sky map's credible region and time window."""


def main(smk) -> None:
    from skysift.skymap import CounterpartOutputs, CounterpartSettings, run_counterparts

    run_counterparts(
        smk.input.skymap,
        dict(zip(smk.params.lists, smk.input.lists, strict=True)),
        smk.input.manifests,
        CounterpartOutputs(**dict(smk.output.items())),
        CounterpartSettings.from_config(smk.params.search),
        name=smk.wildcards.map,
        clean=smk.params.clean,
        requested=smk.config["skymap"]["lists"],
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
