"""Glue: the kilonova PCA basis from simulated kilonovae, built once for every batch and the training."""


def main(smk) -> None:
    from skysift.classify import run_kilonova_basis

    run_kilonova_basis(smk.output[0], **smk.params.basis)


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
