"""Glue: the versioned bundle of the candidate lists with README, provenance and SHA256SUMS.

The provenance records the run's whole (validated) config, read here and not a rule param: the
bundle is remade when its inputs or the publish settings change, not when an execution setting does.
"""


def main(smk) -> None:
    from pathlib import Path

    from skysift.candidates import PublishSettings
    from skysift.candidates.publish import publish_bundle

    publish = PublishSettings.from_config(smk.params.publish)
    publish_bundle(
        Path(smk.output.sums).parent,
        dict(zip(smk.params.lists, smk.input.lists, strict=True)),
        name=publish.name,
        version=publish.version,
        config=smk.config,
        dr=smk.params.dr,
        source=smk.params.source,
        lightcurve_dir=smk.input.lightcurves,
        figures=[smk.input.sky_map, smk.input.scores_png],
        html=smk.input.html,
        inputs=[*smk.input.lists, *smk.input.data],
        workflow_dir=Path(smk.scriptdir).parents[1],
        tarball=smk.output.tarball[0] if smk.output.tarball else None,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
