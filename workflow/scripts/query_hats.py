"""Glue: read the selected light curves of a HATS catalog (source hats) and write them as a DR tree."""


def main(smk) -> None:
    from pathlib import Path

    from skysift.sources.hats import fetch_hats

    fetch = smk.params.fetch
    hats = fetch["hats"]
    fetch_hats(
        hats["path"],
        smk.params.dr,
        Path(smk.output[0]).parent,
        region={key: hats[key] for key in ("cone", "box", "polygon")},
        fields=smk.params.fields,
        filters=fetch["filters"] or None,
        min_nepochs=hats["min_nepochs"],
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
