"""Glue: quality cuts on one batch: its objects table (clean_lightcurves) or cleaned copy (write_clean_lightcurves)."""


def main(smk) -> None:
    from skysift.clean import run_clean

    run_clean(smk.input[0], smk.params.clean, **dict(smk.output.items()))


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
