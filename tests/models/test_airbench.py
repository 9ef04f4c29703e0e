"""airbench94: the reference's counts, layer names, the whitening layer and the identity init."""

import keras
import numpy as np
import pytest

import cnn_keras
from cnn_keras.analysis import count_macs
from cnn_keras.layers import PartialDirac, PatchWhitening


def _trainable(model):
    return int(sum(np.prod(v.shape) for v in model.trainable_variables))


def test_counts_are_the_references():
    model = cnn_keras.airbench94()
    # the reference's parameters with requires_grad (whitening bias, convs, BN biases, head)
    assert _trainable(model) == 1_971_352
    # + the 288 frozen whitening weights and the batch norms' 2 x 1,152 moving statistics
    assert model.count_params() == 1_973_944
    assert count_macs(model) == 118_147_360  # 0.36 PFLOP for 9.9 epochs, as the reference says
    assert model.output_shape == (None, 10)


def test_layer_names_and_shapes_follow_the_reference():
    model = cnn_keras.airbench94(classifier_activation=None)
    shapes = {layer.name: layer.output.shape[1:] for layer in model.layers}
    assert shapes["whiten"] == (31, 31, 24)
    assert shapes["block1_pool"] == (15, 15, 64)
    assert shapes["block2_pool"] == (7, 7, 256)
    assert shapes["block3_bn2"] == (3, 3, 256)
    bn = model.get_layer("block2_bn1")
    assert (bn.momentum, bn.epsilon, bn.scale, bn.center) == (0.6, 1e-12, False, True)
    assert not model.get_layer("predictions").use_bias
    assert model.get_layer("logit_scale").scale == pytest.approx(1 / 9)
    assert [v.path for v in model.get_layer("whiten").trainable_variables] == ["whiten/bias"]


def test_feature_extractor_and_bad_arguments():
    model = cnn_keras.airbench94(include_top=False, pooling="avg", input_shape=(64, 64, 3))
    assert model.output_shape == (None, 256)
    with pytest.raises(ValueError, match=r"three integers.*Received: widths=\(64,"):
        cnn_keras.airbench94(widths=(64, 256))
    with pytest.raises(ValueError, match="Received: whiten='yes'"):
        cnn_keras.airbench94(whiten="yes")
    with pytest.raises(ValueError, match="at least 9x9"):
        cnn_keras.airbench94(input_shape=(8, 8, 3))


def test_adapted_whitening_decorrelates_the_patches():
    rng = np.random.default_rng(0)
    # correlated channels, smooth in space: far from white
    base = rng.normal(size=(64, 33, 33, 1)).cumsum(axis=1).cumsum(axis=2) / 10
    x = np.concatenate([base, 0.5 * base + 0.1 * rng.normal(size=base.shape),
                        rng.normal(size=base.shape)], axis=-1)[:, :32, :32].astype("float32")
    layer = PatchWhitening(2, eps=0.0)
    layer.build((None, 32, 32, 3))
    eigenvalues = layer.adapt(x)
    assert np.all(np.diff(eigenvalues) <= 0)
    out = np.asarray(keras.ops.conv(x, layer.kernel, padding="valid"))[..., :12].reshape(-1, 12)
    np.testing.assert_allclose(out.T @ out / len(out), np.eye(12), atol=1e-3)
    kernel = np.asarray(layer.kernel)
    np.testing.assert_allclose(kernel[..., 12:], -kernel[..., :12])


def test_partial_dirac_passes_the_input_through_its_first_filters():
    kernel = np.asarray(PartialDirac()((3, 3, 4, 6)))
    x = np.random.default_rng(1).normal(size=(2, 5, 5, 4)).astype("float32")
    y = np.asarray(keras.ops.conv(x, kernel, padding="same"))
    np.testing.assert_allclose(y[..., :4], x, atol=1e-6)
    bound = 1 / np.sqrt(3 * 3 * 4)  # PyTorch's default init, on the other filters
    assert np.abs(kernel[..., 4:]).max() <= bound and np.abs(kernel[..., 4:]).max() > bound / 2


def test_the_ablation_switches():
    plain = cnn_keras.airbench94(whiten=False, dirac=False)
    assert plain.get_layer("whiten").kernel.trainable
    kernel = np.asarray(plain.get_layer("block1_conv2").kernel)
    assert kernel[1, 1, 0, 0] != 1.0
    assert _trainable(plain) == 1_971_352 + 288


def test_convs_of_one_shape_start_from_their_own_weights():
    model = cnn_keras.airbench94(dirac=False)
    kernels = [np.asarray(model.get_layer(f"block{b}_conv{c}").kernel)
               for b, c in ((2, 2), (3, 1), (3, 2))]  # all 3x3x256x256
    assert not np.array_equal(kernels[0], kernels[1]) and not np.array_equal(kernels[1],
                                                                           kernels[2])
