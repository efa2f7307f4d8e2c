"""Glue: merge the per-batch scores into each method's global top-K table (and the scores table)."""


def main(smk) -> None:
    from skysift.anomaly import RankSettings, run_rank_anomalies

    run_rank_anomalies(
        smk.params.batches,
        RankSettings.from_config(smk.params.rank),
        scores=smk.output.scores,
        ranked=smk.output.ranked,
        top=smk.output.top,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
