"""Glue: quality cuts on one batch; the counts go to the log."""


def main(smk) -> None:
    from skysift.clean import clean_files
    from skysift.lightcurves import read_manifest

    clean_files(read_manifest(smk.input[0]), smk.output[0], smk.params.clean)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
