"""Glue: train the classifier on cross-match (or truth, or user-table) labels; metrics, figures, model card and probabilities."""


def main(smk) -> None:
    from skysift.classify import ClassifierSettings, LabelSource, run_training
    from skysift.classify.run import TrainingOutputs
    from skysift.classify.settings import RepresentativenessSettings
    from skysift.io import expand_batch_lists

    inputs = expand_batch_lists(dict(smk.input.items()))  # batch lists -> their files
    run_training(
        inputs["features"],
        LabelSource.from_inputs(inputs, smk.params.label_table),
        ClassifierSettings.from_config(smk.params.classifier),
        TrainingOutputs(**dict(smk.output.items())),
        representative=RepresentativenessSettings.from_config(smk.params.representativeness),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
