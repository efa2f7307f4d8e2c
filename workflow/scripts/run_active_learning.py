"""Glue: active-learning learning curves (strategies x seeds) on the labelled objects of the feature table."""


def main(smk) -> None:
    from skysift.classify import ActiveLearningSettings, LabelSource, run_learning_curves
    from skysift.classify.run import LearningCurveOutputs
    from skysift.io import expand_batch_lists

    inputs = expand_batch_lists(dict(smk.input.items()))  # batch lists -> their files
    run_learning_curves(
        inputs["features"],
        LabelSource.from_inputs(inputs, smk.params.label_table),
        ActiveLearningSettings.from_config(smk.params.active_learning),
        LearningCurveOutputs(**dict(smk.output.items())),
        n_jobs=smk.threads,
    )


if __name__ == "__main__":
    from skysift.logutil import run_script

    run_script(main, snakemake)
