"""cnn_keras.compress: magnitude pruning and int8 weight quantisation of a trained model."""

import keras
import numpy as np
import pytest

from cnn_keras import compress


def _net():
    """A small conv net with every kind of kernel layer, its weights random but fixed."""
    inp = keras.Input((8, 8, 3))
    # preprocessing whose state is derived from its weights, set as inspect_net.load_recorded
    # sets it (a clone's set_weights alone would leave it at mean 0, variance 1)
    norm = keras.layers.Normalization(axis=-1, name="norm")
    norm.build((None, 8, 8, 3))
    norm.set_weights([np.array([0.5, 0.4, 0.3], "float32"),
                      np.array([4.0, 1.0, 0.25], "float32"), np.float32(1)])
    norm.finalize_state()
    x = keras.layers.Conv2D(4, 3, name="conv")(norm(inp))
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(x)
    x = keras.layers.Flatten()(x)
    out = keras.layers.Dense(5, name="fc")(x)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(0)
    for layer in model.layers[2:]:  # the net's own weights random, the preprocessing as set
        layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.weights])
    model.get_layer("bn").moving_variance.assign(np.ones(4, "float32"))
    return model


def test_a_copy_computes_what_the_model_does():
    model = _net()
    x = np.random.default_rng(1).normal(size=(4, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(compress.prune(model, 1.0)(x), model(x), rtol=1e-5, atol=1e-5)
    assert not np.allclose(compress.prune(model, 0.5)(x), model(x))


def _kernels(model):
    return {layer.name: keras.ops.convert_to_numpy(layer.kernel)
            for layer in compress.kernel_layers(model)}


def test_prune_keeps_the_largest_weights_of_each_kernel_and_leaves_the_rest():
    model = _net()
    before = [w.copy() for w in model.get_weights()]
    pruned = compress.prune(model, 0.25)
    assert [layer.name for layer in compress.kernel_layers(model)] == ["conv", "dw", "fc"]
    for name, w in _kernels(pruned).items():
        original = _kernels(model)[name]
        kept = np.count_nonzero(w)
        assert kept == int(np.ceil(0.25 * w.size))
        # the kept weights are unchanged and no dropped weight is larger than a kept one
        assert np.array_equal(w[w != 0], original[w != 0])
        assert np.abs(original[w == 0]).max() <= np.abs(original[w != 0]).min()
    # biases and batch-norm statistics untouched; the trained model left as it was
    assert np.array_equal(pruned.get_layer("fc").bias.numpy(), model.get_layer("fc").bias.numpy())
    assert np.array_equal(pruned.get_layer("bn").moving_mean.numpy(),
                          model.get_layer("bn").moving_mean.numpy())
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert np.array_equal(_kernels(compress.prune(model, 1.0))["fc"], _kernels(model)["fc"])


def test_int8_weights_are_within_half_a_step_of_the_originals():
    model = _net()
    quantized = _kernels(compress.quantize_int8(model))
    for name, original in _kernels(model).items():
        depthwise = name == "dw"
        cols = compress._per_output_channel(original, depthwise)
        step = np.abs(cols).max(axis=0) / 127  # one scale per output channel
        q = compress._per_output_channel(quantized[name], depthwise)
        assert np.all(np.abs(q - cols) <= step / 2 + 1e-7)
        levels = q / step
        assert np.allclose(levels, np.round(levels), atol=1e-3)  # 255 levels per channel
        assert len(np.unique(np.round(levels))) <= 255
    assert cols.shape[1] == 5 and compress._per_output_channel(quantized["dw"], True).shape[1] == 8
    # an all-zero channel stays zero (no division by a zero scale)
    zero = compress.prune(model, 1e-9)
    assert np.isfinite(_kernels(compress.quantize_int8(zero))["fc"]).all()


def test_weight_bytes_counts_what_storage_needs():
    model = _net()
    kernels = sum(w.size for w in _kernels(model).values())
    others = model.count_params() - kernels
    assert compress.weight_bytes(model) == 4 * model.count_params()
    # int8: a byte a kernel weight and a float32 scale per output channel (4 + 8 + 5)
    assert compress.weight_bytes(model, kernel_bits=8) == kernels + 4 * 17 + 4 * others
    pruned = compress.prune(model, 0.5)
    nonzero = sum(np.count_nonzero(w) for w in _kernels(pruned).values())
    assert compress.weight_bytes(pruned) == 4 * (nonzero + others)


@pytest.mark.parametrize("keep", [0, -0.5, 1.5, "half", None])
def test_prune_names_a_bad_keep(keep):
    with pytest.raises(ValueError, match=r"`keep` must be a finite number > 0 and <= 1\. "
                                         r"Received: keep="):
        compress.prune(_net(), keep)


def test_prune_only_the_named_layers():
    model = _net()
    pruned = _kernels(compress.prune(model, 0.25, layers=["fc"]))
    assert np.count_nonzero(pruned["fc"]) == int(np.ceil(0.25 * pruned["fc"].size))
    assert np.array_equal(pruned["conv"], _kernels(model)["conv"])
    for bad in (["fc", "bn"], "fc", ["nope"], []):
        with pytest.raises(ValueError, match=r"`layers` must be a list of .*'conv', 'dw', 'fc'"
                                             r"\]\. Received: layers="):
            compress.prune(model, 0.5, layers=bad)


def test_prune_rounds_a_fraction_of_a_count_as_written():
    inp = keras.Input((100,))
    model = keras.Model(inp, keras.layers.Dense(1, name="fc")(inp))
    for keep, kept in ((0.07, 7), (0.14, 14), (0.28, 28), (0.55, 55), (0.071, 8)):
        assert np.count_nonzero(_kernels(compress.prune(model, keep))["fc"]) == kept


@pytest.mark.parametrize("bits", [0, 33, "8", 8.0, True])
def test_weight_bytes_names_bad_bits(bits):
    with pytest.raises(ValueError, match=r"`kernel_bits` must be an integer from 1 to 32\. "
                                         r"Received: kernel_bits="):
        compress.weight_bytes(_net(), kernel_bits=bits)
