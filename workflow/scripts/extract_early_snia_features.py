"""Glue: rising-phase sigmoid features of every sky source of one batch (the early SN Ia classifier's input)."""


def main(smk) -> None:
    from skysift.classify import run_early_snia_features

    run_early_snia_features(smk.input.manifest, smk.output[0], **smk.params.early_snia, cuts=smk.params.clean)


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
