"""Each family's `preprocess_input`: keras.applications' own, for the ImageNet weights it copies;
and every builder's docstring says what input it expects."""

import importlib

import keras
import numpy as np
import pytest

import cnn_keras
from cnn_keras.models import densenet, efficientnet, mobilenet, resnet, vgg

from built import built

apps = keras.applications
IMAGENET_MEAN_BGR = np.array([103.939, 116.779, 123.68])
IMAGENET_MEAN_RGB = np.array([0.485, 0.456, 0.406])
IMAGENET_STD_RGB = np.array([0.229, 0.224, 0.225])

# (ours, keras.applications' function for the same weights, Keras' mode)
PAIRS = [
    pytest.param(vgg.preprocess_input, apps.vgg16.preprocess_input, "caffe", id="vgg16"),
    pytest.param(vgg.preprocess_input, apps.vgg19.preprocess_input, "caffe", id="vgg19"),
    pytest.param(resnet.preprocess_input, apps.resnet.preprocess_input, "caffe", id="resnet"),
    pytest.param(resnet.preprocess_input, apps.resnet50.preprocess_input, "caffe",
                 id="resnet50"),
    pytest.param(resnet.preprocess_input_v2, apps.resnet_v2.preprocess_input, "tf",
                 id="resnet_v2"),
    pytest.param(densenet.preprocess_input, apps.densenet.preprocess_input, "torch",
                 id="densenet"),
    pytest.param(mobilenet.preprocess_input, apps.mobilenet.preprocess_input, "tf",
                 id="mobilenet"),
]


def pixels(shape, seed=0):
    """Random 0..255 pixels, float32 (what an image loader gives after a cast)."""
    return np.random.default_rng(seed).integers(0, 256, size=shape).astype("float32")


def by_hand(x, mode, channel_axis=-1):
    """The three modes of keras.applications.imagenet_utils, written out (float64)."""
    x = np.moveaxis(np.asarray(x, dtype="float64"), channel_axis, -1)
    if mode == "caffe":
        out = x[..., ::-1] - IMAGENET_MEAN_BGR
    elif mode == "tf":
        out = x / 127.5 - 1.0
    else:
        out = (x / 255.0 - IMAGENET_MEAN_RGB) / IMAGENET_STD_RGB
    return np.moveaxis(out, -1, channel_axis)


@pytest.mark.parametrize("ours,theirs,mode", PAIRS)
@pytest.mark.parametrize("data_format,shape", [
    ("channels_last", (2, 8, 8, 3)),
    ("channels_first", (2, 3, 8, 8)),
    ("channels_last", (8, 8, 3)),  # one image
    ("channels_first", (3, 8, 8)),
    (None, (2, 8, 8, 3)),  # Keras' setting: channels_last
])
def test_equals_keras_on_numpy(ours, theirs, mode, data_format, shape):
    x = pixels(shape)
    original = x.copy()
    got = ours(x, data_format=data_format)
    want = theirs(x.copy(), data_format=data_format)  # Keras writes over its input
    assert isinstance(got, np.ndarray) and got.dtype == want.dtype == np.float32
    assert got.shape == shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(x, original)  # ours leaves the caller's array alone
    channel_axis = -1 if data_format != "channels_first" else -3
    np.testing.assert_allclose(got, by_hand(original, mode, channel_axis), rtol=0, atol=1e-4)


@pytest.mark.parametrize("ours,theirs,mode", PAIRS)
@pytest.mark.parametrize("data_format,shape", [
    ("channels_last", (2, 8, 8, 3)),
    ("channels_first", (2, 3, 8, 8)),
])
def test_equals_keras_on_tensors(ours, theirs, mode, data_format, shape):
    x = pixels(shape, seed=1)
    got = ours(keras.ops.convert_to_tensor(x), data_format=data_format)
    want = theirs(keras.ops.convert_to_tensor(x), data_format=data_format)
    assert keras.ops.is_tensor(got)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got),
                               keras.ops.convert_to_numpy(want), rtol=0, atol=1e-6)


@pytest.mark.parametrize("ours,theirs,mode", PAIRS)
def test_uint8_arrays_become_floatx(ours, theirs, mode):
    x = pixels((2, 8, 8, 3), seed=2).astype("uint8")
    got = ours(x)
    assert got.dtype == keras.config.floatx()
    np.testing.assert_allclose(got, theirs(x.copy()), rtol=0, atol=1e-6)


@pytest.mark.parametrize("fn", [vgg.preprocess_input, resnet.preprocess_input,
                                resnet.preprocess_input_v2, densenet.preprocess_input,
                                mobilenet.preprocess_input])
def test_unknown_data_format_is_a_value_error(fn):
    with pytest.raises(ValueError, match="Received: data_format=channels_middle"):
        fn(pixels((1, 8, 8, 3)), data_format="channels_middle")


def test_efficientnet_is_a_pass_through_like_keras():
    x = pixels((2, 8, 8, 3))
    assert efficientnet.preprocess_input(x) is x
    assert efficientnet.preprocess_input(x, data_format="channels_first") is x
    np.testing.assert_array_equal(efficientnet.preprocess_input(x),
                                  apps.efficientnet.preprocess_input(x.copy()))
    t = keras.ops.convert_to_tensor(x)
    assert efficientnet.preprocess_input(t) is t


def test_efficientnet_normalises_in_the_graph():
    """Why the pass-through is right: B0-B7 start with Keras' own preprocessing layers, and
    a fresh net (weights=None) divides 0..255 pixels by 255 and leaves them in [0, 1]."""
    model = built("efficientnet_b0")
    names = [layer.name for layer in model.layers[:4]]
    assert names[1:3] == ["rescaling", "normalization"]
    head = keras.Model(model.input, model.get_layer("normalization").output)
    x = pixels((1, 224, 224, 3))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(head(x)), x / 255.0, atol=1e-6)


# --- Docstrings ---------------------------------------------------------------------------------
# Every builder that takes weights="imagenet" (from keras.applications) -> the function its
# docstring must tell the user to call first.
IMAGENET_BUILDERS = {
    "vgg16": "cnn_keras.models.vgg.preprocess_input",
    "vgg19": "cnn_keras.models.vgg.preprocess_input",
    "vgg": "cnn_keras.models.vgg.preprocess_input",
    "resnet50": "cnn_keras.models.resnet.preprocess_input",
    "resnet101": "cnn_keras.models.resnet.preprocess_input",
    "resnet152": "cnn_keras.models.resnet.preprocess_input",
    "resnet50v2": "cnn_keras.models.resnet.preprocess_input_v2",
    "resnet101v2": "cnn_keras.models.resnet.preprocess_input_v2",
    "resnet152v2": "cnn_keras.models.resnet.preprocess_input_v2",
    "resnet": "cnn_keras.models.resnet.preprocess_input",
    "resnet_imagenet": "cnn_keras.models.resnet.preprocess_input",
    "densenet121": "cnn_keras.models.densenet.preprocess_input",
    "densenet169": "cnn_keras.models.densenet.preprocess_input",
    "densenet201": "cnn_keras.models.densenet.preprocess_input",
    "densenet": "cnn_keras.models.densenet.preprocess_input",
    "densenet_imagenet": "cnn_keras.models.densenet.preprocess_input",
    "mobilenet": "cnn_keras.models.mobilenet.preprocess_input",
    **{f"efficientnet_b{i}": "cnn_keras.models.efficientnet.preprocess_input"
       for i in range(8)},
    "efficientnet": "cnn_keras.models.efficientnet.preprocess_input",
    "efficientnet_imagenet": "cnn_keras.models.efficientnet.preprocess_input",
}


def test_the_table_covers_every_keras_applications_model():
    with_weights = {*resnet._KERAS_APPLICATIONS, *densenet._KERAS_APPLICATIONS, "mobilenet",
                    *(vgg._NAME_OF_CONFIG[c] for c in vgg._KERAS_APPLICATIONS),
                    *(f"efficientnet_{v}" for v in efficientnet.COEFFICIENTS)}
    assert with_weights <= set(IMAGENET_BUILDERS)


@pytest.mark.parametrize("name,path", sorted(IMAGENET_BUILDERS.items()))
def test_imagenet_builders_name_their_preprocess_input(name, path):
    doc = " ".join(getattr(cnn_keras, name).__doc__.split())
    assert f"`{path}`" in doc
    assert 'weights="imagenet"' in doc
    module, attr = path.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), attr))
    if name.startswith("efficientnet"):
        assert "pass-through" in doc and "normalises" in doc


CIFAR_BUILDERS = {
    *(f"{kind}{d}" for kind in ("resnet", "plain") for d in resnet.CIFAR_DEPTHS),
    "densenet_bc", "densenet40", "alexnet_fig1",
    *(n for n in cnn_keras.list_models() if n.endswith("_cifar")),
} - {"plain1202"}


@pytest.mark.parametrize("name", cnn_keras.list_models())
def test_every_builder_says_what_input_it_expects(name):
    doc = cnn_keras.get_builder(name).__doc__
    assert "\n    Input: " in doc
    doc = " ".join(doc.split())
    if name not in IMAGENET_BUILDERS:
        assert "no `preprocess_input`" in doc
    if name in CIFAR_BUILDERS:
        assert "[0, 1], minus the per-pixel mean" in doc


def test_the_documented_path_works_after_import_cnn_keras():
    assert cnn_keras.models.vgg.preprocess_input is vgg.preprocess_input
    assert cnn_keras.models.efficientnet.preprocess_input is efficientnet.preprocess_input
