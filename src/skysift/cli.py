"""The ``skysift`` command: small tools around the workflow (the workflow itself is ``snakemake``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]

DEFAULT_SCHEMA = Path("workflow/schemas/config.schema.yaml")


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
    from skysift.sources.demo import plot_examples

    plot_examples(args.root, args.output, per_class=args.per_class)
    print(args.output)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    """Simulate a demo release outside the workflow."""
    from skysift.sources.demo import simulate_release

    summary = simulate_release(args.root, dr=args.dr, seed=args.seed, n_objects=args.n_objects)
    print(summary)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skysift`` console script."""
    parser = argparse.ArgumentParser(prog="skysift", description=__doc__)
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
    p.add_argument("--dr", default="dr24")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--n-objects", type=int, default=2000)
    p.set_defaults(func=_simulate)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
