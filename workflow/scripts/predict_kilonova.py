"""Glue: kilonova probability of every sky source of one batch."""


def main(smk) -> None:
    from skysift.classify import run_kilonova_predictions

    run_kilonova_predictions(smk.input.features, smk.input.model, smk.input.metrics, smk.output[0])


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
