"""Glue: the batch list of one per-batch output family (what the training rules take instead of every file)."""


def main(smk) -> None:
    from skysift.io import write_batch_list

    write_batch_list(smk.input, smk.output[0])


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
