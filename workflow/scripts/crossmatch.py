"""Glue: cross-match one batch's objects with the catalogs (files, or the batch's XMatch results)."""


def main(smk) -> None:
    import pandas as pd

    from skysift.crossmatch import CatalogSpec, crossmatch_objects, read_objects

    specs = [CatalogSpec.from_config(name, section) for name, section in smk.params.catalogs.items()]
    # catalogs queried online (xmatch) arrive as per-batch result files made by the local rule query_xmatch
    precomputed = {s.name: pd.read_parquet(smk.input[s.name]) for s in specs if s.backend == "xmatch"}
    crossmatch_objects(
        read_objects(smk.input.objects),
        specs,
        smk.output.xmatch,
        taxonomy=smk.params.taxonomy,
        all_matches_output=smk.output.get("all"),
        associate_radius_arcsec=smk.params.associate_radius_arcsec,
        precomputed=precomputed,
        workers=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
