"""Glue (local rule, network): download one GraceDB superevent's sky map once."""


def main(smk) -> None:
    from skysift.skymap.gracedb import run_download_skymap

    # the HTTP settings are not params: they rerun nothing
    run_download_skymap(
        smk.params.superevent, smk.output[0], {**smk.config["skymap"]["gracedb"], "file": smk.params.file}
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
