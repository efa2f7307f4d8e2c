"""Glue: prepare the source's release (simulate the demo, cache IRSA's index, run the queries, convert a table)."""


def main(smk) -> None:
    from skysift.sources import run_prepare_release

    run_prepare_release(smk.params.settings, smk.config, smk.params.release_root)


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
