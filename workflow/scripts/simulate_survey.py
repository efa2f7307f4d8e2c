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
    import sys
    from pathlib import Path

    # The workflow uses the library of its own checkout (also inside conda: envs/skysift.yaml).
    sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1] / "src"))
    from skysift.logutil import log_to_file

    log_to_file(snakemake.log[0])
    main(snakemake)
