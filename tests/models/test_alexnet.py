"""AlexNet builders: exact counts and MACs, shapes, the ablation options, validation.

The 227x227 models with their FC top hold 61M weights: only two tests build one.
"""

import warnings

import keras
import numpy as np
import pytest

import cnn_keras
from cnn_keras.analysis import count_macs, count_params
from cnn_keras.layers import LocalResponseNormalization
from cnn_keras.models.alexnet import CIFAR, IMAGENET, min_input_size

from built import infer, quickly

# (model, exact trainable parameters, output shape, multiply-adds for one image)
COUNTS = [
    # Krizhevsky et al. 2012 ("60 million parameters"); REFERENCE.md [R]: 60,965,224, 724.4M.
    ("alexnet", 60_965_224, (None, 1000), 724_406_816),
    # The CIFAR-10 adaptation of this package (no paper number).
    ("alexnet_cifar", 4_450_634, (None, 10), 111_004_672),
]
ALEXNET_GROUPS1 = 62_378_344  # REFERENCE.md [R]: without the two-GPU grouping
# Layer -> output shape of the paper's net at 227x227 (Sec. 3.5, Fig. 2).
ALEXNET_SHAPES = {
    "conv1": (55, 55, 96), "pool1": (27, 27, 96), "conv2": (27, 27, 256),
    "pool2": (13, 13, 256), "conv3": (13, 13, 384), "conv4": (13, 13, 384),
    "conv5": (13, 13, 256), "pool5": (6, 6, 256), "flatten": (9216,), "fc6": (4096,),
    "fc7": (4096,), "predictions": (1000,),
}
ALEXNET_LAYERS = [
    "input_layer",
    "conv1", "conv1_relu", "conv1_lrn", "pool1",
    "conv2", "conv2_relu", "conv2_lrn", "pool2",
    "conv3", "conv3_relu", "conv4", "conv4_relu", "conv5", "conv5_relu", "pool5",
    "flatten", "fc6", "fc6_relu", "fc6_dropout", "fc7", "fc7_relu", "fc7_dropout",
    "predictions",
]


def _layers(model, cls):
    return [layer for layer in model.layers if isinstance(layer, cls)]


@pytest.mark.parametrize("name,trainable,shape,macs", COUNTS)
def test_counts_macs_and_shape(name, trainable, shape, macs):
    model = quickly(cnn_keras.build, name)
    assert count_params(model) == {"trainable": trainable, "non_trainable": 0,
                                   "total": trainable}
    assert count_macs(model) == macs
    assert model.output_shape == shape
    assert model.name == name
    assert [layer.name for layer in model.layers] == ALEXNET_LAYERS
    if name == "alexnet":
        assert model.input_shape == (None, 227, 227, 3)
        assert abs(count_macs(model) / 1e6 - 724.4) < 0.1
        for layer, out in ALEXNET_SHAPES.items():
            assert model.get_layer(layer).output.shape[1:] == out, layer
        assert [model.get_layer(f"conv{i}").groups for i in range(1, 6)] == [1, 2, 1, 2, 2]
        assert [model.get_layer(f"conv{i}").padding for i in range(1, 6)] == [
            "valid", "same", "same", "same", "same"]
        assert model.get_layer("conv1").strides == (4, 4)
        assert [model.get_layer(f"fc{i}_dropout").rate for i in (6, 7)] == [0.5, 0.5]
    else:
        assert model.input_shape == (None, 32, 32, 3)
        assert model.get_layer("pool5").output.shape[1:] == (3, 3, 256)


def test_alexnet_without_groups():
    model = cnn_keras.alexnet(groups=1)
    assert count_params(model)["trainable"] == ALEXNET_GROUPS1
    assert all(layer.groups == 1 for layer in _layers(model, keras.layers.Conv2D))


def test_paper_layer_settings_and_init():
    model = cnn_keras.alexnet(include_top=False)
    lrns = _layers(model, LocalResponseNormalization)
    assert [la.name for la in lrns] == ["conv1_lrn", "conv2_lrn"]
    assert all((la.size, la.k, la.alpha, la.beta) == (5, 2.0, 1e-4, 0.75) for la in lrns)
    pools = _layers(model, keras.layers.MaxPooling2D)
    assert [(p.pool_size, p.strides) for p in pools] == [((3, 3), (2, 2))] * 3
    # Sec. 5: N(0, 0.01) weights; biases 1 in conv2, conv4, conv5, else 0.
    biases = {i: model.get_layer(f"conv{i}").bias.numpy() for i in range(1, 6)}
    assert {i: float(np.unique(b)[0]) for i, b in biases.items()} == {
        1: 0.0, 2: 1.0, 3: 0.0, 4: 1.0, 5: 1.0}
    assert all(len(np.unique(b)) == 1 for b in biases.values())
    kernel = model.get_layer("conv3").kernel.numpy()
    assert abs(kernel.std() - 0.01) < 0.001 and abs(kernel.mean()) < 0.001
    assert model.output_shape == (None, 6, 6, 256)


def test_min_input_size():
    assert min_input_size(IMAGENET) == 67 and min_input_size(IMAGENET, False) == 39
    assert min_input_size(CIFAR) == 15 and min_input_size(CIFAR, False) == 8
    m = cnn_keras.alexnet(include_top=False, input_shape=(67, 67, 3))
    assert m.output_shape == (None, 1, 1, 256)
    m = cnn_keras.alexnet(include_top=False, input_shape=(39, 39, 3), overlapping_pool=False)
    assert m.output_shape == (None, 1, 1, 256)
    m = cnn_keras.alexnet_cifar(input_shape=(15, 15, 3))
    assert m.get_layer("pool5").output.shape[1:] == (1, 1, 256)
    for kwargs in ({"input_shape": (66, 66, 3)}, {"input_shape": (227, 66, 3)},
                   {"input_shape": (38, 38, 3), "overlapping_pool": False}):
        with pytest.raises(ValueError, match=r"at least \d+x\d+\. Received: input_shape="):
            cnn_keras.alexnet(include_top=False, **kwargs)
    with pytest.raises(ValueError, match=r"at least 15x15\. Received: input_shape="):
        cnn_keras.alexnet_cifar(input_shape=(14, 14, 3))


# --- the ablation options ------------------------------------------------------------------
def test_lrn_option():
    model = cnn_keras.alexnet(include_top=False, lrn=False)
    assert not _layers(model, LocalResponseNormalization)
    assert not any("lrn" in layer.name for layer in model.layers)
    # LRN has no weights: the count is unchanged
    assert count_params(model) == count_params(cnn_keras.alexnet(include_top=False))
    cifar = cnn_keras.alexnet_cifar(lrn=False)
    assert not _layers(cifar, LocalResponseNormalization)
    assert count_params(cifar)["trainable"] == 4_450_634


def test_batch_norm_option():
    """Batch norm in LRN's place: between conv1 / conv2 and their activations, 2 x 32 scales
    and shifts more to train (and 2 x 32 moving means and variances) in the Fig. 1 net."""
    plain, bn = cnn_keras.alexnet_fig1(), cnn_keras.alexnet_fig1(batch_norm=True)
    names = [layer.name for layer in bn.layers]
    assert names[names.index("conv1"):names.index("pool1") + 1] == [
        "conv1", "conv1_bn", "conv1_relu", "pool1"]
    assert [la.name for la in _layers(bn, keras.layers.BatchNormalization)] == [
        "conv1_bn", "conv2_bn"]
    assert count_params(plain)["trainable"] == 85_098
    assert count_params(bn) == {"trainable": 85_226, "non_trainable": 128, "total": 85_354}
    both = cnn_keras.alexnet_cifar(batch_norm=True)  # with the default LRN: both normalise
    assert [la.name for la in _layers(both, LocalResponseNormalization)] == [
        "conv1_lrn", "conv2_lrn"]
    assert len(_layers(cnn_keras.alexnet(include_top=False, batch_norm=True),
                       keras.layers.BatchNormalization)) == 2


def test_non_overlapping_pool_option():
    model = cnn_keras.alexnet(include_top=False, overlapping_pool=False)
    pools = _layers(model, keras.layers.MaxPooling2D)
    assert [(p.name, p.pool_size, p.strides) for p in pools] == [
        (f"pool{i}", (2, 2), (2, 2)) for i in (1, 2, 5)]
    # 55 -> 27 -> 13 -> 6 with either pooling: same maps, same weights at 227x227
    assert model.output_shape == (None, 6, 6, 256)
    # on 32x32 the maps become 32 -> 16 -> 8 -> 4
    cifar = cnn_keras.alexnet_cifar(overlapping_pool=False)
    assert cifar.get_layer("pool5").output.shape[1:] == (4, 4, 256)
    assert count_params(cifar)["trainable"] == 4_450_634 + (4096 - 2304) * 1024


def test_tanh_activation_option():
    model = cnn_keras.alexnet_cifar(activation="tanh")
    acts = _layers(model, keras.layers.Activation)
    assert [a.name for a in acts] == [f"conv{i}_tanh" for i in range(1, 6)] + [
        "fc6_tanh", "fc7_tanh"]
    assert all(a.activation is keras.activations.tanh for a in acts)
    assert model.get_layer("predictions").activation is keras.activations.softmax
    relu = _layers(cnn_keras.alexnet_cifar(), keras.layers.Activation)
    assert all(a.activation is keras.activations.relu and a.name.endswith("_relu") for a in relu)
    sigmoid = _layers(cnn_keras.alexnet_fig1(activation="sigmoid"), keras.layers.Activation)
    assert [a.name for a in sigmoid] == ["conv1_sigmoid", "conv2_sigmoid", "conv3_sigmoid"]
    assert all(a.activation is keras.activations.sigmoid for a in sigmoid)
    with pytest.raises(ValueError, match="activation.*'relu', 'tanh', 'sigmoid'.*'gelu'"):
        cnn_keras.alexnet_fig1(activation="gelu")


def test_groups_and_dropout_options_on_cifar():
    model = cnn_keras.alexnet_cifar(groups=1, dropout=0.3)
    assert all(layer.groups == 1 for layer in _layers(model, keras.layers.Conv2D))
    # ungrouped conv2 / conv4 / conv5 have twice the kernel weights
    extra = 5 * 5 * 32 * 192 + 9 * 192 * 256 + 9 * 128 * 256
    assert count_params(model)["trainable"] == 4_450_634 + extra
    assert [d.rate for d in _layers(model, keras.layers.Dropout)] == [0.3, 0.3]
    no_drop = cnn_keras.alexnet_cifar(dropout=0)
    assert not _layers(no_drop, keras.layers.Dropout)
    assert count_params(no_drop)["trainable"] == 4_450_634



def test_width_option_on_cifar():
    """width scales the convs' filters only: the FC top, where dropout acts, stays 1024-512."""
    half = cnn_keras.alexnet_cifar(groups=1, lrn=False, width=0.5)
    convs = _layers(half, keras.layers.Conv2D)
    assert [c.filters for c in convs] == [32, 96, 192, 128, 128]
    assert [d.units for d in _layers(half, keras.layers.Dense)] == [1024, 512, 10]
    # conv 5*5*3*32+32 + 5*5*32*96+96 + 9*96*192+192 + 9*192*128+128 + 9*128*128+128,
    # fc6 (3*3*128)*1024+1024, fc7 1024*512+512, predictions 512*10+10
    assert count_params(half)["trainable"] == 2_324_906
    assert count_params(cnn_keras.alexnet_cifar(width=1.0))["trainable"] == 4_450_634
    with pytest.raises(ValueError, match=r"divisible by groups=2.*Received: width=0.3"):
        cnn_keras.alexnet_cifar(width=0.3)  # 192 * 0.3 = 58 (odd) filters in grouped conv2
    for bad in (0, -1, "0.5", True, float("nan")):
        with pytest.raises(ValueError, match=r"Received: width="):
            cnn_keras.alexnet_cifar(width=bad)

# --- the shared arguments ------------------------------------------------------------------
@pytest.mark.parametrize("name,size,channels", [("alexnet", 227, 256),
                                                ("alexnet_cifar", 32, 256)])
def test_headless_and_pooling(name, size, channels):
    for pooling, shape in [(None, 4), ("avg", 2), ("max", 2)]:
        m = cnn_keras.build(name, include_top=False, pooling=pooling)
        assert len(m.output_shape) == shape and m.output_shape[-1] == channels
        assert not any(la.name in ("flatten", "fc6", "predictions") for la in m.layers)
    m = cnn_keras.build(name, include_top=False, pooling="avg")
    assert m.layers[-1].name == "avg_pool"
    m = cnn_keras.build(name, include_top=False, input_shape=(None, None, 3), pooling="max")
    assert m.input_shape == (None, None, None, 3) and m.output_shape == (None, channels)
    m = cnn_keras.build(name, include_top=False, input_shape=(2 * size, size, 3))
    assert m.output_shape[3] == channels


def test_custom_input_shape_with_top():
    m = cnn_keras.alexnet_cifar(input_shape=(64, 64, 1), classes=100)
    assert m.input_shape == (None, 64, 64, 1)
    assert m.output_shape == (None, 100)
    assert m.get_layer("pool5").output.shape[1:] == (7, 7, 256)
    x = np.zeros((2, 64, 64, 1), "float32")
    assert infer(m, x).shape == (2, 100)


def test_input_tensor_and_logits():
    inp = keras.Input((48, 48, 3))
    m = cnn_keras.alexnet_cifar(input_tensor=inp, classes=7, classifier_activation=None)
    assert m.input_shape == (None, 48, 48, 3) and m.output_shape == (None, 7)
    assert m.get_layer("predictions").activation is keras.activations.linear
    x = np.random.default_rng(0).normal(size=(2, 48, 48, 3)).astype("float32")
    out = infer(m, x)
    assert not np.allclose(out.sum(axis=1), 1.0)  # logits, not probabilities
    probs = cnn_keras.alexnet_cifar().predict(x[:, :32, :32], verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # an input tensor that is not the model input: the net is built on top of it
    base = keras.Input((64, 64, 3))
    resized = keras.layers.Resizing(32, 32)(base)
    m2 = cnn_keras.alexnet_cifar(input_tensor=resized)
    assert m2.input_shape == (None, 64, 64, 3) and m2.output_shape == (None, 10)


def test_serialization_round_trip(tmp_path):
    model = cnn_keras.alexnet_cifar(activation="tanh", overlapping_pool=False)
    x = np.random.default_rng(1).normal(size=(2, 32, 32, 3)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]
    assert isinstance(loaded.get_layer("conv2_lrn"), LocalResponseNormalization)
    np.testing.assert_allclose(infer(loaded, x), infer(model, x),
                               rtol=1e-5, atol=1e-7)
    wpath = tmp_path / "m.weights.h5"
    model.save_weights(wpath)
    again = cnn_keras.alexnet_cifar(weights=str(wpath), activation="tanh",
                                    overlapping_pool=False)
    np.testing.assert_allclose(infer(again, x), infer(model, x),
                               rtol=1e-5, atol=1e-7)
    with warnings.catch_warnings():  # keras warns about the mismatched file, then fails
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="Received: weights="):
            cnn_keras.alexnet_cifar(weights=str(wpath))  # other architecture (3x3 pools)


def test_trains_a_few_steps():
    keras.utils.set_random_seed(0)
    model = cnn_keras.alexnet_cifar(dropout=0.0)
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, 16)
    hist = model.fit(x, y, batch_size=16, epochs=8, verbose=0, shuffle=False)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_pure_keras_and_registry():
    model = cnn_keras.alexnet_cifar()
    assert {type(la).__module__.split(".")[0] for la in model.layers} <= {"keras", "cnn_keras"}
    assert cnn_keras.list_models("alexnet") == ["alexnet", "alexnet_cifar", "alexnet_fig1"]
    assert cnn_keras.get_builder("alexnet") is cnn_keras.alexnet
    for fn in (cnn_keras.alexnet, cnn_keras.alexnet_cifar):
        doc = fn.__doc__
        assert doc.startswith("AlexNet (Krizhevsky")
        assert "Reference: https://papers.nips.cc/paper/4824-" in doc
        assert "overlapping_pool:" in doc and "classifier_activation:" in doc
    assert "What changed" in cnn_keras.alexnet_cifar.__doc__
    with pytest.raises(TypeError, match="lnr"):
        cnn_keras.build("alexnet_cifar", lnr=False)


# --- validation ----------------------------------------------------------------------------
BAD_ARGS = [
    ({"lrn": "yes"}, "lrn"),
    ({"lrn": 1}, "lrn"),
    ({"batch_norm": "yes"}, "batch_norm"),
    ({"groups": 3}, "groups"),
    ({"groups": True}, "groups"),
    ({"groups": "2"}, "groups"),
    ({"overlapping_pool": None}, "overlapping_pool"),
    ({"activation": "gelu"}, "activation"),
    ({"activation": None}, "activation"),
    ({"dropout": 1.0}, "dropout"),
    ({"dropout": -0.1}, "dropout"),
    ({"dropout": "0.5"}, "dropout"),
    ({"dropout": True}, "dropout"),
    ({"input_shape": (8, 8, 3)}, "input_shape"),
    ({"input_shape": (32, 32)}, "input_shape"),
    ({"input_shape": (None, None, 3)}, "input_shape"),  # include_top needs a fixed size
    ({"weights": "imagenet"}, "weights"),
    ({"weights": "imagenet", "include_top": False}, "weights"),
    ({"weights": "missing.weights.h5"}, "weights"),
    ({"weights": "model.h5"}, "weights"),
    ({"pooling": "bogus", "include_top": False}, "pooling"),
    ({"pooling": "avg"}, "pooling"),
    ({"classes": 0}, "classes"),
    ({"classifier_activation": "nope"}, "classifier_activation"),
    ({"input_tensor": np.zeros((1, 32, 32, 3))}, "input_tensor"),
    ({"include_top": "yes"}, "include_top"),
    ({"name": 5}, "name"),
]


@pytest.mark.parametrize("name", ["alexnet", "alexnet_cifar"])
@pytest.mark.parametrize("kwargs,arg", BAD_ARGS)
def test_bad_arguments_are_clear_value_errors(name, kwargs, arg):
    # raised before any layer is built, so even the 227x227 builds cost nothing here
    with pytest.raises(ValueError, match=rf"Received: {arg}="):
        cnn_keras.build(name, **kwargs)


def test_imagenet_weights_error_says_why():
    with pytest.raises(ValueError, match=r"alexnet is not one of them.*Received: weights="):
        cnn_keras.alexnet(weights="imagenet")
