"""Glue: per-method ranked anomaly lists and scores.parquet (primary method), with the expert labels."""


def main(smk) -> None:
    from skysift.anomaly import SearchSettings, search_anomalies

    search_anomalies(
        smk.input.features,
        SearchSettings.from_config(smk.params.search),
        scores=smk.output.scores,
        ranked=smk.output.ranked,
        top=smk.output.top,
        label_files=smk.input.labels,
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
