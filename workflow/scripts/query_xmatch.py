"""Glue (local rule, network): query CDS XMatch for one batch and one catalog; write all matches."""


def main(smk) -> None:
    from pathlib import Path

    import pyarrow as pa

    from skysift.crossmatch import CatalogSpec, read_objects, xmatch_objects
    from skysift.crossmatch.xmatch import XMatchSettings
    from skysift.io import write_parquet

    name = smk.wildcards.xmatch_catalog
    spec = CatalogSpec.from_config(name, smk.params.catalogs[name])
    settings = XMatchSettings(**smk.params.xmatch, cache_dir=str(Path(smk.params.cache_dir) / "xmatch"))
    matches = xmatch_objects(
        read_objects(smk.input.objects),
        spec,
        settings,
        associate_radius_arcsec=smk.params.associate_radius_arcsec,
    )
    write_parquet(pa.Table.from_pandas(matches, preserve_index=False), smk.output[0])


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
