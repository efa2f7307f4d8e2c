"""Glue: ZTF alert names of the candidates-to-be by cone search in ALeRCE (cached), for the broker links."""


def main(smk) -> None:
    from skysift.candidates import AlertNameSettings, CandidateInputs, CandidatesSettings, run_alert_lookup

    run_alert_lookup(
        CandidateInputs.from_inputs(dict(smk.input.items())),
        CandidatesSettings.from_config(smk.params.candidates),
        # the HTTP keys come from the config (they change no result), url and radius are params
        AlertNameSettings.from_config({**smk.config["candidates"]["alert_lookup"], **smk.params.lookup}),
        smk.output.names,
        cache=smk.params.cache,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
