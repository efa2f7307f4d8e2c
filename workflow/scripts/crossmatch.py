"""Glue: cross-match one batch's objects with the local catalogs."""


def main(smk) -> None:
    from skysift.crossmatch import CatalogSpec, crossmatch_objects, read_objects

    specs = [CatalogSpec.from_config(name, section) for name, section in smk.params.catalogs.items()]
    crossmatch_objects(read_objects(smk.input.objects), specs, smk.output[0], taxonomy=smk.params.taxonomy)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
