"""Glue: light-curve features of one batch over a Dask cluster sized from this job."""


def main(smk) -> None:
    from skysift.cluster import cluster_for_job
    from skysift.features import extract_features

    resources = dict(smk.resources.items())  # slurm mode: the profile's account/partition/qos for the workers
    with cluster_for_job(
        smk.threads, smk.resources.mem_mb, smk.resources.tmpdir, smk.params.dask, resources
    ) as client:
        extract_features(smk.input, smk.output[0], smk.params.features, client=client)


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
