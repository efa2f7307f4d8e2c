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
    from skysift.logutil import run_script

    run_script(main, snakemake)
