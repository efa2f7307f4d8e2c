"""Glue: kilonova PCA-projection features of every sky source of one batch."""


def main(smk) -> None:
    from skysift.classify import run_kilonova_features
    from skysift.lightcurves import CleanConfig

    run_kilonova_features(
        smk.input.manifest,
        smk.input.basis,
        CleanConfig.from_config(smk.params.clean),
        smk.output[0],
        min_points=smk.params.min_points,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
