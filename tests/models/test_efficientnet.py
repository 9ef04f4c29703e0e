"""EfficientNet builders: exact counts and MACs, keras.applications equivalence, compound
scaling, drop connect, the CIFAR net, validation."""

import math

import keras
import numpy as np
import pytest

import cnn_keras
from cnn_keras.analysis import count_macs, count_params
from cnn_keras.models.efficientnet import (
    ALPHA,
    BETA,
    COEFFICIENTS,
    GAMMA,
    IMAGENET_STDDEV_RGB,
    compound_coefficients,
    dropout_for_phi,
    efficientnet,
    efficientnet_imagenet,
    round_filters,
    scaled_blocks,
)

from built import infer, quickly

# (variant, trainable, total, MACs) at the default input, 1000 classes: all equal to
# keras.applications.EfficientNetB0..B7(weights=None) (REFERENCE.md: 0.386 ... 37.746 GMACs;
# paper Table 2: 0.39B ... 37B FLOPs, 5.3M ... 66M parameters).
IMAGENET = [
    ("b0", 5_288_548, 5_330_571, 385_814_752),
    ("b1", 7_794_184, 7_856_239, 686_802_832),
    ("b2", 9_109_994, 9_177_569, 993_561_872),
    ("b3", 12_233_232, 12_320_535, 1_827_141_392),
    ("b4", 19_341_616, 19_466_823, 4_393_771_024),
    ("b5", 30_389_784, 30_562_527, 10_266_384_752),
    ("b6", 43_040_704, 43_265_143, 19_067_593_536),
    ("b7", 66_347_960, 66_658_687, 37_745_884_192),
]


def _weighted_names(model):
    return [layer.name for layer in model.layers if layer.weights]


def _blocks(model):
    """Block name prefixes ('block1a_', ...) in graph order."""
    return [layer.name[:-len("project_bn")] for layer in model.layers
            if layer.name.endswith("_project_bn")]


def _check_structure(model, drop_connect_rate=0.2):
    """Drop-connect rates, SE widths, swish, channel multiples of 8 of a built EfficientNet."""
    blocks = _blocks(model)
    names = {layer.name for layer in model.layers}
    drops = []
    for b, prefix in enumerate(blocks):
        dw = model.get_layer(f"{prefix}dwconv")
        first = model.get_layer(f"{prefix}expand_conv" if f"{prefix}expand_conv" in names
                                else f"{prefix}dwconv")
        c_in, c_mid = first.input.shape[-1], dw.output.shape[-1]
        # SE squeezes to a quarter of the block's *input* width, back to the expanded width
        assert model.get_layer(f"{prefix}se_reduce").filters == max(1, int(c_in * 0.25))
        assert model.get_layer(f"{prefix}se_expand").filters == c_mid
        assert model.get_layer(f"{prefix}se_reshape").output.shape == (None, 1, 1, c_mid)
        assert model.get_layer(f"{prefix}se_reduce").get_config()["activation"] == "silu"
        assert model.get_layer(f"{prefix}se_expand").get_config()["activation"] == "sigmoid"
        if f"{prefix}drop" in names:
            drop = model.get_layer(f"{prefix}drop")
            assert tuple(drop.noise_shape) == (None, 1, 1, 1)
            assert drop.rate == pytest.approx(drop_connect_rate * b / len(blocks))
            assert f"{prefix}add" in names
            drops.append(drop.rate)
        else:  # no drop: a strided / widening block, or the first (rate 0)
            assert b == 0 or f"{prefix}add" not in names
    assert drops == sorted(drops) and 0 < drops[0] and drops[-1] < drop_connect_rate
    acts = [layer for layer in model.layers if isinstance(layer, keras.layers.Activation)]
    expands = sum(f"{prefix}expand_conv" in names for prefix in blocks)  # all but MBConv1
    assert len(acts) == 2 + len(blocks) + expands  # stem, top, every depthwise and expansion
    assert {a.get_config()["activation"] for a in acts} == {"silu"}  # swish = x * sigmoid(x)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)
             and not layer.name.endswith("se_reduce")]
    assert all(layer.filters % 8 == 0 for layer in convs)
    return blocks


@pytest.mark.parametrize("variant,trainable,total,macs", IMAGENET)
def test_imagenet_counts_macs_and_structure(variant, trainable, total, macs):
    model = quickly(cnn_keras.build, f"efficientnet_{variant}")  # the only build of each B
    width, depth, resolution, dropout = COEFFICIENTS[variant]
    p = count_params(model)
    assert (p["trainable"], p["total"]) == (trainable, total)
    assert count_macs(model) == macs
    assert model.input_shape == (None, resolution, resolution, 3)
    assert model.output_shape == (None, 1000)
    assert model.name == f"efficientnet_{variant}"
    assert model.get_layer("top_dropout").rate == dropout
    assert [layer.name for layer in model.layers[1:4]] == ["rescaling", "normalization",
                                                           "stem_conv_pad"]
    blocks = _check_structure(model)
    # the blocks per stage and the channels are those of scaled_blocks (no build needed)
    rows = scaled_blocks(width, depth)
    assert [sum(b.startswith(f"block{i + 1}") for b in blocks) for i in range(7)] == [
        r.repeats for r in rows]
    assert [model.get_layer(f"block{i + 1}a_project_conv").filters for i in range(7)] == [
        r.filters_out for r in rows]
    assert model.get_layer("top_conv").filters == round_filters(1280, width)
    assert model.get_layer("top_activation").output.shape[1:3] == (
        math.ceil(resolution / 32),) * 2


@pytest.mark.parametrize("variant", ["b0", "b1"])
def test_equals_keras_applications(variant):
    ref = quickly(getattr(keras.applications, f"EfficientNet{variant.upper()}"), weights=None)
    ours = quickly(efficientnet_imagenet, variant=variant)
    assert count_params(ours) == count_params(ref)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in ref.layers]
    assert _weighted_names(ours) == _weighted_names(ref)
    for a, b in zip(ours.layers, ref.layers):  # same types and configs, layer by layer
        assert type(a) is type(b)
        assert a.get_config() == b.get_config(), a.name


def _perturb(model, rng):
    """Random BN statistics (so the copy of BN layers is really compared) and a random
    in-graph Normalization; refresh the Normalization's cached mean / variance."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, m, v = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.normal(0, 0.1, b.shape),
                               rng.normal(0, 0.1, m.shape), rng.uniform(0.5, 1.5, v.shape)])
        elif isinstance(layer, keras.layers.Normalization):
            layer.set_weights([rng.uniform(0.3, 0.6, 3), rng.uniform(0.04, 0.08, 3),
                               np.array(1000)])
            layer.finalize_state()


@pytest.mark.parametrize("include_top,size", [(False, 64), (True, 224)])
def test_transfer_weights_gives_same_outputs(include_top, size):
    shape = (size, size, 3)
    ref = keras.applications.EfficientNetB0(weights=None, include_top=include_top,
                                            input_shape=shape)
    ours = cnn_keras.efficientnet_b0(include_top=include_top, input_shape=shape)
    rng = np.random.default_rng(0)
    _perturb(ref, rng)
    assert cnn_keras.transfer_weights(ref, ours) == len(_weighted_names(ref))
    # (transfer_weights refreshes the Normalization's mean / variance tensors: finalize_state)
    x = rng.uniform(0, 255, (2, *shape)).astype("float32")
    a, b = infer(ours, x), infer(ref, x)
    assert a.shape == ((2, 1000) if include_top else (2, 2, 2, 1280))
    np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)


def test_imagenet_weights_path_offline(monkeypatch):
    """weights='imagenet' (faked: no network): keras' model is the source, include_top is
    passed through, the std rescaling is added and the normalization is refreshed."""
    calls = []
    mean, std = np.array([0.485, 0.456, 0.406]), np.array(IMAGENET_STDDEV_RGB)
    original = keras.applications.EfficientNetB0

    def fake(**kwargs):
        calls.append(kwargs)
        model = original(**{**kwargs, "weights": None})
        # the checkpoint stores the std where the variance belongs
        model.get_layer("normalization").set_weights([mean, std, np.array(0)])
        return model

    monkeypatch.setattr(keras.applications, "EfficientNetB0", fake)
    model = cnn_keras.efficientnet_b0(weights="imagenet", include_top=False,
                                      input_shape=(64, 64, 3))
    assert calls[0]["include_top"] is False and calls[0]["input_shape"] == (64, 64, 3)
    np.testing.assert_allclose(model.get_layer("normalization").get_weights()[1], std)
    pre = keras.Model(model.inputs, model.get_layer("rescaling_1").output)
    x = np.full((1, 64, 64, 3), 200.0, "float32")
    np.testing.assert_allclose(infer(pre, x)[0, 0, 0], (200 / 255 - mean) / std,
                               rtol=1e-4)
    assert "rescaling_1" not in {layer.name for layer in cnn_keras.efficientnet_b0(
        include_top=False, input_shape=(64, 64, 3)).layers}


def test_weights_file_restores_the_normalization(tmp_path):
    shape = (32, 32, 3)
    model = cnn_keras.efficientnet_b0(include_top=False, input_shape=shape, pooling="avg")
    _perturb(model, np.random.default_rng(2))
    path = str(tmp_path / "b0.weights.h5")
    model.save_weights(path)
    loaded = cnn_keras.efficientnet_b0(include_top=False, input_shape=shape, pooling="avg",
                                       weights=path)
    x = np.random.default_rng(3).uniform(0, 255, (2, *shape)).astype("float32")
    np.testing.assert_allclose(infer(loaded, x), infer(model, x),
                               atol=1e-6)


def test_compound_scaling_formulas():
    assert ALPHA * BETA**2 * GAMMA**2 == pytest.approx(1.92, abs=0.005)  # "~2"
    assert compound_coefficients(0) == (1.0, 1.0, 224)
    w, d, r = compound_coefficients(1)
    assert (w, d, r) == (pytest.approx(1.1), pytest.approx(1.2), 256)  # 257.6 -> 256
    assert [compound_coefficients(p)[2] for p in range(2, 8)] == [296, 344, 392, 448, 520, 592]
    assert compound_coefficients(1, base_resolution=32, divisor=4)[2] == 36
    assert [dropout_for_phi(p) for p in (0, 7, 9)] == [0.2, pytest.approx(0.5), 0.5]
    assert dropout_for_phi(3.5) == pytest.approx(0.35)
    # B7's table without building it: (expand, kernel, stride, in, out, repeats, se)
    rows = scaled_blocks(*COEFFICIENTS["b7"][:2])
    assert [(r.filters_in, r.filters_out, r.repeats) for r in rows] == [
        (64, 32, 4), (32, 48, 7), (48, 80, 7), (80, 160, 10), (160, 224, 10), (224, 384, 13),
        (384, 640, 4)]
    assert round_filters(16, 1.1) == 16 and round_filters(1280, 1.1) == 1408
    assert round_filters(32, 0.36) == 16  # 11.5: 8 would lose > 10%, so one multiple up
    assert round_filters(32, 0.1) == 8  # never below the divisor


# MACs of efficientnet(phi=p) at its own resolution (phi 1, 2, 3: 256, 296, 344 px)
PHI_MACS = {0: 385_814_752, 1: 859_853_760, 2: 1_810_522_464, 3: 3_253_196_720}


def test_flops_grow_about_two_to_the_phi():
    """FLOPs ~ (ALPHA * BETA^2 * GAMMA^2)^phi = 1.92^phi ~ 2^phi (Sec. 3.3). Rounding (repeats
    ceil'd, channels to multiples of 8, resolution to 8 px) only adds: 1.0-1.3x of 1.92^phi,
    within 25% of 2^phi for phi = 1..3. (B1..B7 are not phi = 1..7: 1.8x ... 98x B0's.)"""
    macs = {}
    for phi in (1, 2, 3):
        model = quickly(efficientnet, phi=phi)
        assert model.input_shape[1] == compound_coefficients(phi)[2]
        assert model.get_layer("top_dropout").rate == pytest.approx(dropout_for_phi(phi))
        macs[phi] = count_macs(model)
    macs[0] = IMAGENET[0][3]
    assert macs == PHI_MACS
    for phi in (1, 2, 3):
        ratio = macs[phi] / macs[0]
        assert 0.75 * 2**phi < ratio < 1.25 * 2**phi
        assert 1.0 < ratio / (ALPHA * BETA**2 * GAMMA**2) ** phi < 1.3
    assert count_params(quickly(efficientnet, phi=0)) == {"trainable": 5_288_548,
                                                 "non_trainable": 42_023, "total": 5_330_571}


def test_cifar_net():
    model = cnn_keras.efficientnet_cifar()
    assert count_params(model) == {"trainable": 4_020_358, "non_trainable": 42_016,
                                   "total": 4_062_374}
    assert count_macs(model) == 31_979_392
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 10)
    assert model.get_layer("top_activation").output.shape == (None, 2, 2, 1280)  # 32 / 16
    assert model.get_layer("stem_conv").strides == (1, 1)
    names = [layer.name for layer in model.layers]
    assert names[1] == "stem_conv"  # inputs come normalized by the data pipeline
    assert not any(isinstance(layer, (keras.layers.Rescaling, keras.layers.Normalization,
                                      keras.layers.Resizing)) for layer in model.layers)
    assert model.name == "efficientnet_cifar"
    _check_structure(model)


def test_cifar_resolution_and_phi():
    base_params = 4_062_374
    up = quickly(cnn_keras.efficientnet_cifar, resolution=64)
    assert isinstance(up.layers[1], keras.layers.Resizing) and up.layers[1].name == "resize"
    assert up.get_layer("resize").output.shape == (None, 64, 64, 3)
    assert up.input_shape == (None, 32, 32, 3)
    assert count_params(up)["total"] == base_params  # resolution changes compute only
    assert count_macs(up) == 125_997_568  # ~4x the 32 px net's 31,979,392
    assert up.get_layer("top_activation").output.shape == (None, 4, 4, 1280)
    same = cnn_keras.efficientnet_cifar(resolution=32)  # the input size: nothing to resize
    assert count_macs(same) == 31_979_392 and "resize" not in [la.name for la in same.layers]
    phi1 = quickly(cnn_keras.efficientnet_cifar, phi=1)  # width 1.1, depth 1.2, 32 * 1.15 -> 36 px
    assert phi1.get_layer("resize").output.shape == (None, 36, 36, 3)
    assert count_params(phi1)["total"] == 7_782_652
    assert count_macs(phi1) == 94_372_304
    assert phi1.get_layer("top_dropout").rate == pytest.approx(dropout_for_phi(1))


def test_options_heads_and_serialization(tmp_path):
    small = dict(width_coefficient=0.25, depth_coefficient=0.5)
    model = cnn_keras.efficientnet_cifar(**small, classifier_activation=None, dropout=0.0)
    assert "top_dropout" not in [layer.name for layer in model.layers]
    assert model.get_layer("predictions").get_config()["activation"] == "linear"
    x = np.random.default_rng(1).normal(size=(2, 32, 32, 3)).astype("float32")
    path = tmp_path / "eff.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(infer(loaded, x), infer(model, x),
                               atol=1e-6)
    top = round_filters(1280, 0.25)  # 320
    for pooling, shape in [(None, (None, 2, 2, top)), ("avg", (None, top)),
                           ("max", (None, top))]:
        m = cnn_keras.efficientnet_cifar(**small, include_top=False, pooling=pooling)
        assert m.output_shape == shape
    free = cnn_keras.efficientnet_cifar(**small, include_top=False, input_shape=(None, None, 3))
    assert free.output_shape == (None, None, None, top)
    inp = keras.Input((48, 48, 3))
    m = cnn_keras.efficientnet_cifar(**small, input_tensor=inp, classes=5)
    assert m.inputs[0] is inp and m.output_shape == (None, 5)
    no_dc = cnn_keras.efficientnet_cifar(**small, drop_connect_rate=0.0)
    assert not any(layer.name.endswith("_drop") for layer in no_dc.layers)
    assert count_params(no_dc) == count_params(model)


def test_registry_names():
    assert cnn_keras.list_models("efficientnet") == [
        "efficientnet", *(f"efficientnet_b{i}" for i in range(8)), "efficientnet_cifar"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'variant'"):
        cnn_keras.efficientnet_b0(variant="b1")


@pytest.mark.parametrize("builder,kwargs,arg,hint", [
    (efficientnet, {"phi": 1, "width_coefficient": 1.1}, "width_coefficient", "not both"),
    (efficientnet, {"phi": 1, "resolution": 256}, "resolution", "not both"),
    (efficientnet, {"phi": -1}, "phi", ">= 0"),
    (efficientnet, {"phi": "b3"}, "phi", "real number"),
    (efficientnet, {"phi": float("inf")}, "phi", "real number"),
    (efficientnet, {"width_coefficient": 0}, "width_coefficient", "> 0"),
    (efficientnet, {"depth_coefficient": -1.0}, "depth_coefficient", "> 0"),
    (efficientnet, {"depth_coefficient": True}, "depth_coefficient", "> 0"),
    (efficientnet, {"dropout": 1.0}, "dropout", ">= 0 and < 1"),
    (efficientnet, {"drop_connect_rate": -0.1}, "drop_connect_rate", ">= 0 and < 1"),
    (efficientnet, {"stem": "tiny"}, "stem", "imagenet"),
    (efficientnet, {"resolution": 16}, "resolution", ">= 32"),
    (efficientnet, {"resolution": 224.0}, "resolution", "integer"),
    (efficientnet, {"phi": 1, "weights": "imagenet"}, "weights", "B0-B7"),
    (efficientnet, {"name": 3}, "name", "string"),
    (efficientnet_imagenet, {"variant": "b8"}, "variant", "b7"),
    (cnn_keras.efficientnet_cifar, {"resolution": 8}, "resolution", ">= 16"),
    (cnn_keras.efficientnet_cifar, {"resolution": (28, 32)}, "resolution", "integer >= 16"),
    (cnn_keras.efficientnet_cifar, {"weights": "imagenet"}, "weights", "CIFAR"),
    (cnn_keras.efficientnet_cifar, {"input_shape": (8, 8, 3)}, "input_shape", "16x16"),
    (cnn_keras.efficientnet_b3, {"weights": "imagenet", "input_shape": (224, 224, 3)},
     "input_shape", "(300, 300, 3)"),
    (cnn_keras.efficientnet_b0, {"input_shape": (16, 16, 3)}, "input_shape", "32x32"),
])
def test_validation(builder, kwargs, arg, hint):
    with pytest.raises(ValueError, match=f"Received: {arg}=") as info:
        builder(**kwargs)
    assert hint in str(info.value)


def test_custom_stages_search_space():
    from cnn_keras.models.efficientnet import B0_STAGES, efficientnet_cifar

    stages = tuple(s._replace(kernel_size=3, expand_ratio=3) for s in B0_STAGES)
    small = efficientnet_cifar(stages=stages)
    base = efficientnet_cifar()
    assert count_macs(small) < count_macs(base)
    assert small.get_layer("block6a_dwconv").kernel_size == (3, 3)
    no_se = efficientnet_cifar(stages=tuple(s._replace(se_ratio=0) for s in B0_STAGES))
    assert not any("se_" in layer.name for layer in no_se.layers)
    assert count_params(no_se)["trainable"] < count_params(base)["trainable"]
    broken = (B0_STAGES[0], B0_STAGES[2])  # 16 -> 24 expected, 24 given
    with pytest.raises(ValueError, match="Received: stages="):
        efficientnet_cifar(stages=broken)
    with pytest.raises(ValueError, match="Received: stages="):
        efficientnet_cifar(stages="b0")


def test_cifar_net_uses_fast_bn_statistics():
    bns = [layer for layer in cnn_keras.efficientnet_cifar().layers
           if isinstance(layer, keras.layers.BatchNormalization)]
    assert bns and all(b.momentum == 0.9 for b in bns)


def test_stages_of_numpy_integers_build_and_bools_are_refused():
    from cnn_keras.models.efficientnet import B0_STAGES, Stage, efficientnet

    as_numpy = tuple(Stage(*(np.int64(v) for v in s[:-1]), s.se_ratio) for s in B0_STAGES)
    kw = dict(stem="cifar", input_shape=(32, 32, 3), classes=10, width_coefficient=0.25)
    assert quickly(efficientnet, stages=as_numpy, **kw).count_params() == \
        quickly(efficientnet, **kw).count_params()
    for field in ("strides", "kernel_size"):
        bad = (B0_STAGES[0]._replace(**{field: True}), *B0_STAGES[1:])
        with pytest.raises(ValueError, match="`stages` must be a non-empty tuple"):
            efficientnet(stages=bad, **kw)
