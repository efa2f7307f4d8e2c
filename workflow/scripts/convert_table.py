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
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
