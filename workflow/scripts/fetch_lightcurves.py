"""Glue: fetch (irsa_bulk) or verify (local, demo, API answers) one batch (field) and write its manifest."""


def main(smk) -> None:
    fetch = smk.params.fetch
    if smk.params.source == "irsa_bulk":
        from skysift.sources.irsa_bulk import fetch_bulk_batch

        fetch_bulk_batch(
            fetch["bulk_url"],
            smk.params.dr,
            smk.params.release_root,
            smk.params.fieldid,
            smk.output[0],
            filters=fetch["filters"],
            ccds=fetch["ccds"],
            http=fetch["http"],
        )
        return
    from skysift.sources.local import fetch_local_batch

    fetch_local_batch(
        smk.params.release_root,
        smk.params.fieldid,
        smk.output[0],
        verify=smk.params.verify,
        filters=fetch["filters"] if smk.params.source in ("local", "table") else None,
        ccds=fetch["ccds"] if smk.params.source in ("local", "table") else None,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
