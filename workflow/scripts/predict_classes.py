"""Glue: class probabilities of one batch's objects with the saved classifier (empty if it was skipped)."""


def main(smk) -> None:
    from skysift.classify import run_predictions

    run_predictions(smk.input.features, smk.input.model, smk.input.metrics, smk.output[0])


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
