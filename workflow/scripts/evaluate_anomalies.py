"""Glue: oracle evaluation of the anomaly methods on the demo truth (table, curves, figure)."""



def main(smk) -> None:
    import pandas as pd

    from skysift.anomaly import (
        anomalous_sources,
        build_space,
        evaluate_methods,
        plot_curves,
        summarise_curves,
    )
    from skysift.io import atomic_path, read_tables

    anomaly = dict(smk.params.anomaly)
    evaluation = anomaly["evaluation"]
    space = build_space(
        read_tables(smk.input.features),
        transform=anomaly["transform"],
        feature_transforms=anomaly["feature_transforms"],
        per_band=anomaly["per_band"],
        per_source=anomaly["per_source"],
    )
    anomalies = anomalous_sources(space, pd.read_parquet(smk.input.truth), anomaly["anomaly_classes"])
    n_sources = len(set(space.source_id.tolist()))
    curves = evaluate_methods(
        space, anomalies, smk.params.methods, evaluation["seeds"], max(evaluation["budgets"]), anomaly
    )
    table = summarise_curves(curves, evaluation["budgets"], len(anomalies), n_sources)
    for frame, path in ((table, smk.output.table), (curves, smk.output.curves)):
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False, float_format="%.4g")
    plot_curves(curves, smk.output.plot, n_anomalies=len(anomalies), n_sources=n_sources)


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
