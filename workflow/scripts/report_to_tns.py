"""Glue: the TNS bulk AT report of the selected candidates, built and written, never sent (that is
`skysift report-tns --send`)."""


def main(smk) -> None:
    from skysift.tnsreport import run_report_to_tns

    run_report_to_tns(
        smk.input.table,
        smk.input.manifests,
        smk.output.report,
        smk.output.outcome,
        smk.params.report,
        clean=smk.params.clean,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
