"""Glue: the ranked anomaly table and every configured candidate list, in ECSV, CSV and VOTable."""


def main(smk) -> None:
    from skysift.candidates import CandidateInputs, CandidateOutputs, CandidatesSettings, run_candidates

    settings = CandidatesSettings.from_config(smk.params.candidates)
    run_candidates(
        CandidateInputs.from_inputs(dict(smk.input.items())),
        settings,
        CandidateOutputs(
            ecsv=smk.output.ecsv,
            csv=smk.output.csv,
            votable=smk.output.votable,
            lists=dict(zip(settings.lists, smk.output.lists, strict=True)),
        ),
        dr=smk.params.dr,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
