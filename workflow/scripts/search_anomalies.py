"""Glue: per-method ranked anomaly lists and scores.parquet (primary method), with the expert labels."""

from pathlib import Path


def main(smk) -> None:
    from skysift.anomaly import run_search

    run_search(
        smk.input.features,
        dict(smk.params.anomaly),
        Path(smk.output.scores).parent,
        label_files=list(smk.input.labels),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    import sys

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
