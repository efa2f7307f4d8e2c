"""Glue: the ranked anomaly table and every configured candidate list, in ECSV, CSV and VOTable."""


def main(smk) -> None:
    from skysift.candidates import (
        make_candidates,
        read_alert_names,
        read_nepochs,
        select_candidates,
        write_candidates,
    )
    from skysift.io import read_tables

    cfg = smk.params.candidates
    features = read_tables(smk.input.features)
    scores = read_tables([smk.input.scores])
    predictions = read_tables([smk.input.predictions])
    xmatch = read_tables(smk.input.crossmatch)
    nepochs = read_nepochs(smk.input.manifests)
    alert_names = read_alert_names(smk.input.alert_names[0] if smk.input.alert_names else None)
    common = {"dr": smk.params.dr, "nepochs_df": nepochs, "alert_names_df": alert_names}
    source_predictions = {
        name: read_tables([getattr(smk.input, f"{name}_predictions")])
        for name in ("early_snia", "kilonova")
        if hasattr(smk.input, f"{name}_predictions")  # a Namedlist: `in` would test values
    }

    table = make_candidates(features, scores, predictions, xmatch, top_n=cfg["top_n"], **common)
    write_candidates(table, smk.output.ecsv, smk.output.csv, smk.output.votable)
    for name, ecsv in zip(smk.params.lists, smk.output.lists, strict=True):
        table = select_candidates(
            features,
            scores,
            predictions,
            xmatch,
            cfg["lists"][name],
            name=name,
            transient_classes=cfg["transient_classes"],
            source_predictions=source_predictions,
            **common,
        )
        stem = str(ecsv).removesuffix(".ecsv")
        write_candidates(table, ecsv, f"{stem}.csv", f"{stem}.vot")


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
