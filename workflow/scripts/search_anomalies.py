"""Glue: anomaly scores and ranks for every object of the run."""


def main(smk) -> None:
    from skysift.anomaly import search_anomalies
    from skysift.io import read_tables, write_parquet_df

    scores = search_anomalies(read_tables(smk.input), **smk.params.anomaly)
    write_parquet_df(scores, smk.output[0])


if __name__ == "__main__":
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
