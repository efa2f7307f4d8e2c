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
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
