"""Glue: combine every batch's feature parquet into the h5netcdf feature store with provenance."""


def main(smk) -> None:
    from skysift.features.store import combine_features

    combine_features(smk.input, smk.output[0], dr=smk.params.dr, config=smk.params.config)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
