"""The ``skysift`` command: small tools around the workflow (the workflow itself is ``snakemake``)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from skysift import __version__
from skysift.config import SCHEMA_PATH, ConfigError
from skysift.io import InputError
from skysift.net.retry import FetchError

__all__ = ["main"]

#: The schema shipped in the package: the commands work outside a checkout.
DEFAULT_SCHEMA = SCHEMA_PATH
#: Exit status of a user error (bad config, missing file): one clear line, no traceback unless --debug.
USER_ERROR = 2
#: Exit status of a service that failed for good (TNS, IRSA, ...): one clear line too.
SERVICE_ERROR = 1


def _config_doc(args: argparse.Namespace) -> int:
    """Write the Markdown config reference generated from the schema."""
    from skysift.config import schema_markdown
    from skysift.io import atomic_path

    text = schema_markdown(args.schema)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with atomic_path(args.output) as tmp:
            tmp.write_text(text)
    return 0


def _demo_plot(args: argparse.Namespace) -> int:
    """Draw a few demo light curves per class to a PNG for a human to look at."""
    from skysift.simulate import plot_examples

    plot_examples(args.root, args.output, per_class=args.per_class)
    print(args.output)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    """Simulate a demo release outside the workflow: the ``demo`` section of --config (or the schema's)."""
    from skysift.config import default_config, load_config
    from skysift.simulate import DemoSettings, simulate_release

    config = load_config(args.config) if args.config else default_config()
    options = {"seed": args.seed, "n_objects": args.n_objects}
    overrides = {key: value for key, value in options.items() if value is not None}
    demo = DemoSettings.from_config(config["demo"])
    summary = simulate_release(args.root, demo, dr=args.dr or config["dr"], **overrides)
    print(summary)
    return 0


def _skymap_demo(args: argparse.Namespace) -> int:
    """Write a Gaussian-blob GW sky map centred on a position or an objectid of a table."""
    from skysift.io import InputError
    from skysift.skymap import position_of, write_demo_skymap

    if args.objectid is not None:
        if args.table is None:
            raise InputError("skymap-demo: --objectid needs --table (a candidate ECSV or truth.parquet)")
        ra, dec = position_of(args.table, args.objectid)
    elif args.ra is not None and args.dec is not None:
        ra, dec = args.ra, args.dec
    else:
        raise InputError("skymap-demo: give --ra and --dec, or --objectid with --table")
    sky = write_demo_skymap(
        args.output, ra, dec, event_mjd=args.event_mjd, sigma_deg=args.sigma, multiorder=args.multiorder,
        nside=args.nside, nested=args.ordering == "nested", max_order=args.max_order, name=args.output.stem,
    )  # fmt: skip
    kind = "multi-order" if sky.multiorder else f"flat NSIDE {sky.nside} {args.ordering.upper()}"
    print(f"{args.output}: {kind}, {sky.npix} pixels, centre ({ra:.5f}, {dec:+.5f}), MJD {args.event_mjd}")
    return 0


def _report_tns(args: argparse.Namespace) -> int:
    """Build the TNS bulk AT report of candidates; with --send deliver it exactly once (ledger, TNS asked)."""
    import json

    from skysift.config import default_config, load_config
    from skysift.io import InputError
    from skysift.lightcurves import manifest_files
    from skysift.tnsreport import ReportSettings, SendSettings, report_candidates

    # the schema's defaults, or the run's validated config; then the command line
    section = dict((load_config(args.config, args.schema) if args.config else default_config())["tns_report"])
    given = {"reporting_group_id": args.group_id, "reporter": args.reporter, "url": args.url,
             "api_key_env": args.api_key_env, "bot_id": args.bot_id, "bot_name": args.bot_name}  # fmt: skip
    section |= {k: v for k, v in given.items() if v is not None}
    settings = ReportSettings.from_config(section)
    send = SendSettings.from_config(section) if args.send else None
    files = [*(args.lightcurves or []), *manifest_files(args.manifests or [])]
    if not files:
        raise InputError("report-tns: give --lightcurves (DR-layout parquet files) or --manifests")
    outcome = report_candidates(
        args.table, files, args.output, settings, objectids=args.objectid or section["objectids"],
        top_n=args.top_n or section["top_n"], send=send, ledger=args.ledger, force=args.force,
    )  # fmt: skip
    print(json.dumps({k: v for k, v in outcome.items() if k != "reply"}, indent=2))
    return 0


def _label(args: argparse.Namespace) -> int:
    """Expert-in-the-loop anomaly labelling in the terminal (answers appended to --labels at once)."""
    from skysift.anomaly.session import label_command
    from skysift.io import safe_name

    safe_name(args.expert, "skysift label --expert")  # written into labels files, shown in pages
    labels = args.labels if args.labels is not None else Path("labels") / f"{args.expert}.csv"
    label_command(labels, args.expert, config_path=args.config, schema=args.schema, session=args.session,
                  method=args.method, budget=args.budget, threads=args.threads, stdin=sys.stdin,
                  stdout=sys.stdout)  # fmt: skip
    return 0


def _profile_install(args: argparse.Namespace) -> int:
    """Write the Slurm profile with the site's account/partition/QOS where `snakemake --profile NAME` finds it."""
    from skysift.siteprofile import ProfileError, SiteSettings, check_site, install_profile

    try:
        site = SiteSettings(account=args.account, partition=args.partition, qos=args.qos,
                            long_partition=args.long_partition, accounting=not args.no_accounting)  # fmt: skip
        check = None if args.no_check else check_site(site, "given on the command line")
        for note in check.notes if check else []:
            print(f"note: {note}", file=sys.stderr)
        if check and not check.ok:
            problems = "\n  ".join(check.problems)
            raise ProfileError(
                f"nothing written, Slurm disagrees (--no-check to write anyway):\n  {problems}"
            )
        path = install_profile(site, args.name, config_dir=args.config_dir, force=args.force)
    except ProfileError as err:
        print(f"skysift profile install: error: {err}", file=sys.stderr)
        return 1
    use = args.name if args.config_dir is None else path.parent
    print(f"wrote {path}\nuse it: snakemake --profile {use}")
    return 0


def _profile_check(args: argparse.Namespace) -> int:
    """Ask Slurm whether a profile's account, partitions and QOS can be used (exit 1 if not)."""
    from skysift.siteprofile import ProfileError, check_site, find_profile, site_from_profile

    try:
        path = find_profile(args.profile)
        check = check_site(site_from_profile(path), str(path))
    except ProfileError as err:
        print(f"skysift profile check: error: {err}", file=sys.stderr)
        return 1
    for note in check.notes:
        print(f"note: {note}")
    for problem in check.problems:
        print(f"problem: {problem}")
    print(f"{path}: {'ok' if check.ok else 'fix the problems above'}")
    return 0 if check.ok else 1


def _cost(args: argparse.Namespace) -> int:
    """Scale a finished run's benchmark files to a target release and print the estimate."""
    from skysift.config import default_config
    from skysift.cost import format_estimate, measure_run, predict

    run = measure_run(args.results)
    defaults = default_config()
    fit_sample = args.fit_sample or defaults["anomaly"]["fit_sample"]
    max_train_rows = args.max_train_rows or defaults["classify"]["max_train_rows"]
    est = predict(
        run, fields=args.fields, lightcurves=int(args.lightcurves), nodes=args.nodes, cores=args.cores,
        fit_sample=fit_sample, max_train_rows=max_train_rows,
    )  # fmt: skip
    sys.stdout.write(format_estimate(est, run))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skysift`` console script."""
    parser = argparse.ArgumentParser(prog="skysift", description=__doc__)
    parser.add_argument("--version", action="version", version=f"skysift {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("config-doc", help="generate config/README.md from the config schema")
    p.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    p.add_argument("--output", default="config/README.md", help="file to write, or - for stdout")
    p.set_defaults(func=_config_doc)

    p = sub.add_parser("demo-plot", help="plot example demo light curves per class to a PNG")
    p.add_argument("root", type=Path, help="demo survey root (e.g. results/demo)")
    p.add_argument("output", type=Path, help="PNG to write")
    p.add_argument("--per-class", type=int, default=2)
    p.set_defaults(func=_demo_plot)

    p = sub.add_parser("simulate", help="simulate a demo release into a directory")
    p.add_argument("root", type=Path)
    p.add_argument(
        "--config", type=Path, help="config file whose dr and demo section to use (default: the schema's)"
    )
    p.add_argument("--dr", help="release name (default: the config's dr)")
    p.add_argument("--seed", type=int, help="random seed (default: the config's demo.seed)")
    p.add_argument("--n-objects", type=int, help="sky sources (default: the config's demo.n_objects)")
    p.set_defaults(func=_simulate)

    p = sub.add_parser("skymap-demo", help="write a Gaussian-blob GW sky map (flat or multi-order FITS)")
    p.add_argument("output", type=Path, help="FITS file to write")
    p.add_argument("--ra", type=float, help="centre RA (deg)")
    p.add_argument("--dec", type=float, help="centre Dec (deg)")
    p.add_argument("--objectid", type=int, help="centre on this objectid of --table")
    p.add_argument("--table", type=Path, help="table with objectid, ra, dec (candidate ECSV, truth.parquet)")
    p.add_argument("--event-mjd", type=float, required=True, help="event time (MJD, UTC): MJD-OBS, DATE-OBS")
    p.add_argument("--sigma", type=float, default=2.0, help="Gaussian width (deg)")
    p.add_argument("--multiorder", action="store_true", help="write a multi-order (UNIQ) map")
    p.add_argument("--nside", type=int, default=256, help="NSIDE of a flat map")
    p.add_argument("--ordering", choices=["nested", "ring"], default="nested")
    p.add_argument("--max-order", type=int, default=10, help="finest order of a multi-order map")
    p.set_defaults(func=_skymap_demo)

    p = sub.add_parser("report-tns", help="build (and with --send, submit exactly once) a TNS bulk AT report")
    p.add_argument("table", type=Path, help="candidate or sky-map counterpart table (ECSV)")
    p.add_argument("output", type=Path, help="report JSON to write (with --send: what was sent)")
    p.add_argument("--lightcurves", nargs="+", help="DR-layout parquet files with the light curves")
    p.add_argument("--manifests", nargs="+", help="fetch manifests (results/fetch/*.tsv) listing DR files")
    p.add_argument(
        "--config", type=Path, help="the run's config: its tns_report section (else the schema's defaults)"
    )
    p.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    p.add_argument("--objectid", type=int, action="append", help="objectid to report (repeatable)")
    p.add_argument("--top-n", type=int, help="report the first N rows without --objectid (tns_report.top_n)")
    p.add_argument("--group-id", type=int, help="TNS reporting group id (tns_report.reporting_group_id)")
    p.add_argument("--reporter", help="reporters' names (tns_report.reporter)")
    p.add_argument(
        "--send", action="store_true", help="submit it, exactly once (default: only write the JSON)"
    )
    p.add_argument("--ledger", type=Path, default=Path("results/tns/sent.jsonl"),
                   help="record of what was sent (appended, fsync'd); objects in it are not sent again")  # fmt: skip
    p.add_argument("--force", action="store_true",
                   help="report even objects already sent, known to TNS or catalogued as non-transients")  # fmt: skip
    p.add_argument("--url", help="TNS API base (tns_report.url; default: the sandbox)")
    p.add_argument("--api-key-env", help="environment variable holding the key (tns_report.api_key_env)")
    p.add_argument("--bot-id", type=int, help="TNS bot id (User-Agent tns_marker; tns_report.bot_id)")
    p.add_argument("--bot-name", help="TNS bot name (tns_report.bot_name)")
    p.set_defaults(func=_report_tns)

    p = sub.add_parser("label", help="label anomaly candidates in the terminal (y/n/skip/quit; resumable)")
    p.add_argument("--labels", type=Path,
                   help="CSV labels file the answers are appended to (default labels/<expert>.csv)")  # fmt: skip
    p.add_argument("--expert", required=True,
                   help="your name, written with every answer; with anomaly.personal: whose model continues")  # fmt: skip
    p.add_argument("--config", type=Path, default=Path("config/config.yaml"), help="the run's config")
    p.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    p.add_argument("--session", type=Path, required=True,
                   help="the run's session file: what it wrote for an expert session (rule describe_label_session; "
                   "see README)")  # fmt: skip
    p.add_argument("--method", help="override anomaly.method (e.g. aad)")
    p.add_argument("--budget", type=int, help="stop after this many answers")
    p.add_argument(
        "--threads", type=int, default=2, help="threads of the refits (the bands refit side by side)"
    )
    p.set_defaults(func=_label)

    p = sub.add_parser("profile", help="install or check a Snakemake profile for your site's Slurm")
    psub = p.add_subparsers(dest="profile_command", required=True)
    q = psub.add_parser(
        "install", help="write profiles/slurm with your account and partition for --profile slurm"
    )
    q.add_argument("name", help="the profile to install (skysift ships: slurm)")
    who = q.add_mutually_exclusive_group(required=True)
    who.add_argument("--account", help="Slurm account to charge (sacctmgr show assoc user=$USER)")
    who.add_argument(
        "--no-accounting", action="store_true", help="cluster without slurmdbd: no account, squeue"
    )
    q.add_argument("--partition", required=True, help="default partition of the jobs")
    q.add_argument("--qos", help="Slurm QOS of the jobs (default: the association's)")
    q.add_argument("--long-partition", help="partition of the rules above the default partition's time limit")
    q.add_argument("--force", action="store_true", help="replace an existing profile")
    q.add_argument(
        "--config-dir", type=Path, help="write DIR/NAME/config.yaml (default: Snakemake's user config dir)"
    )
    q.add_argument(
        "--no-check", action="store_true", help="do not ask Slurm whether the settings can be used"
    )
    q.set_defaults(func=_profile_install)
    q = psub.add_parser("check", help="ask Slurm whether a profile's account, partitions and QOS can be used")
    q.add_argument(
        "profile", nargs="?", default="slurm", help="profile name or path, as for snakemake --profile"
    )
    q.set_defaults(func=_profile_check)

    p = sub.add_parser(
        "cost", help="predict CPU, memory, disk and wall time of a release from a finished run"
    )
    p.add_argument(
        "--results", type=Path, default=Path("results"), help="the finished run's results directory"
    )
    p.add_argument("--fields", type=int, required=True, help="batches (ZTF fields) of the target release")
    p.add_argument(
        "--lightcurves", type=float, required=True, help="light curves of the target release (1e9 ok)"
    )
    p.add_argument("--nodes", type=int, default=1, help="nodes to run on (for the wall time)")
    p.add_argument("--cores", type=int, default=32, help="cores per node")
    p.add_argument(
        "--fit-sample", type=int, help="anomaly.fit_sample of the target run (default: the schema's)"
    )
    p.add_argument(
        "--max-train-rows", type=int, help="classify.max_train_rows of the target run (default: the schema's)"
    )
    p.set_defaults(func=_cost)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.func(args)
    except (InputError, ConfigError, FileNotFoundError, IsADirectoryError, PermissionError) as err:
        if args.debug:
            raise
        message = (
            " ".join(str(err).split()) if not isinstance(err, OSError) else f"{err.filename}: {err.strerror}"
        )
        print(f"skysift {args.command}: error: {message} (--debug shows the traceback)", file=sys.stderr)
        return USER_ERROR
    except FetchError as err:
        if args.debug:
            raise
        print(f"skysift {args.command}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return SERVICE_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
