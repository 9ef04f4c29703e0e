"""A finished run's model as a user loads it: raw images in, predictions out.

Training feeds every net images scaled to [0, 1] minus the per-pixel mean of the training
images (`cnn_keras.data`), so the checkpoint alone gives wrong answers on raw images. A run
therefore also saves ``model.keras``: the trained net behind two stock Keras layers that do
that preprocessing, with the mean stored in the file. `keras.models.load_model` on it (after
importing `cnn_keras`, or `cnn_keras.load_model`) predicts on uint8 [0, 255] images with the
accuracy the run recorded.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

MODEL_FILE = "model.keras"


def with_preprocessing(model: keras.Model, mean, std=None) -> keras.Model:
    """`model` behind the pipeline's preprocessing: x / 255 minus `mean` (the per-pixel mean,
    shaped like one image), or, with `std`, minus a per-channel `mean` and divided by `std`
    (the streamed pipeline's, `data.streaming`). A model with auxiliary heads keeps its main
    output only (the heads are for training)."""
    mean = np.asarray(mean, dtype="float32")
    variance = np.ones_like(mean) if std is None else np.square(np.asarray(std, "float32"))
    inputs = keras.Input(model.input_shape[1:], name="images_0_255")
    x = keras.layers.Rescaling(1 / 255, name="scale_to_unit")(inputs)
    # Normalization with variance 1 only subtracts the mean. Set as its weights (not as
    # constructor arguments, which would copy 3,072 numbers into the saved config twice).
    axis, name = ((-3, -2, -1), "subtract_pixel_mean") if std is None else (-1, "normalise")
    norm = keras.layers.Normalization(axis=axis, name=name)
    norm.build((None, *mean.shape) if std is None else (None, None, None, len(mean)))
    norm.set_weights([mean, variance, np.float32(1)])
    norm.finalize_state()
    outputs = model(norm(x))
    if isinstance(outputs, (list, tuple)):
        outputs = outputs[0]
    return keras.Model(inputs, outputs, name=f"{model.name}_with_preprocessing")


def save_with_preprocessing(model: keras.Model, mean, run_dir, std=None) -> Path:
    """Write ``run_dir/model.keras`` (see `with_preprocessing`); returns its path."""
    path = Path(run_dir) / MODEL_FILE
    with_preprocessing(model, mean, std).save(path)
    return path
