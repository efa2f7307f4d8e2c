"""Glue: the ranked candidate table in ECSV, CSV and VOTable."""


def main(smk) -> None:
    from skysift.candidates import make_candidates, write_candidates
    from skysift.io import read_tables

    table = make_candidates(
        read_tables(smk.input.features),
        read_tables([smk.input.scores]),
        read_tables([smk.input.predictions]),
        read_tables(smk.input.crossmatch),
        dr=smk.params.dr,
        top_n=smk.params.candidates["top_n"],
    )
    write_candidates(table, smk.output.ecsv, smk.output.csv, smk.output.votable)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
