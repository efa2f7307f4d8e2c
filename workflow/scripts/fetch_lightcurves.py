"""Glue: fetch or verify one batch (field) of the configured source and write its manifest."""


def main(smk) -> None:
    from skysift.sources import run_fetch_batch

    run_fetch_batch(
        smk.params.settings, smk.config, smk.params.release_root, smk.params.fieldid, smk.output[0]
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
