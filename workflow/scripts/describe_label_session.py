"""Glue: write down the files of this run that an expert session (`skysift label --session`) reads."""


def main(smk) -> None:
    from skysift.anomaly import run_describe_label_session

    run_describe_label_session(
        smk.params.methods,
        models=smk.input.models,
        sample=smk.input.sample,
        ranked=smk.input.ranked,
        features=smk.input.features,
        crossmatch=smk.params.crossmatch,
        lightcurve_dir=smk.params.lightcurve_dir,
        output=smk.output[0],
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
