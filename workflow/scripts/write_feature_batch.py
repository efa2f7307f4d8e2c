"""Glue: one batch's feature parquet as its h5netcdf feature store with provenance."""


def main(smk) -> None:
    from skysift.features.view import write_batch_store

    write_batch_store(
        smk.input[0], smk.output[0], dr=smk.params.dr, features=smk.params.features, clean=smk.params.clean
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
