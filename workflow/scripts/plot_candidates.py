"""Glue: a light-curve PNG per listed candidate, the score distribution and the sky map."""


def main(smk) -> None:
    import pandas as pd
    from astropy.table import Table

    from skysift.candidates.plots import (
        merge_lists,
        plot_lightcurves,
        plot_order,
        plot_score_distribution,
        plot_sky_map,
    )
    from skysift.io import read_tables

    lists = {
        name: Table.read(path, format="ascii.ecsv")
        for name, path in zip(smk.params.lists, smk.input.lists, strict=True)
    }
    plot_score_distribution(read_tables([smk.input.scores]), lists, smk.output.scores)
    plot_sky_map(lists, smk.output.sky_map, background=read_tables(smk.input.features)[["ra", "dec"]])
    raw = [path for manifest in smk.input.manifests for path in pd.read_csv(manifest, sep="\t")["path"]]
    plot_lightcurves(
        merge_lists(lists),
        smk.input.objects,
        smk.output.lightcurves,
        objectids=plot_order(lists, smk.params.max_plots),
        raw_paths=raw,
        cuts=smk.params.clean,
        fold_min_snr=smk.params.fold_min_snr,
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
