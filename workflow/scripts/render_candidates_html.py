"""Glue: the static HTML page of the candidate lists (links to the plots beside it)."""


def main(smk) -> None:
    from skysift.candidates import run_html

    run_html(
        dict(zip(smk.params.lists, smk.input.lists, strict=True)),
        smk.output[0],
        title=smk.params.title,
        dr=smk.params.dr,
        source=smk.params.source,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
