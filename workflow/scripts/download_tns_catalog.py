"""Glue (local rule, network): fetch the TNS public-objects CSV (cached) and write it as parquet."""


def main(smk) -> None:
    from skysift.crossmatch.tns import run_download_tns

    crossmatch = smk.config["crossmatch"]  # HTTP settings and the cache are not params: they rerun nothing
    run_download_tns({**crossmatch["tns"], "url": smk.params.url}, crossmatch["cache_dir"], smk.output[0])


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
