"""The speed chapter: airbench94 (Jordan 2024) trained with its speedrun recipe.

    recipe.py     SpeedrunRecipe: the reference's hyperparameters, each trick an option, and
                  TRICKS, the ablation (Keras-free)
    batches.py    the reference's data: per-channel normalisation, alternating flips,
                  translations (numpy, so the same on every backend)
    lookahead.py  Lookahead: the weights pulled back to their moving average every 5 steps
    tta.py        flip-and-translate test-time augmentation
    run.py        train: the resumable training loop that records a run folder
    report.py     load: a recorded run's history, summary and caption
    ablation.py   run and table: the full recipe and each trick removed in turn
"""

from cnn_keras.speedrun.recipe import TRICKS, SpeedrunRecipe, ablated  # noqa: F401
