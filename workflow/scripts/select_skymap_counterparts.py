"""Glue: candidates of the configured lists inside one sky map's credible region and time window."""

import logging


def main(smk) -> None:
    from skysift.lightcurves import manifest_files
    from skysift.skymap import select_skymap_counterparts

    if smk.params.skipped:
        logging.getLogger("skysift.skymap").warning(
            "skymap.lists %s are not in candidates.lists: skipped", smk.params.skipped
        )
    select_skymap_counterparts(
        smk.input.skymap,
        dict(zip(smk.params.lists, smk.input.lists, strict=True)),
        manifest_files(smk.input.manifests),
        {
            "ecsv": smk.output.ecsv,
            "csv": smk.output.csv,
            "png": smk.output.png,
            "summary": smk.output.summary,
        },
        name=smk.wildcards.map,
        clean=smk.params.clean,
        credible_level=smk.params.credible_level,
        window_days=tuple(smk.params.window_days),
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
