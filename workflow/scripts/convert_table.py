"""Glue: convert the long-format light-curve table (source table) to a DR tree with checksum.md5."""


def main(smk) -> None:
    from pathlib import Path

    from skysift.sources.table import convert_table

    table = smk.params.table
    convert_table(
        smk.input[0],
        table["columns"],
        Path(smk.output[0]).parent,
        smk.params.dr,
        fieldid=table["fieldid"],
        rcid=table["rcid"],
        time_offset=table["time_offset"],
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
