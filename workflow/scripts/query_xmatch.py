"""Glue (local rule, network): query CDS XMatch for one batch and one catalog; write all matches."""


def main(smk) -> None:
    from skysift.crossmatch import run_query_xmatch

    crossmatch = smk.config["crossmatch"]  # HTTP settings, chunking and the cache are not params
    run_query_xmatch(
        smk.input.objects,
        smk.wildcards.xmatch_catalog,
        smk.params.catalog,
        smk.output[0],
        xmatch={**crossmatch["xmatch"], "url": smk.params.url},
        cache_dir=crossmatch["cache_dir"],
        associate_radius_arcsec=smk.params.associate_radius_arcsec,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
