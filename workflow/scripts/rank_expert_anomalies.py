"""Glue: each expert's ranked list of the candidate pool (their own model) and the consensus list."""


def main(smk) -> None:
    from pathlib import Path

    from skysift.anomaly import AnomalySettings, SessionFiles
    from skysift.anomaly.experts import run_rank_expert_anomalies
    from skysift.anomaly.sessionfiles import model_pairs

    methods = list(smk.params.methods)
    models = [Path(p) for p in smk.input.models]
    files = SessionFiles(
        models=dict(zip(methods, model_pairs(models), strict=True)),
        ranked=dict(zip(methods, (Path(p) for p in smk.input.ranked), strict=True)),
        sample=tuple(Path(p) for p in smk.input.sample),
        features=tuple(Path(p) for p in smk.input.features),
        crossmatch=tuple(Path(p) for p in smk.input.crossmatch),
        lightcurve_dir=Path(smk.log[0]).parent,  # not read: the lists have no cards
    )
    settings = AnomalySettings.from_config(smk.params.anomaly)
    run_rank_expert_anomalies(
        files,
        settings,
        label_files=list(smk.input.labels),
        experts=smk.output.experts,
        consensus=smk.output.consensus,
        consensus_csv=smk.output.consensus_csv,
        top_n=settings.rank.top_n,
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
