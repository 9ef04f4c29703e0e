"""Custom layers: LRN against TensorFlow's, option-A shortcut, serialization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import cnn_keras
from cnn_keras.layers import ALEXNET_LRN, LocalResponseNormalization, ZeroPadShortcut

from built import infer


@pytest.mark.parametrize("size,k,alpha,beta", [(5, 2.0, 1e-4, 0.75), (3, 1.0, 0.01, 0.5)])
def test_lrn_matches_tensorflow(size, k, alpha, beta):
    x = np.random.default_rng(0).normal(0, 20, (2, 6, 6, 16)).astype("float32")
    ours = keras.ops.convert_to_numpy(LocalResponseNormalization(size, k, alpha, beta)(x))
    ref = tf.nn.local_response_normalization(x, depth_radius=size // 2, bias=k, alpha=alpha,
                                             beta=beta).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_lrn_formula_by_hand():
    x = np.zeros((1, 1, 1, 7), "float32")
    x[..., 3] = 10.0
    x[..., 5] = 4.0
    y = keras.ops.convert_to_numpy(LocalResponseNormalization()(x))[0, 0, 0]
    # channel 3 sees channels 1..5: 10^2 + 4^2
    assert y[3] == pytest.approx(10 / (2 + 1e-4 * 116) ** 0.75, rel=1e-6)
    assert y[0] == 0



@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_lrn_under_mixed_precision_does_not_overflow(policy):
    # activations of 200: their squares summed over 5 channels pass float16's 65504
    x = np.full((1, 2, 2, 8), 200.0, "float32")
    ref = keras.ops.convert_to_numpy(LocalResponseNormalization()(x))
    layer = LocalResponseNormalization(dtype=policy)
    y = keras.ops.convert_to_numpy(keras.ops.cast(layer(x), "float32"))
    assert keras.backend.standardize_dtype(layer(x).dtype) == policy.removeprefix("mixed_")
    np.testing.assert_allclose(y, ref, rtol=1e-2)
    assert y.min() > 10  # not the zeros that float16's inf ** -beta gave

def test_lrn_validation_and_round_trip(tmp_path):
    with pytest.raises(ValueError, match="Received: size=4"):
        LocalResponseNormalization(size=4)
    inp = keras.Input((8, 8, 4))
    model = keras.Model(inp, ZeroPadShortcut(8, 2)(LocalResponseNormalization()(inp)))
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(1).normal(size=(1, 8, 8, 4)).astype("float32")
    np.testing.assert_allclose(infer(again, x), infer(model, x))
    assert again.output_shape == (None, 4, 4, 8)


def test_alexnet_lrn_settings_are_shared():
    """AlexNet's LRN constants (Sec. 3.3) are defined once and used by AlexNet, VGG's A-LRN and
    GoogLeNet's stem."""
    assert ALEXNET_LRN == {"size": 5, "k": 2.0, "alpha": 1e-4, "beta": 0.75}
    default = LocalResponseNormalization()
    assert {key: getattr(default, key) for key in ALEXNET_LRN} == ALEXNET_LRN
    models = [cnn_keras.alexnet_cifar(include_top=False),
              cnn_keras.vgg11_lrn(include_top=False, input_shape=(32, 32, 3)),
              cnn_keras.googlenet(include_top=False, input_shape=(32, 32, 3))]
    for model in models:
        lrns = [la for la in model.layers if isinstance(la, LocalResponseNormalization)]
        assert lrns, model.name
        for lrn in lrns:
            assert {key: lrn.get_config()[key] for key in ALEXNET_LRN} == ALEXNET_LRN
