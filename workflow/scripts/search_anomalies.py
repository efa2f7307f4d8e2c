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
    from skysift.logutil import run_script

    run_script(main, snakemake)
