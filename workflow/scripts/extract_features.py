"""Glue: light-curve features of one batch (DR files cleaned as read) over a Dask cluster sized from this job."""


def main(smk) -> None:
    from skysift.features import run_features

    run_features(
        smk.input[0],
        smk.output[0],
        smk.params.features,
        smk.params.clean,
        smk.config["dask"],
        threads=smk.threads,
        mem_mb=smk.resources.mem_mb,
        tmpdir=smk.resources.tmpdir,
        resources=dict(smk.resources.items()),  # slurm mode: the profile's account/partition/qos
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
