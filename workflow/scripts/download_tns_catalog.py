"""Glue (local rule, network): fetch the TNS public-objects CSV (cached) and write it as parquet."""


def main(smk) -> None:
    from skysift.crossmatch.tns import TNSSettings, download_tns_catalog

    cache_dir = Path(smk.params.cache_dir) / "tns"
    download_tns_catalog(TNSSettings(**smk.params.tns), cache_dir, smk.output[0])


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
