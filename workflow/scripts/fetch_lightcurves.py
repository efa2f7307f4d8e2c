"""Glue: verify one batch (field) of the release and write its manifest."""


def main(smk) -> None:
    from skysift.sources.local import fetch_local_batch

    fetch_local_batch(smk.params.release_root, smk.params.fieldid, smk.output[0], verify=smk.params.verify)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
