"""Glue: run the ID/cone queries of source irsa_api or snad and write the answers as a DR tree."""


def main(smk) -> None:
    from pathlib import Path

    from skysift.sources.convert import read_cones, read_ids
    from skysift.sources.irsa_api import fetch_irsa_api
    from skysift.sources.snad import fetch_snad

    fetch = smk.params.fetch
    ids = read_ids(fetch["ids_file"]) if fetch["ids_file"] else None
    cones = read_cones(fetch["cones_file"], fetch["cone_radius_arcsec"]) if fetch["cones_file"] else None
    fetcher, url = (
        (fetch_irsa_api, fetch["api_url"])
        if smk.params.source == "irsa_api"
        else (fetch_snad, fetch["snad_url"])
    )
    fetcher(
        url,
        smk.params.dr,
        Path(smk.output[0]).parent,
        ids=ids,
        cones=cones,
        filters=fetch["filters"] or None,
        batch_size=fetch["batch_size"],
        http=fetch["http"],
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
