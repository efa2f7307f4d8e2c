"""Glue: cache the release's checksum.md5 from IRSA (source irsa_bulk)."""


def main(smk) -> None:
    from pathlib import Path

    from skysift.sources.irsa_bulk import fetch_checksums

    fetch = smk.params.fetch
    fetch_checksums(fetch["bulk_url"], smk.params.dr, Path(smk.output[0]).parent, fetch["http"])


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
