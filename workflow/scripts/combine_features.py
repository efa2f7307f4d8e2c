"""Glue: combine every batch's feature parquet into the h5netcdf feature store with provenance."""


def main(smk) -> None:
    from skysift.features.store import combine_features

    combine_features(
        smk.input, smk.output[0], dr=smk.params.dr, features=smk.params.features, clean=smk.params.clean
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
