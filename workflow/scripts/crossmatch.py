"""Glue: cross-match one batch's objects with the catalogs (files, or the batch's XMatch results)."""


def main(smk) -> None:
    from skysift.crossmatch import run_crossmatch

    run_crossmatch(
        smk.input.objects,
        smk.params.catalogs,
        smk.output.xmatch,
        taxonomy=smk.params.taxonomy,
        associate_radius_arcsec=smk.params.associate_radius_arcsec,
        xmatch_results={
            name: smk.input[name] for name, s in smk.params.catalogs.items() if s["backend"] == "xmatch"
        },
        all_matches_output=smk.output.get("all"),
        workers=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
