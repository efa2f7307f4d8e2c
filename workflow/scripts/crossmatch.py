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
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
