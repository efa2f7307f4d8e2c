"""Glue: score one batch with every method's saved model (per-batch scores tables, in rank order)."""


def main(smk) -> None:
    from skysift.anomaly import run_score_anomalies
    from skysift.anomaly.sessionfiles import model_pairs

    models = list(smk.input.models)
    run_score_anomalies(
        smk.input.features,
        model_pairs(models),
        smk.input.labels,
        list(smk.output),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
