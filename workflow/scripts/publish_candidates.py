"""Glue: the versioned bundle of the candidate lists with README, provenance and SHA256SUMS."""


def main(smk) -> None:
    from pathlib import Path

    from skysift.candidates.publish import publish_bundle

    publish = smk.params.publish
    publish_bundle(
        Path(smk.output.sums).parent,
        dict(zip(smk.params.lists, smk.input.lists, strict=True)),
        name=publish["name"],
        version=publish["version"],
        config=smk.config,
        dr=smk.params.dr,
        source=smk.params.source,
        lightcurve_dir=smk.input.lightcurves,
        figures=[smk.input.sky_map, smk.input.scores_png],
        html=smk.input.html,
        inputs=[*smk.input.lists, *smk.input.data],
        workflow_dir=smk.params.workflow_dir,
        tarball=smk.output.tarball[0] if smk.output.tarball else None,
    )


if __name__ == "__main__":
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
