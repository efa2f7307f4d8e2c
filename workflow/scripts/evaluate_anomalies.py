"""Glue: oracle evaluation of the anomaly methods on the demo truth (table, curves, figure)."""


def main(smk) -> None:
    from skysift.anomaly import OracleSettings, run_evaluation

    run_evaluation(
        smk.input.features,
        smk.input.truth,
        OracleSettings.from_config(smk.params.oracle),
        table=smk.output.table,
        curves=smk.output.curves,
        plot=smk.output.plot,
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
