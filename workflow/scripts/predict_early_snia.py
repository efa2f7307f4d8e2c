"""Glue: SN Ia probability of every sky source of one batch (empty if the classifier was skipped)."""


def main(smk) -> None:
    from skysift.classify import run_early_snia_predictions

    run_early_snia_predictions(
        smk.input.features, smk.input.model, smk.input.metrics, smk.output[0], positive=smk.params.positive
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
