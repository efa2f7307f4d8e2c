"""Glue: the release feature view (HDF5 virtual datasets) over every batch's feature store; no data copied."""


def main(smk) -> None:
    from skysift.features.view import build_feature_view

    build_feature_view(smk.input, smk.output[0])


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
