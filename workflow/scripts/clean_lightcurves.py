"""Glue: quality cuts on one batch; the counts go to the log."""


def main(smk) -> None:
    from skysift.clean import clean_files
    from skysift.lightcurves import read_manifest

    clean_files(read_manifest(smk.input[0]), smk.output[0], smk.params.clean)


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
