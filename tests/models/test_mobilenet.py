"""MobileNet v1 builders: exact counts and multiply-adds (paper Tables 6 and 7), the depthwise
separable cost formula, keras.applications equivalence, the CIFAR variant, validation."""

import keras
import numpy as np
import pytest

import cnn_keras
from cnn_keras.analysis import count_macs, count_params, layer_macs
from cnn_keras.models.mobilenet import (
    PAPER_FULL_CONV,
    PAPER_RESOLUTION,
    PAPER_SHALLOW,
    PAPER_SHALLOW_BASELINE,
    PAPER_WIDTH,
    SEPARABLE_LAYERS,
    SHALLOW_BLOCKS,
    mobilenet,
    mobilenet_cifar,
)

from built import infer, quickly

# alpha -> (trainable, total, multiply-adds) at 224x224x3, 1000 classes; counts and MACs are
# those of keras.applications.MobileNet(weights=None, alpha=alpha) (paper, Table 6: 4.2M / 569M,
# 2.6M / 325M, 1.3M / 149M, 0.5M / 41M)
WIDTHS = {
    1.0: (4_231_976, 4_253_864, 568_740_352),
    0.75: (2_585_560, 2_601_976, 325_400_448),
    0.5: (1_331_592, 1_342_536, 149_497_088),
    0.25: (470_072, 475_544, 41_030_272),
}
# input size -> multiply-adds at alpha 1.0 (paper, Table 7: 418M, 290M, 186M)
RESOLUTIONS = {192: 418_121_728, 160: 290_675_200, 128: 186_400_768}
CIFAR = (3_217_226, 3_239_114, 46_354_432)  # trainable, total, MACs at 32x32x3, 10 classes
# the same for the Table 4 / Table 5 variants of mobilenet_cifar (measured here)
CIFAR_FULL = (28_279_338, 28_291_306, 397_256_704)  # conv="full"
CIFAR_SHALLOW = (1_873_226, 1_884_874, 25_014_272)  # shallow=True
CIFAR_075 = (1_824_250, 1_840_666, 26_508_288)  # alpha=0.75


def _weighted_names(model):
    return [layer.name for layer in model.layers if layer.weights]


def _randomize_bn(model, rng, x=None):
    """Random BN weights and statistics, so the BN layers are really compared. With `x`, the
    moving statistics are first set to those of `x` (a training-mode pass with momentum 0): with
    the initial mean 0 / variance 1 a random net's activations shrink ~10x per block."""
    bns = [la for la in model.layers if isinstance(la, keras.layers.BatchNormalization)]
    for layer in bns:
        g, b, m, v = layer.get_weights()
        layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.normal(0, 0.1, b.shape),
                           rng.normal(0, 0.1, m.shape), rng.uniform(0.5, 1.5, v.shape)])
    if x is not None:
        for layer in bns:
            layer.momentum = 0.0
        model(x, training=True)
        for layer in bns:
            layer.momentum = 0.99
            g, b, m, v = layer.get_weights()
            layer.set_weights([g, b, m + rng.normal(0, 0.1, m.shape) * np.sqrt(v),
                               v * rng.uniform(0.8, 1.25, v.shape)])


@pytest.mark.parametrize("alpha", sorted(WIDTHS, reverse=True))
def test_width_multiplier_counts_and_macs(alpha):
    trainable, total, macs = WIDTHS[alpha]
    model = mobilenet(alpha=alpha)
    p = count_params(model)
    assert (p["trainable"], p["total"]) == (trainable, total)
    assert count_macs(model) == macs
    _, paper_macs, paper_params = PAPER_WIDTH[alpha]
    assert round(macs / 1e6) == paper_macs  # 569, 325, 149, 41
    assert round(trainable / 1e6, 1) == paper_params
    assert model.output_shape == (None, 1000)
    assert model.name == "mobilenet"
    # 28 layers with weights (Table 1): 1 conv, 13 x (depthwise + pointwise), the classifier
    convs = [la for la in model.layers if isinstance(la, (keras.layers.Conv2D,
                                                          keras.layers.DepthwiseConv2D))]
    assert len(convs) == 28 and len(SEPARABLE_LAYERS) == 13
    assert model.get_layer("conv_pw_13").output.shape[1:] == (7, 7, int(1024 * alpha))


@pytest.mark.parametrize("alpha", [1.0, 0.25])
def test_equals_keras_applications(alpha):
    ref = quickly(keras.applications.MobileNet, weights=None, alpha=alpha)
    ours = quickly(mobilenet, alpha=alpha)
    assert count_params(ours) == count_params(ref)
    assert count_macs(ours) == count_macs(ref)
    assert len(ours.layers) == len(ref.layers)
    assert _weighted_names(ours) == _weighted_names(ref)


def test_resolution_multiplier_through_input_size():
    params = WIDTHS[1.0][1]
    for size, macs in RESOLUTIONS.items():
        model = mobilenet(input_shape=(size, size, 3))
        assert count_params(model)["total"] == params  # rho changes the cost only
        assert count_macs(model) == macs
        assert abs(macs / 1e6 - PAPER_RESOLUTION[size][1]) < 1  # paper: 418, 290, 186
    # ~rho^2 of the cost: (128 / 224)^2 = 0.33
    assert RESOLUTIONS[128] / WIDTHS[1.0][2] == pytest.approx((128 / 224) ** 2, abs=0.01)


def test_depthwise_separable_cost():
    model = mobilenet()
    separable = standard = standard_params = 0
    for i in range(1, 14):
        dw, pw = model.get_layer(f"conv_dw_{i}"), model.get_layer(f"conv_pw_{i}")
        m, n, dk = dw.input.shape[-1], pw.filters, 3
        df = pw.output.shape[1]
        cost = layer_macs(dw) + layer_macs(pw)
        assert cost == dk * dk * m * df * df + m * n * df * df  # Eq. (5)
        full = dk * dk * m * n * df * df  # Eq. (2): a standard 3x3 conv from M to N channels
        assert cost / full == pytest.approx(1 / n + 1 / dk**2)
        separable, standard, standard_params = separable + cost, standard + full, \
            standard_params + dk * dk * m * n
    assert 8 < standard / separable < 9
    assert round(standard / separable, 3) == 8.719
    # Table 4, "Conv MobileNet" (standard convs): 4866M multiply-adds, 29.3M parameters
    stem, fc = model.get_layer("conv1"), model.get_layer("conv_preds")
    full_macs = layer_macs(stem) + standard + layer_macs(fc)
    assert full_macs == 4_867_293_184
    assert abs(full_macs / 1e6 - PAPER_FULL_CONV[1]) < 2
    full_params = stem.count_params() + standard_params + fc.count_params()
    assert full_params == 29_282_120 and round(full_params / 1e6, 1) == PAPER_FULL_CONV[2]


def _counts(model):
    p = count_params(model)
    return p["trainable"], p["total"], count_macs(model)


def test_full_conv_variant_table_4():
    """conv="full": every separable block a standard 3x3 conv (Table 4, "Conv MobileNet")."""
    sep, full = quickly(mobilenet_cifar), quickly(mobilenet_cifar, conv="full")
    assert _counts(sep) == CIFAR and _counts(full) == CIFAR_FULL
    assert not any(isinstance(la, keras.layers.DepthwiseConv2D) for la in full.layers)
    assert [la.name for la in full.layers if isinstance(la, keras.layers.Conv2D)] == (
        ["conv1"] + [f"conv_full_{i}" for i in range(1, 14)] + ["conv_preds"])
    assert len([la for la in full.layers
                if isinstance(la, keras.layers.BatchNormalization)]) == 14
    # Block 7 by hand: 4x4x512 -> 4x4x512, stride 1 (32 -> 16 -> 8 -> 4 at blocks 2, 4, 6).
    # 3 * 3 * 512 * 512 = 2,359,296 weights, no bias; x 4 * 4 positions = 37,748,736 MACs;
    # its BN adds gamma and beta: 2 * 512 trainable.
    c7 = full.get_layer("conv_full_7")
    assert c7.input.shape[1:] == c7.output.shape[1:] == (4, 4, 512)
    assert c7.count_params() == 3 * 3 * 512 * 512 == 2_359_296 and not c7.use_bias
    assert layer_macs(c7) == 4 * 4 * 2_359_296 == 37_748_736
    assert len(full.get_layer("conv_full_7_bn").trainable_weights) == 2
    # Block 2 keeps the depthwise conv's stride 2 and its TF-"same" padding: 32x32x64 ->
    # pad to 33x33 -> 3x3/2 valid -> 16x16x128: 3 * 3 * 64 * 128 = 73,728 weights, x 16 * 16.
    c2 = full.get_layer("conv_full_2")
    assert c2.strides == (2, 2) and c2.input.shape[1:] == (33, 33, 64)
    assert c2.output.shape[1:] == (16, 16, 128)
    assert layer_macs(c2) == 16 * 16 * 73_728 == 18_874_368
    # Every block: Eq. (2) D_K^2 M N D_F^2 of the separable net's shapes, block for block.
    for i in range(1, 14):
        dw, pw = sep.get_layer(f"conv_dw_{i}"), sep.get_layer(f"conv_pw_{i}")
        m, n, df = dw.input.shape[-1], pw.filters, pw.output.shape[1]
        fc = full.get_layer(f"conv_full_{i}")
        assert fc.output.shape == pw.output.shape
        assert layer_macs(fc) == 3 * 3 * m * n * df * df
    # Paper: 4866M vs 569M multiply-adds (8.55x). On 32x32 the stem and the classifier stay,
    # as in the paper: 8.57x for the whole net, 8.719x for the 13 blocks (as at 224).
    assert round(CIFAR_FULL[2] / CIFAR[2], 2) == 8.57 and 8 < CIFAR_FULL[2] / CIFAR[2] < 9
    fixed = sum(layer_macs(sep.get_layer(n)) for n in ("conv1", "conv_preds"))
    assert fixed == 32 * 32 * 27 * 32 + 1024 * 10 == 894_976
    assert round((CIFAR_FULL[2] - fixed) / (CIFAR[2] - fixed), 3) == 8.719
    assert infer(mobilenet_cifar(alpha=0.25, conv="full"),
                 np.zeros((2, 32, 32, 3), "float32")).shape == (2, 10)


def test_full_conv_variant_at_224_is_the_papers_table_4():
    full = quickly(mobilenet, conv="full")
    trainable, _, macs = _counts(full)
    assert (trainable, macs) == (29_294_088, 4_867_293_184)
    _, paper_macs, paper_params = PAPER_FULL_CONV  # 4866M, 29.3M
    assert abs(macs / 1e6 - paper_macs) < 2 and round(trainable / 1e6, 1) == paper_params


def test_shallow_variant_table_5():
    """shallow=True: without the five stride-1 512-filter blocks (Table 5)."""
    assert SHALLOW_BLOCKS == (7, 8, 9, 10, 11)
    assert [SEPARABLE_LAYERS[i - 1] for i in SHALLOW_BLOCKS] == [(512, 1)] * 5
    shallow = quickly(mobilenet_cifar, shallow=True)
    assert _counts(shallow) == CIFAR_SHALLOW
    names = [la.name for la in shallow.layers]
    assert [n for n in names if n.startswith("conv_dw_") and n[8:].isdigit()] == [
        f"conv_dw_{i}" for i in (1, 2, 3, 4, 5, 6, 12, 13)]  # the others keep their indices
    assert shallow.get_layer("conv_pad_12").input is shallow.get_layer("conv_pw_6_relu").output
    # By hand, one removed block on the 4x4x512 maps: depthwise 3 * 3 * 512 = 4,608 and
    # pointwise 512 * 512 = 262,144 weights, two BNs with 2 * 512 trainable each:
    # 268,800 trainable; (4,608 + 262,144) * 16 = 4,268,032 MACs.
    per_block = 3 * 3 * 512 + 512 * 512 + 2 * 2 * 512
    assert per_block == 268_800
    assert CIFAR[0] - CIFAR_SHALLOW[0] == 5 * per_block == 1_344_000
    assert CIFAR[2] - CIFAR_SHALLOW[2] == 5 * 16 * (4_608 + 262_144) == 21_340_160
    # Table 5 compares it with the 0.75 MobileNet: more parameters, fewer multiply-adds
    # (paper: 2.9M / 307M vs 2.6M / 325M), and so here.
    narrow = quickly(mobilenet_cifar, alpha=0.75)
    assert _counts(narrow) == CIFAR_075
    assert CIFAR_SHALLOW[0] > CIFAR_075[0] and CIFAR_SHALLOW[2] < CIFAR_075[2]
    both = quickly(mobilenet_cifar, shallow=True, conv="full")
    assert "conv_full_7" not in [la.name for la in both.layers]
    assert both.get_layer("conv_full_12").input.shape[1:] == (5, 5, 512)  # padded 4x4
    assert infer(mobilenet_cifar(alpha=0.25, shallow=True),
                 np.zeros((2, 32, 32, 3), "float32")).shape == (2, 10)


def test_shallow_variant_at_224_is_the_papers_table_5():
    trainable, _, macs = _counts(quickly(mobilenet, shallow=True))
    assert (trainable, macs) == (2_887_976, 307_323_392)
    _, paper_macs, paper_params = PAPER_SHALLOW  # 307M, 2.9M
    assert round(macs / 1e6) == paper_macs and round(trainable / 1e6, 1) == paper_params
    assert PAPER_SHALLOW_BASELINE == (68.4, 325, 2.6)
    base_trainable, _, base_macs = WIDTHS[0.75]
    assert trainable > base_trainable and macs < base_macs


def test_default_options_are_todays_nets():
    for kwargs in ({}, {"conv": "separable", "shallow": False}):
        assert _counts(quickly(mobilenet_cifar, **kwargs)) == CIFAR
    assert _counts(quickly(mobilenet, conv="separable", shallow=False)) == WIDTHS[1.0]


@pytest.mark.parametrize("alpha,size", [(1.0, 128), (0.5, 96)])
def test_transfer_from_keras_applications_gives_same_outputs(alpha, size):
    shape = (size, size, 3)  # logits: a softmax near 1/1000 would hide differences
    ref = keras.applications.MobileNet(weights=None, alpha=alpha, input_shape=shape,
                                       classifier_activation=None)
    ours = mobilenet(alpha=alpha, input_shape=shape, classifier_activation=None)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, size, size, 3)).astype("float32")
    _randomize_bn(ref, rng, x[2:])
    assert cnn_keras.transfer_weights(ref, ours) == len(_weighted_names(ref)) == 55
    x = x[:2]
    a, b = infer(ours, x), infer(ref, x)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert not np.allclose(a, a[::-1])  # different images give different outputs


def test_imagenet_weights_go_through_keras_applications(monkeypatch):
    calls = []
    real = keras.applications.MobileNet

    def fake(**kwargs):  # offline: "downloads" a random keras.applications model
        calls.append(kwargs)
        assert kwargs["weights"] == "imagenet"
        model = real(**{**kwargs, "weights": None})
        _randomize_bn(model, np.random.default_rng(1))
        return model

    monkeypatch.setattr(keras.applications, "MobileNet", fake)
    ours = mobilenet(weights="imagenet", alpha=0.25, input_shape=(128, 128, 3))
    assert calls[0]["alpha"] == 0.25 and calls[0]["include_top"] is True
    assert calls[0]["input_shape"] == (128, 128, 3)  # the size selects the released weights
    bn = ours.get_layer("conv_pw_13_bn").get_weights()[2]
    assert np.std(bn) > 0.05  # the source's random moving means arrived
    features = mobilenet(include_top=False, weights="imagenet", alpha=0.5, pooling="avg",
                         input_shape=(160, 160, 3))
    assert calls[1]["include_top"] is False and features.output_shape == (None, 512)
    # without the top any size, as keras.applications (it loads the 224-pixel weights)
    small = mobilenet(include_top=False, weights="imagenet", alpha=0.25, input_shape=(96, 96, 3))
    assert calls[2]["input_shape"] == (96, 96, 3) and small.output_shape == (None, 3, 3, 256)


def test_feature_extractor_pooling():
    x = mobilenet(include_top=False, alpha=0.25, input_shape=(None, None, 3))
    assert x.output_shape == (None, None, None, 256)
    avg = mobilenet(include_top=False, alpha=0.25, pooling="avg", input_shape=(64, 64, 3))
    mx = mobilenet(include_top=False, alpha=0.25, pooling="max", input_shape=(64, 64, 3))
    assert avg.output_shape == mx.output_shape == (None, 256)
    assert avg.layers[-1].name == "avg_pool" and mx.layers[-1].name == "max_pool"
    assert count_params(avg)["total"] == WIDTHS[0.25][1] - (256 * 1000 + 1000)  # minus conv_preds


def test_cifar_variant():
    trainable, total, macs = CIFAR
    model = cnn_keras.build("mobilenet_cifar")
    p = count_params(model)
    assert (p["trainable"], p["total"]) == (trainable, total)
    assert count_macs(model) == macs
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 10)
    assert model.get_layer("conv1").strides == (1, 1)
    assert model.get_layer("conv_pw_13").output.shape[1:] == (2, 2, 1024)  # 2x2 final maps
    assert model.name == "mobilenet_cifar"
    small = mobilenet_cifar(resolution=24)  # rho = 0.75
    assert isinstance(small.get_layer("resize"), keras.layers.Resizing)
    assert small.get_layer("conv1").input.shape[1:] == (24, 24, 3)
    assert count_params(small) == p  # same parameters ...
    assert count_macs(small) == 24_095_488 < macs  # ... fewer multiply-adds
    assert "resize" not in [la.name for la in model.layers]
    control = mobilenet_cifar(resolution=(28, 32))  # 32 px maps on what 28 px keeps
    assert [control.get_layer(n).output.shape[1] for n in ("resize", "resize_1")] == [28, 32]
    assert count_params(control) == p and count_macs(control) == macs
    as_json = mobilenet_cifar(resolution=[28, 32])  # a run's settings read back from run.json
    assert as_json.get_layer("resize_1").output.shape[1] == 32
    half = mobilenet_cifar(alpha=0.5)
    assert count_params(half)["trainable"] == 823_722
    assert infer(half, np.zeros((2, 32, 32, 3), "float32")).shape == (2, 10)


def test_relu_option_and_depth_multiplier():
    six = mobilenet_cifar(alpha=0.25)
    plain = mobilenet_cifar(alpha=0.25, activation="relu")
    assert six.get_layer("conv1_relu").max_value == 6.0
    assert plain.get_layer("conv1_relu").max_value is None
    assert count_params(six) == count_params(plain)
    deeper = mobilenet_cifar(alpha=0.25, depth_multiplier=2)
    assert deeper.get_layer("conv_dw_1").output.shape[-1] == 2 * 8
    assert count_params(deeper)["total"] > count_params(six)["total"]


@pytest.mark.filterwarnings("ignore:Skipping nested container")  # the wrong-file load
def test_weights_file_round_trip(tmp_path):
    model = mobilenet_cifar(alpha=0.25, classes=5)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    again = mobilenet_cifar(alpha=0.25, classes=5, weights=path)
    for a, b in zip(model.weights, again.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="Received: weights="):
        mobilenet_cifar(alpha=0.5, classes=5, weights=path)  # another architecture


@pytest.mark.parametrize("builder,kwargs,arg,hint", [
    (mobilenet, {"alpha": 0}, "alpha", "(0, 1]"),
    (mobilenet, {"alpha": 1.4}, "alpha", "(0, 1]"),
    (mobilenet, {"alpha": "1"}, "alpha", "(0, 1]"),
    (mobilenet, {"depth_multiplier": 0}, "depth_multiplier", "positive integer"),
    (mobilenet, {"depth_multiplier": 1.5}, "depth_multiplier", "positive integer"),
    (mobilenet, {"dropout": 1.0}, "dropout", ">= 0 and < 1"),
    (mobilenet, {"dropout": -0.1}, "dropout", ">= 0 and < 1"),
    (mobilenet, {"activation": "swish"}, "activation", "relu6"),
    (mobilenet, {"stem_stride": 3}, "stem_stride", "[1, 2]"),
    (mobilenet, {"stem_stride": True}, "stem_stride", "1 or 2"),
    (mobilenet, {"resolution": 16}, "resolution", ">= 32"),
    (mobilenet, {"input_shape": (24, 24, 3)}, "input_shape", "at least 32x32"),
    (mobilenet_cifar, {"resolution": 8}, "resolution", ">= 16"),
    (mobilenet_cifar, {"resolution": 24.0}, "resolution", ">= 16"),
    (mobilenet_cifar, {"resolution": (28, 8)}, "resolution", "non-empty tuple of integers >= 16"),
    (mobilenet_cifar, {"resolution": ()}, "resolution", "non-empty tuple"),
    (mobilenet_cifar, {"alpha": 2}, "alpha", "(0, 1]"),
    (mobilenet_cifar, {"weights": "imagenet"}, "weights", "no ImageNet weights"),
    (mobilenet, {"weights": "imagenet", "alpha": 0.3}, "alpha", "[0.25, 0.5, 0.75, 1.0]"),
    (mobilenet, {"weights": "imagenet", "depth_multiplier": 2}, "depth_multiplier", "=1"),
    (mobilenet, {"weights": "imagenet", "activation": "relu"}, "activation", "'relu6'"),
    (mobilenet, {"weights": "imagenet", "stem_stride": 1}, "stem_stride", "=2"),
    (mobilenet, {"weights": "imagenet", "resolution": 160}, "resolution", "=None"),
    (mobilenet, {"weights": "imagenet", "conv": "full"}, "conv", "='separable'"),
    (mobilenet, {"weights": "imagenet", "shallow": True}, "shallow", "=False"),
    (mobilenet_cifar, {"conv": "standard"}, "conv", "['separable', 'full']"),
    (mobilenet_cifar, {"conv": None}, "conv", "['separable', 'full']"),
    (mobilenet_cifar, {"conv": "full", "depth_multiplier": 2}, "depth_multiplier",
     "conv='full'"),
    (mobilenet_cifar, {"shallow": 1}, "shallow", "True or False"),
    (mobilenet_cifar, {"shallow": "yes"}, "shallow", "True or False"),
    (mobilenet, {"weights": "imagenet", "input_shape": (200, 200, 3)}, "input_shape",
     "[128, 160, 192, 224]"),
    (mobilenet, {"weights": "imagenet", "input_shape": (160, 128, 3)}, "input_shape",
     "must be square"),
])
def test_validation(builder, kwargs, arg, hint, monkeypatch):
    def no_download(**kwargs):
        raise AssertionError("keras.applications.MobileNet must not be called")

    monkeypatch.setattr(keras.applications, "MobileNet", no_download)
    with pytest.raises(ValueError, match=f"Received: {arg}=") as info:
        builder(**kwargs)
    assert hint in str(info.value) and "\n" not in str(info.value)


def test_cifar_net_uses_fast_bn_statistics():
    bns = [layer for layer in cnn_keras.mobilenet_cifar(alpha=0.25).layers
           if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 27 and all(b.momentum == 0.9 for b in bns)
    assert all(layer.momentum == 0.99 for layer in cnn_keras.mobilenet(alpha=0.25).layers
               if isinstance(layer, keras.layers.BatchNormalization))
    with pytest.raises(ValueError, match="Received: bn_momentum=1"):
        cnn_keras.mobilenet(bn_momentum=1)
