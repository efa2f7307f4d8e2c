"""Glue: simulate the demo survey release (DR layout, truth table, catalogs)."""

import json
import logging
from pathlib import Path


def main(smk) -> None:
    from skysift.simulate import simulate_release

    root = Path(smk.output.truth).parent
    summary = simulate_release(root, dr=smk.params.dr, **smk.params.demo)
    logging.getLogger("simulate_survey").info("summary: %s", json.dumps(summary, default=str))


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
