"""Glue: anomaly scores and ranks for every object of the run."""


def main(smk) -> None:
    from skysift.anomaly import search_anomalies
    from skysift.io import read_tables, write_parquet_df

    scores = search_anomalies(read_tables(smk.input), n_jobs=smk.threads, **smk.params.anomaly)
    write_parquet_df(scores, smk.output[0])


if __name__ == "__main__":
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
