"""Glue (local rule, network): fetch the TNS public-objects CSV (cached) and write it as parquet."""


def main(smk) -> None:
    from pathlib import Path

    from skysift.crossmatch.tns import TNSSettings, download_tns_catalog

    cache_dir = Path(smk.params.cache_dir) / "tns"
    download_tns_catalog(TNSSettings(**smk.params.tns), cache_dir, smk.output[0])


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
