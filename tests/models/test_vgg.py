"""VGG builders, pre-initialisation, augmentation and test-time evaluation."""

import gc
import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

import cnn_keras
from cnn_keras import augment, evaluation
from cnn_keras.analysis import count_macs, count_params, receptive_field
from cnn_keras.layers import LocalResponseNormalization
from cnn_keras.models import vgg as vgg_module
from cnn_keras.models.vgg import preinitialize, vgg, vgg_cifar

from built import infer, quickly

# (registry name, config, exact trainable = total params at 224x224 / 1000 classes [R][T][K],
#  GMACs, 1x1 convs, LRN layers). Table 2 of the paper: 133, 133, 133, 134, 138, 144 M.
CONFIGS = [
    ("vgg11", "A", 132_863_336, 7.609, 0, 0),
    ("vgg11_lrn", "A-LRN", 132_863_336, 7.609, 0, 1),
    ("vgg13", "B", 133_047_848, 11.308, 0, 0),
    ("vgg16_c", "C", 133_638_952, 11.771, 3, 0),
    ("vgg16", "D", 138_357_544, 15.470, 0, 0),
    ("vgg19", "E", 143_667_240, 19.632, 0, 0),
]
# batch_norm=True: trainable equals torchvision's vgg*_bn [T]; + BN moving statistics.
BN_COUNTS = [
    ("vgg11", 132_868_840, 5_504),
    ("vgg13", 133_053_736, 5_888),
    ("vgg16", 138_365_992, 8_448),
    ("vgg19", 143_678_248, 11_008),
]
VGG_CIFAR_TRAINABLE, VGG_CIFAR_NON_TRAINABLE = 14_990_922, 8_448
KERAS_APPS = {"vgg16": ("VGG16", 14_714_688), "vgg19": ("VGG19", 20_024_384)}


def _free(*models):
    del models
    keras.backend.clear_session()
    gc.collect()


def _weighted_names(model):
    return [layer.name for layer in model.layers if layer.weights]


def _rng_images(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


# --- counts and structure --------------------------------------------------------------------
@pytest.mark.parametrize("name,config,trainable,gmacs,n_1x1,n_lrn", CONFIGS)
def test_config_counts_and_structure(name, config, trainable, gmacs, n_1x1, n_lrn):
    model = quickly(cnn_keras.build, name)
    assert count_params(model) == {"trainable": trainable, "non_trainable": 0,
                                   "total": trainable}
    assert round(trainable / 1e6) == vgg_module.PAPER_PARAMS_M[config]
    assert count_macs(model) / 1e9 == pytest.approx(gmacs, abs=0.0005)
    assert model.name == name
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)
    convs = [la for la in model.layers if isinstance(la, keras.layers.Conv2D)]
    assert all(la.strides == (1, 1) and la.padding == "same" for la in convs)
    assert all(la.activation is keras.activations.relu for la in convs)
    one_by_one = [la.name for la in convs if la.kernel_size == (1, 1)]
    assert len(one_by_one) == n_1x1
    if n_1x1:  # C: the last conv of blocks 3, 4 and 5
        assert one_by_one == ["block3_conv3", "block4_conv3", "block5_conv3"]
    lrns = [la for la in model.layers if isinstance(la, LocalResponseNormalization)]
    assert len(lrns) == n_lrn
    if n_lrn:  # AlexNet's settings, right after the first conv
        lrn = lrns[0]
        assert (lrn.size, lrn.k, lrn.alpha, lrn.beta) == (5, 2.0, 1e-4, 0.75)
        names = [la.name for la in model.layers]
        assert names[names.index("block1_conv1") + 1] == "block1_lrn"
    pools = [la for la in model.layers if isinstance(la, keras.layers.MaxPooling2D)]
    assert [p.name for p in pools] == [f"block{b}_pool" for b in range(1, 6)]
    assert all(p.pool_size == (2, 2) and p.strides == (2, 2) for p in pools)
    # weight layers: 11, 11, 13, 16, 16, 19 (convs + 3 FC)
    n_weight_layers = len(_weighted_names(model))
    assert n_weight_layers == {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}[config]
    top = [la.name for la in model.layers][-6:]
    assert top == ["flatten", "fc1", "fc1_dropout", "fc2", "fc2_dropout", "predictions"]
    assert model.get_layer("fc1_dropout").rate == 0.5
    _free(model)


@pytest.mark.parametrize("name,trainable,non_trainable", BN_COUNTS)
def test_batch_norm_counts_equal_torchvision(name, trainable, non_trainable):
    model = quickly(cnn_keras.build, name, batch_norm=True)
    assert count_params(model) == {"trainable": trainable, "non_trainable": non_trainable,
                                   "total": trainable + non_trainable}
    assert model.name == f"{name}_bn"
    names = [la.name for la in model.layers]
    i = names.index("block1_conv1")
    assert names[i:i + 3] == ["block1_conv1", "block1_conv1_bn", "block1_conv1_relu"]
    assert model.get_layer("block1_conv1").use_bias  # torchvision keeps the conv biases
    _free(model)


def test_family_builder_and_variants_agree():
    assert cnn_keras.list_models("vgg") == ["vgg11", "vgg11_lrn", "vgg13", "vgg16", "vgg16_c",
                                            "vgg19", "vgg_cifar"]
    a = vgg(config="C", include_top=False, input_shape=(32, 32, 3))
    b = cnn_keras.vgg16_c(include_top=False, input_shape=(32, 32, 3))
    assert [w.shape for w in a.weights] == [w.shape for w in b.weights]
    assert a.name == b.name == "vgg16_c"
    assert vgg_module.layer_names("C")[:3] == ["block1_conv1", "block1_conv2", "block1_pool"]
    with pytest.raises(TypeError, match="config"):
        cnn_keras.vgg16(config="E")


def test_dropout_option_and_fc_units():
    m = cnn_keras.vgg11(input_shape=(32, 32, 3), classes=3, dropout=0.0, fc_units=(16, 8))
    assert not any(isinstance(la, keras.layers.Dropout) for la in m.layers)
    assert [la.name for la in m.layers][-4:] == ["flatten", "fc1", "fc2", "predictions"]
    # 11 weight layers: 8 convs + fc1 (512 -> 16) + fc2 (16 -> 8) + predictions (8 -> 3)
    convs = 9_220_480  # the conv body of A (132,863,336 - 3 FC layers of 123,642,856)
    assert count_params(m)["trainable"] == convs + (512 * 16 + 16) + (16 * 8 + 8) + (8 * 3 + 3)
    m = vgg(config="A", input_shape=(32, 32, 3), classes=3, dropout=0.3, fc_units=(16,))
    assert m.get_layer("fc1_dropout").rate == 0.3


# --- keras.applications equivalence ------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KERAS_APPS))
def test_equals_keras_applications(name):
    app, headless = KERAS_APPS[name]
    for include_top in (True, False):
        ref = quickly(getattr(keras.applications, app), weights=None, include_top=include_top)
        ours = quickly(cnn_keras.build, name, include_top=include_top)
        assert count_params(ours) == count_params(ref)
        if not include_top:
            assert count_params(ours)["total"] == headless
        # The layers with weights are the same, in the same order.
        assert _weighted_names(ours) == _weighted_names(ref)
        # Every layer of keras (but its auto-named input) is ours, in order; ours adds only
        # the weightless dropout layers.
        ref_names = [la.name for la in ref.layers][1:]
        our_names = [la.name for la in ours.layers][1:]
        assert [n for n in our_names if not n.endswith("_dropout")] == ref_names
        assert [n for n in our_names if n.endswith("_dropout")] == (
            ["fc1_dropout", "fc2_dropout"] if include_top else [])
        _free(ref, ours)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KERAS_APPS))
def test_transfer_weights_headless_gives_same_outputs(name):
    app, _ = KERAS_APPS[name]
    ref = getattr(keras.applications, app)(weights=None, include_top=False,
                                           input_shape=(64, 64, 3))
    ours = cnn_keras.build(name, include_top=False, input_shape=(64, 64, 3))
    assert cnn_keras.transfer_weights(ref, ours) == len(_weighted_names(ref))
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    a, b = infer(ours, x), infer(ref, x)
    assert np.abs(b).max() > 0
    assert np.max(np.abs(a - b) / (np.abs(b) + 1e-6)) < 1e-4


@pytest.mark.slow
def test_transfer_weights_with_top_gives_same_outputs():
    ref = keras.applications.VGG16(weights=None)
    ours = cnn_keras.vgg16()
    assert cnn_keras.transfer_weights(ref, ours) == 16
    x = np.random.default_rng(1).uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    a, b = infer(ours, x), infer(ref, x)
    assert np.max(np.abs(a - b) / (np.abs(b) + 1e-6)) < 1e-4


@pytest.mark.parametrize("name,config,app,include_top", [
    ("vgg19", "E", "VGG19", False), ("vgg16", "D", "VGG16", True)])
def test_imagenet_weights_come_from_keras_applications(monkeypatch, name, config, app,
                                                       include_top):
    """Offline: keras' model is replaced by one with random weights; check what keras is asked
    for (the real include_top, the input shape) and that exactly its weights are copied."""
    made = []

    def fake(**kw):
        made.append((kw, getattr(keras.applications, app)(**{**kw, "weights": None})))
        return made[-1][1]

    monkeypatch.setitem(vgg_module._KERAS_APPLICATIONS, config, fake)
    shape = (224, 224, 3) if include_top else (32, 32, 3)
    ours = cnn_keras.build(name, weights="imagenet", include_top=include_top,
                           input_shape=shape)
    ((kw, src),) = made
    assert kw == {"include_top": include_top, "weights": "imagenet", "input_shape": shape,
                  "classes": 1000, "classifier_activation": "softmax"}
    assert _weighted_names(ours) == _weighted_names(src)
    layers = ["predictions", "block5_conv1"] if include_top else _weighted_names(src)
    for lname in layers:
        for a, b in zip(ours.get_layer(lname).weights, src.get_layer(lname).weights):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                          keras.ops.convert_to_numpy(b))
    _free(ours, src)


# --- the builder contract ------------------------------------------------------------------
def test_headless_pooling_and_custom_shape():
    for pooling, shape in [(None, (None, 2, 3, 512)), ("avg", (None, 512)),
                           ("max", (None, 512))]:
        m = cnn_keras.vgg11(include_top=False, pooling=pooling, input_shape=(64, 96, 3))
        assert m.output_shape == shape
        assert not any(la.name in ("flatten", "fc1", "predictions") for la in m.layers)
    m = cnn_keras.vgg11(include_top=False, input_shape=(None, None, 3), pooling="max")
    assert m.input_shape == (None, None, None, 3)
    assert infer(m, _rng_images((1, 40, 72, 3))).shape == (1, 512)
    # include_top at another size: fc1 sees the 2x2x512 map
    m = cnn_keras.vgg11_lrn(input_shape=(64, 64, 1), classes=5, fc_units=(32, 32))
    assert m.output_shape == (None, 5)
    assert m.get_layer("fc1").kernel.shape == (2 * 2 * 512, 32)


def test_vgg_cifar_count_shape_and_docstring():
    m = vgg_cifar()
    p = count_params(m)
    assert (p["trainable"], p["non_trainable"]) == (VGG_CIFAR_TRAINABLE, VGG_CIFAR_NON_TRAINABLE)
    assert m.name == "vgg_cifar"
    assert m.input_shape == (None, 32, 32, 3) and m.output_shape == (None, 10)
    assert m.get_layer("block5_pool").output.shape == (None, 1, 1, 512)
    assert [la.name for la in m.layers][-4:] == ["flatten", "fc1", "fc1_dropout", "predictions"]
    assert len([la for la in m.layers if isinstance(la, keras.layers.BatchNormalization)]) == 13
    assert count_macs(m) == 313_463_808
    doc = vgg_cifar.__doc__
    assert doc.splitlines()[0].startswith("VGG for CIFAR-10")
    assert "Reference: https://arxiv.org/abs/1409.1556" in doc
    assert f"{VGG_CIFAR_TRAINABLE:,}" in doc
    assert cnn_keras.build("vgg_cifar", batch_norm=False).count_params() == 14_982_474


def test_input_tensor_and_logits():
    inp = keras.Input((32, 32, 3))
    m = vgg_cifar(input_tensor=inp, classes=7, classifier_activation=None)
    assert m.output_shape == (None, 7)
    assert m.get_layer("predictions").activation is keras.activations.linear
    out = infer(m, _rng_images((2, 32, 32, 3)))
    assert not np.allclose(out.sum(axis=1), 1.0)
    base = keras.Input((64, 64, 3))
    m2 = vgg_cifar(input_tensor=keras.layers.Resizing(32, 32)(base))
    assert m2.input_shape == (None, 64, 64, 3)


def test_vgg_cifar_serialization_round_trip(tmp_path):
    model = vgg_cifar(fc_units=(64,))
    x = _rng_images((2, 32, 32, 3), seed=1)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(infer(loaded, x), infer(model, x),
                               rtol=1e-6)
    wpath = tmp_path / "m.weights.h5"
    model.save_weights(wpath)
    again = vgg_cifar(fc_units=(64,), weights=str(wpath))
    np.testing.assert_allclose(infer(again, x), infer(model, x),
                               rtol=1e-6)


def test_lrn_model_serializes(tmp_path):
    m = cnn_keras.vgg11_lrn(include_top=False, input_shape=(32, 32, 3))
    m.save(tmp_path / "lrn.keras")
    loaded = keras.models.load_model(tmp_path / "lrn.keras")
    x = _rng_images((1, 32, 32, 3))
    np.testing.assert_allclose(infer(loaded, x), infer(m, x), rtol=1e-6)


def test_pure_keras_layers():
    m = cnn_keras.vgg11_lrn(include_top=False, input_shape=(32, 32, 3), batch_norm=True)
    assert {type(la).__module__.split(".")[0] for la in m.layers} <= {"keras", "cnn_keras"}


BAD_ARGS = [
    ("vgg16", {"input_shape": (16, 16, 3), "include_top": False}, "input_shape"),
    ("vgg_cifar", {"input_shape": (31, 32, 3)}, "input_shape"),
    ("vgg16", {"input_shape": (None, None, 3)}, "input_shape"),
    ("vgg11", {"classes": 0}, "classes"),
    ("vgg11", {"pooling": "avg"}, "pooling"),
    ("vgg11", {"pooling": "bogus", "include_top": False}, "pooling"),
    ("vgg11", {"classifier_activation": "nope"}, "classifier_activation"),
    ("vgg11", {"weights": "imagenet"}, "weights"),
    ("vgg16_c", {"weights": "imagenet"}, "weights"),
    ("vgg16", {"weights": "imagenet", "batch_norm": True}, "weights"),
    ("vgg16", {"weights": "imagenet", "fc_units": (512,)}, "weights"),
    ("vgg_cifar", {"weights": "imagenet"}, "weights"),
    ("vgg16", {"weights": "imagenet", "classes": 10}, "classes"),
    ("vgg16", {"weights": "imagenet", "input_shape": (64, 64, 3)}, "input_shape"),
    ("vgg11", {"weights": "missing.weights.h5"}, "weights"),
    ("vgg11", {"batch_norm": "yes"}, "batch_norm"),
    ("vgg11", {"dropout": 1.0}, "dropout"),
    ("vgg11", {"dropout": -0.1}, "dropout"),
    ("vgg11", {"dropout": True}, "dropout"),
    ("vgg11", {"fc_units": (4096, 0)}, "fc_units"),
    ("vgg11", {"fc_units": 4096}, "fc_units"),
    ("vgg11", {"name": 3}, "name"),
    ("vgg11", {"include_top": 1}, "include_top"),
    ("vgg_cifar", {"config": "F"}, "config"),
    ("vgg_cifar", {"config": "D", "dropout": 2}, "dropout"),
    ("vgg_cifar", {"width": 0}, "width"),
    ("vgg_cifar", {"width": -1}, "width"),
    ("vgg_cifar", {"width": "a"}, "width"),
    ("vgg_cifar", {"width": True}, "width"),
    ("vgg_cifar", {"width": float("nan")}, "width"),
]


@pytest.mark.parametrize("name,kwargs,arg", BAD_ARGS)
def test_bad_arguments_are_clear_value_errors(name, kwargs, arg):
    with pytest.raises(ValueError, match=rf"Received: {arg}="):
        cnn_keras.build(name, **kwargs)


def test_bad_config_lists_the_configs():
    with pytest.raises(ValueError, match=r"\['A', 'A-LRN', 'B', 'C', 'D', 'E', 'B-5x5'\]"):
        vgg(config="a")


# --- width and B-5x5 (Sec. 4.1) --------------------------------------------------------------
def _conv(k, c_in, c_out):
    return k * k * c_in * c_out + c_out  # a k x k conv with biases


def _dense(n_in, n_out):
    return n_in * n_out + n_out


def _convs(model):
    return [la for la in model.layers if isinstance(la, keras.layers.Conv2D)]


# vgg_cifar without BN at 32x32: after five pools fc1 sees a 1x1xC map; fc1 512, predictions 10.
WIDTH_COUNTS = [
    # B at width 0.25: 16, 16 | 32, 32 | 64, 64 | 128, 128 | 128, 128 (3x3 convs)
    ({"config": "B", "width": 0.25},
     _conv(3, 3, 16) + _conv(3, 16, 16) + _conv(3, 16, 32) + _conv(3, 32, 32)
     + _conv(3, 32, 64) + _conv(3, 64, 64) + _conv(3, 64, 128) + _conv(3, 128, 128)
     + 2 * _conv(3, 128, 128) + _dense(128, 512) + _dense(512, 10),
     659_866),
    # B-5x5 at width 0.25: one 5x5 conv per block, 16 | 32 | 64 | 128 | 128
    ({"config": "B-5x5", "width": 0.25},
     _conv(5, 3, 16) + _conv(5, 16, 32) + _conv(5, 32, 64) + _conv(5, 64, 128)
     + _conv(5, 128, 128) + _dense(128, 512) + _dense(512, 10),
     751_146),
    # D at width 0.5: 32, 32 | 64, 64 | 128 x 3 | 256 x 3 | 256 x 3 (3x3 convs)
    ({"config": "D", "width": 0.5},
     _conv(3, 3, 32) + _conv(3, 32, 32) + _conv(3, 32, 64) + _conv(3, 64, 64)
     + _conv(3, 64, 128) + 2 * _conv(3, 128, 128) + _conv(3, 128, 256) + 2 * _conv(3, 256, 256)
     + 3 * _conv(3, 256, 256) + _dense(256, 512) + _dense(512, 10),
     3_816_874),
]


@pytest.mark.parametrize("kwargs,by_hand,pinned", WIDTH_COUNTS)
def test_width_scales_the_convs_only(kwargs, by_hand, pinned):
    assert by_hand == pinned
    m = quickly(vgg_cifar, batch_norm=False, **kwargs)
    assert count_params(m) == {"trainable": pinned, "non_trainable": 0, "total": pinned}
    assert m.get_layer("fc1").units == 512  # fc_units is not scaled
    widths = [la.filters for la in _convs(m)]
    table1 = [vgg_module.parse_layer(spec)[2] for block in vgg_module.CONFIGS[kwargs["config"]]
              for spec in block]
    assert widths == [round(f * kwargs["width"]) for f in table1]
    _free(m)


def test_width_default_and_rounding():
    assert count_params(quickly(vgg_cifar, width=1))["trainable"] == VGG_CIFAR_TRAINABLE
    assert "width=1.0" in str(inspect.signature(vgg_cifar))
    # nearest integer, halves up (not to even), at least 1
    assert [vgg_module.scaled_filters(f, w) for f, w in
            [(64, 0.1), (128, 0.1), (5, 0.5), (7, 0.5), (64, 1e-3), (64, 1.5)]] == [
                6, 13, 3, 4, 1, 96]
    m = quickly(vgg_cifar, config="A", width=1e-3, batch_norm=False)
    assert {la.filters for la in _convs(m)} == {1}
    # the ImageNet builders are unchanged: no `width`
    for name, _ in vgg_module.VARIANTS:
        assert "width" not in inspect.signature(getattr(cnn_keras, name)).parameters
    with pytest.raises(TypeError, match="width"):
        cnn_keras.vgg16(width=0.5)
    _free(m)


def test_bad_width_is_a_one_line_value_error():
    for bad in (0, -1, "a", True, float("nan")):
        with pytest.raises(ValueError) as err:
            vgg_cifar(width=bad)
        assert str(err.value) == f"`width` must be a finite number > 0. Received: width={bad!r}"


def test_b_5x5_is_b_with_each_pair_of_3x3_convs_made_one_5x5():
    # the configuration, as Sec. 4.1 derives it from B
    for block_b, block_5 in zip(vgg_module.CONFIGS["B"], vgg_module.CONFIGS["B-5x5"], strict=True):
        (_, k, n), (_, k2, n2) = map(vgg_module.parse_layer, block_b)
        assert (k, k2) == (3, 3) and n == n2
        assert block_5 == (f"conv5-{n}",)
    b = quickly(vgg_cifar, config="B", batch_norm=False, width=0.25)
    b5 = quickly(vgg_cifar, config="B-5x5", batch_norm=False, width=0.25)
    # the same receptive field after every block (Sec. 2.3), with half the convs
    for block in range(1, 6):
        pool = f"block{block}_pool"
        assert receptive_field(b5, pool) == receptive_field(b, pool)
    assert receptive_field(b5) == receptive_field(b) == 156
    assert len(_convs(b)) == 10 and len(_convs(b5)) == 5
    assert all(la.kernel_size == (5, 5) for la in _convs(b5))
    assert len(_weighted_names(b5)) == 7 < len(_weighted_names(b)) == 12
    assert len(b5.layers) < len(b.layers)
    assert vgg_module.layer_names("B-5x5") == [
        n for i in range(1, 6) for n in (f"block{i}_conv1", f"block{i}_pool")]
    _free(b, b5)


def test_b_5x5_has_no_paper_row_and_no_variant():
    table1 = set(vgg_module.CONFIGS) - {"B-5x5"}
    assert set(vgg_module.PAPER_PARAMS_M) == set(vgg_module.PAPER_SINGLE_SCALE_ERRORS) == table1
    assert {config for _, config in vgg_module.VARIANTS} == table1
    assert "vgg_b_5x5" not in cnn_keras.list_models()
    # the generic builder names it itself; preinitialize refuses it (5x5, not A's 3x3 convs)
    m = vgg(config="B-5x5", include_top=False, input_shape=(32, 32, 3))
    assert m.name == "vgg_b_5x5" and m.output_shape == (None, 1, 1, 512)
    assert vgg(config="B-5x5", include_top=False, input_shape=(32, 32, 3),
               batch_norm=True).name == "vgg_b_5x5_bn"
    small = {"fc_units": (8,), "batch_norm": False, "width": 0.25}
    with pytest.raises(ValueError, match=r"'block1_conv1'.*3x3 convs.*Received: block1_conv1="):
        preinitialize(vgg_cifar(config="B-5x5", **small), vgg_cifar(config="A", **small))
    # at the same width, the Table 1 nets still take A's layers
    assert len(preinitialize(vgg_cifar(config="D", **small), vgg_cifar(config="A", **small))) == 6
    _free(m)


# --- pre-initialisation (Sec. 3.1) ---------------------------------------------------------
def _small(config, **kw):
    return vgg(config=config, input_shape=(32, 32, 3), classes=10, fc_units=(32, 32), **kw)


def _numpy_weights(layer):
    return [keras.ops.convert_to_numpy(w).copy() for w in layer.weights]


def test_preinitialize_copies_four_convs_and_three_fc():
    keras.utils.set_random_seed(0)
    shallow, deep = _small("A"), _small("E", batch_norm=True)
    before = {la.name: _numpy_weights(la) for la in deep.layers if la.weights}
    copied = preinitialize(deep, shallow)
    assert copied == ["block1_conv1", "block2_conv1", "block3_conv1", "block3_conv2",
                      "fc1", "fc2", "predictions"]
    for name in before:
        after = _numpy_weights(deep.get_layer(name))
        if name in copied:
            for a, s in zip(after, _numpy_weights(shallow.get_layer(name))):
                np.testing.assert_array_equal(a, s)
        else:  # the intermediate layers (and BN) stay as they were
            for a, b in zip(after, before[name]):
                np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for name in copied
               for a, b in zip(before[name], _numpy_weights(deep.get_layer(name))))
    # every deep configuration takes A's layers
    for config in ("B", "C", "D"):
        assert preinitialize(_small(config), shallow) == copied


def test_preinitialize_mismatch_is_a_value_error_and_copies_nothing():
    deep = _small("D")
    before = _numpy_weights(deep.get_layer("block1_conv1"))
    other_classes = vgg(config="A", input_shape=(32, 32, 3), classes=5, fc_units=(32, 32))
    with pytest.raises(ValueError, match=r"'predictions'.*Received: predictions="):
        preinitialize(deep, other_classes)
    for a, b in zip(before, _numpy_weights(deep.get_layer("block1_conv1"))):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"no layer 'fc1'.*Received: shallow_model="):
        preinitialize(deep, cnn_keras.vgg11(include_top=False, input_shape=(32, 32, 3)))
    with pytest.raises(ValueError, match="Received: deep_model="):
        preinitialize("vgg16", _small("A"))


# --- augmentation --------------------------------------------------------------------------
def test_scale_jitter_shapes_and_determinism():
    img = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    out = augment.scale_jitter(img, seed=3, s_min=32, s_max=64, crop=24)
    assert out.shape == (24, 24, 3) and out.dtype == tf.float32
    batch = np.stack([img, img[::-1], img[:, ::-1], img])
    out_b = augment.scale_jitter(batch, seed=(1, 2), s_min=32, s_max=64, crop=24)
    assert out_b.shape == (4, 24, 24, 3)
    again = augment.scale_jitter(batch, seed=(1, 2), s_min=32, s_max=64, crop=24)
    np.testing.assert_array_equal(out_b.numpy(), again.numpy())
    other = augment.scale_jitter(batch, seed=(1, 3), s_min=32, s_max=64, crop=24)
    assert not np.array_equal(out_b.numpy(), other.numpy())
    # each image of a batch gets its own draw: identical images 0 and 3 differ
    assert not np.array_equal(out_b[0].numpy(), out_b[3].numpy())
    # works inside tf.data (graph mode)
    ds = tf.data.Dataset.from_tensor_slices(batch).batch(2).map(
        lambda x: augment.scale_jitter(x, tf.constant([5, 6]), 32, 48, 24))
    assert [b.shape for b in ds] == [(2, 24, 24, 3)] * 2


def test_scale_jitter_short_side_in_range_before_the_crop():
    img = np.zeros((40, 60, 3), np.float32)
    shorts = []
    for seed in range(25):
        rescaled = augment.scale_jitter(img, seed=seed, s_min=32, s_max=48, crop=None)
        h, w, _ = rescaled.shape
        assert 32 <= min(h, w) <= 48
        assert abs(w - round(h * 60 / 40)) <= 1  # isotropic
        shorts.append(h)
    assert len(set(shorts)) > 5  # S really varies
    tall = augment.resize_shorter_side(np.zeros((90, 30, 1)), 256)
    assert tall.shape == (768, 256, 1)


def test_scale_jitter_single_scale_crop_is_a_window_of_the_image():
    img = np.arange(32 * 40 * 1, dtype=np.float32).reshape(32, 40, 1)
    out = augment.scale_jitter(img, seed=7, s_min=32, s_max=32, crop=16).numpy()
    windows = [img[t:t + 16, left:left + 16] for t in range(17) for left in range(25)]
    assert any(np.allclose(out, w, atol=1e-3) for w in windows)


@pytest.mark.parametrize("kwargs,arg", [
    ({"s_min": 300, "s_max": 256}, "s_max"),
    ({"crop": 300}, "crop"),
    ({"s_min": 0}, "s_min"),
    ({"crop": 2.5}, "crop"),
    ({"seed": "x"}, "seed"),
    ({"seed": (1, 2, 3)}, "seed"),
    ({"image": np.zeros((8, 8))}, "image"),
    ({"image": np.zeros((2, 40, 40, 3)), "crop": None}, "crop"),
])
def test_scale_jitter_validation(kwargs, arg):
    args = {"image": np.zeros((40, 40, 3)), "seed": 0, "s_min": 256, "s_max": 512,
            "crop": 224, **kwargs}
    with pytest.raises(ValueError, match=rf"Received: {arg}"):
        augment.scale_jitter(**args)


EIGVALS = np.array([0.2, 0.02, 0.005], np.float32)
_Q = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))[0].astype(np.float32)


def test_rgb_color_shift_mean_zero_and_covariance():
    img = np.full((4, 5, 3), 0.5, np.float32)
    shifts = []
    for seed in range(200):
        out = augment.rgb_color_shift(img, seed, EIGVALS, _Q).numpy()
        delta = out - img
        np.testing.assert_allclose(delta, np.broadcast_to(delta[0, 0], delta.shape),
                                   atol=1e-7)  # one shift for every pixel
        shifts.append(delta[0, 0])
    shifts = np.array(shifts)
    assert np.abs(shifts.mean(axis=0)).max() < 0.005  # per-channel std of the shift is <= 0.02
    assert shifts.std() > 0.002
    # a big batch (one draw per image): covariance = sum_i (0.1 lambda_i)^2 p_i p_i^T
    batch = np.zeros((20_000, 1, 1, 3), np.float32)
    d = augment.rgb_color_shift(batch, (4, 2), EIGVALS, _Q).numpy().reshape(-1, 3)
    expected = _Q @ np.diag((0.1 * EIGVALS) ** 2) @ _Q.T
    np.testing.assert_allclose(np.cov(d.T), expected, atol=2e-5)


def test_rgb_color_shift_zero_std_is_identity_and_seeded():
    x = _rng_images((3, 6, 6, 3))
    np.testing.assert_array_equal(augment.rgb_color_shift(x, 1, EIGVALS, _Q, std=0.0).numpy(), x)
    a = augment.rgb_color_shift(x, (9, 9), EIGVALS, _Q).numpy()
    np.testing.assert_array_equal(a, augment.rgb_color_shift(x, (9, 9), EIGVALS, _Q).numpy())
    assert not np.array_equal(a, augment.rgb_color_shift(x, (9, 8), EIGVALS, _Q).numpy())
    assert a.dtype == np.float32


@pytest.mark.parametrize("kwargs,arg", [
    ({"std": -1.0}, "std"), ({"std": "big"}, "std"),
    ({"eigvals": [1.0, 2.0]}, "eigvals"), ({"eigvecs": np.eye(2)}, "eigvecs"),
    ({"image": np.zeros((4, 4, 3), np.uint8)}, "image"),
    ({"image": np.zeros((4, 4, 4), np.float32)}, "image"),
    ({"seed": 1.5}, "seed"),
])
def test_rgb_color_shift_validation(kwargs, arg):
    args = {"image": np.zeros((4, 4, 3), np.float32), "seed": 0, "eigvals": EIGVALS,
            "eigvecs": _Q, **kwargs}
    with pytest.raises(ValueError, match=rf"Received: {arg}"):
        augment.rgb_color_shift(**args)


def test_rgb_pca_recovers_a_known_covariance():
    rng = np.random.default_rng(0)
    true_vals = np.array([40.0, 15.0, 5.0]) ** 2  # in 0-255 units
    z = rng.normal(size=(200_000, 3)) * np.sqrt(true_vals)
    pixels = np.clip(np.round(128 + z @ _Q.T), 0, 255).astype(np.uint8)
    images = pixels.reshape(50, 40, 100, 3)
    vals, vecs = augment.rgb_pca(images)
    assert vals.shape == (3,) and vecs.shape == (3, 3)
    assert np.all(np.diff(vals) <= 0)
    np.testing.assert_allclose(vals, true_vals / 255**2, rtol=0.05)
    np.testing.assert_allclose(np.abs(np.sum(vecs * _Q, axis=0)), 1.0, atol=0.01)
    # exactly the eigen-decomposition of the [0, 1] covariance, chunked or not
    cov = np.cov(pixels.T / 255.0, bias=True)
    np.testing.assert_allclose(vals, np.sort(np.linalg.eigvalsh(cov))[::-1], rtol=1e-5)
    vals2, _ = augment.rgb_pca(images, chunk_pixels=777)
    np.testing.assert_allclose(vals2, vals, rtol=1e-6)
    with pytest.raises(ValueError, match="Received: images_uint8.dtype"):
        augment.rgb_pca(images.astype(np.float32))
    with pytest.raises(ValueError, match="Received: images_uint8.shape"):
        augment.rgb_pca(images[..., :2])


# --- test-time augmentation ----------------------------------------------------------------
def _tiny_model(size=8, classes=4):
    keras.utils.set_random_seed(0)
    inp = keras.Input((size, size, 3))
    x = keras.layers.Flatten()(inp)  # not flip-invariant, so the flip matters
    out = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inp, out)


def test_predict_tta_equals_mean_of_manual_predictions():
    model = _tiny_model()
    x = _rng_images((5, 8, 8, 3))
    p = lambda v: model.predict(v, verbose=0)  # noqa: E731
    np.testing.assert_allclose(evaluation.predict_tta(model, x, flip=False), p(x), rtol=1e-6)
    expected = (p(x) + p(x[:, :, ::-1])) / 2
    got = evaluation.predict_tta(model, x, batch_size=2)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(got, p(x))
    # 5 crops (4 corners + centre) of 8x8 from 12x12 images, with flips: 10 views
    big = _rng_images((3, 12, 12, 3), seed=2)
    corners = [(0, 0), (0, 4), (4, 0), (4, 4), (2, 2)]
    views = [big[:, t:t + 8, s:s + 8] for t, s in corners]
    expected = np.mean([p(v) for v in views] + [p(v[:, :, ::-1]) for v in views], axis=0)
    np.testing.assert_allclose(evaluation.predict_tta(model, big, crops=5), expected,
                               rtol=1e-5)
    # crops larger than the model input are resized to it
    crop = big[:, 1:11, 1:11]
    expected = p(keras.ops.convert_to_numpy(keras.ops.image.resize(crop, (8, 8))))
    np.testing.assert_allclose(
        evaluation.predict_tta(model, big, flip=False, crops=1, crop_size=10), expected,
        rtol=1e-5)
    # logits: softmax per view, then the mean
    logit_model = keras.Model(model.inputs, model.layers[-1].output)
    logit_model.layers[-1].activation = keras.activations.linear
    np.testing.assert_allclose(
        evaluation.predict_tta(logit_model, x, flip=False, from_logits=True), p(x), rtol=1e-5)


def test_crop_boxes_grid():
    boxes = evaluation.crop_boxes(256, 256, (224, 224), 25)  # VGG's 5 x 5 grid
    assert len(boxes) == 25 and boxes[0] == (0, 0) and boxes[-1] == (32, 32)
    assert (16, 16) in boxes


def test_accuracy():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    assert evaluation.accuracy(probs, [0, 2, 1]) == pytest.approx(2 / 3)
    assert evaluation.accuracy(probs, np.eye(3)[[0, 2, 1]]) == pytest.approx(2 / 3)
    assert evaluation.accuracy(probs, [1, 1, 1], k=2) == 1.0
    with pytest.raises(ValueError, match="Received: k="):
        evaluation.accuracy(probs, [0, 0, 0], k=4)
    with pytest.raises(ValueError, match="Received: labels_shape="):
        evaluation.accuracy(probs, [0, 0])


@pytest.mark.parametrize("kwargs,arg", [
    ({"crops": 3}, "crops"), ({"crops": 5, "crop_size": 20}, "crop_size"),
    ({"crop_size": 4}, "crop_size"), ({"flip": 1}, "flip"), ({"batch_size": 0}, "batch_size"),
    ({"images": np.zeros((8, 8, 3))}, "images_shape"),
])
def test_predict_tta_validation(kwargs, arg):
    args = {"images": _rng_images((2, 12, 12, 3)), **kwargs}
    with pytest.raises(ValueError, match=rf"Received: {arg}="):
        evaluation.predict_tta(_tiny_model(), **args)


def test_the_papers_init_gives_each_layer_its_own_weights():
    # one shared unseeded initializer object once gave every layer of a shape the same kernel
    model = cnn_keras.vgg_cifar(config="D", init="paper", width=0.25)
    kernels = [np.asarray(layer.kernel) for layer in model.layers
               if isinstance(layer, keras.layers.Conv2D)]
    same = [(i, j) for i in range(len(kernels)) for j in range(i)
            if kernels[i].shape == kernels[j].shape and np.array_equal(kernels[i], kernels[j])]
    assert not same
    assert np.std(kernels[-1]) == pytest.approx(0.1, rel=0.05)
