"""Small generated data and a small net for tests of the training machinery."""

import numpy as np

from cnn_keras import data as data_lib

# AlexNet's Fig. 1 four-layer CNN: where a test is about the training machinery rather than a
# net, it is traced in seconds instead of ResNet-20's ten (resume with batch norm is tested
# with ResNet-20 in test_numpy_pipeline, test_augment_layer and test_cli).
SMALL = "alexnet_fig1"


def tiny_data(n_train=96, n_test=40, seed=0):
    """Generated 32x32 images whose class is a colour: learnable in a few steps."""
    rng = np.random.default_rng(seed)

    def make(n):
        y = rng.integers(0, 3, n).astype("int32")
        x = rng.integers(0, 60, (n, 32, 32, 3))
        x[np.arange(n), :, :, y] += 150
        return x.astype("uint8"), y

    xtr, ytr = make(n_train)
    xte, yte = make(n_test)
    return data_lib.ImageData(xtr, ytr, xte, yte, ("r", "g", "b"), source="generated",
                              name="tiny")
