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
    from skysift.logutil import run_script

    run_script(main, snakemake)
