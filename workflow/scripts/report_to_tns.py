"""Glue: the TNS bulk AT report of the selected candidates; sent only with tns_send=true."""


def main(smk) -> None:
    from skysift.lightcurves import manifest_files
    from skysift.tnsreport import ReportSettings, SendSettings, report_candidates

    cfg = smk.params.report
    report_candidates(
        smk.input.table,
        manifest_files(smk.input.manifests),
        smk.output.report,
        ReportSettings.from_config(cfg),
        clean=smk.params.clean,
        objectids=cfg["objectids"],
        top_n=cfg["top_n"],
        send=SendSettings.from_config(cfg) if smk.params.send else None,
        reply_output=smk.output.outcome,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
