"""Glue: the static HTML page of the candidate lists (links to the plots beside it)."""


def main(smk) -> None:
    from astropy.table import Table

    from skysift.candidates.html import write_html

    lists = {
        name: Table.read(path, format="ascii.ecsv")
        for name, path in zip(smk.params.lists, smk.input.lists, strict=True)
    }
    write_html(lists, smk.output[0], title=smk.params.title, dr=smk.params.dr, source=smk.params.source)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
