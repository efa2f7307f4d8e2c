"""Glue: oracle evaluation of the anomaly methods on the demo truth (table, curves, figure)."""


def main(smk) -> None:
    from skysift.anomaly import OracleSettings, run_evaluation
    from skysift.anomaly.sessionfiles import model_pairs

    methods = list(smk.params.methods)
    models = list(smk.input.models)
    run_evaluation(
        smk.input.features,
        smk.input.truth,
        OracleSettings.from_config(smk.params.oracle),
        models=dict(zip(methods, model_pairs(models), strict=True)),
        sample=tuple(smk.input.sample),
        ranked=dict(zip(methods, smk.input.ranked, strict=True)),
        table=smk.output.table,
        curves=smk.output.curves,
        plot=smk.output.plot,
        crossmatch=smk.input.crossmatch,
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
