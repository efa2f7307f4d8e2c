"""Glue: the TNS bulk AT report of the selected candidates; sent only with tns_send=true."""


def main(smk) -> None:
    from skysift.tnsreport import run_report_to_tns

    run_report_to_tns(
        smk.input.table,
        smk.input.manifests,
        smk.output.report,
        smk.output.outcome,
        smk.params.report,
        clean=smk.params.clean,
        # how to send is not a param (it changes no report): read from the validated config
        send={**smk.config["tns_report"], "url": smk.params.send_to} if smk.params.send else None,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
