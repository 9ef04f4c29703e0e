"""ResNet builders: exact parameter counts, shapes, keras.applications equivalence, validation."""

import sys

import keras
import numpy as np
import pytest

import cnn_keras
from cnn_keras.analysis import count_macs, count_params

from built import built, infer, quickly

# (model, exact trainable parameters, output shape, source of the number)
CIFAR_COUNTS = [
    ("resnet20", 269_722), ("resnet32", 464_154), ("resnet44", 658_586),
    ("resnet56", 853_018), ("resnet110", 1_727_962),
    ("plain20", 269_722), ("plain32", 464_154), ("plain44", 658_586),
    ("plain56", 853_018), ("plain110", 1_727_962),
]
# keras.applications [K] and torchvision [T] (REFERENCE.md): trainable, total
IMAGENET_COUNTS = [
    ("resnet18", 11_689_512, 11_699_112),  # torchvision resnet18 [T]
    ("resnet34", 21_797_672, 21_814_696),  # torchvision resnet34 [T]
    ("resnet50", 25_583_592, 25_636_712),
    ("resnet101", 44_601_832, 44_707_176),
    ("resnet152", 60_268_520, 60_419_944),
    ("resnet50v2", 25_568_360, 25_613_800),
    ("resnet101v2", 44_577_896, 44_675_560),
    ("resnet152v2", 60_236_904, 60_380_648),
]
KERAS_APPS = {
    "resnet50": "ResNet50", "resnet101": "ResNet101", "resnet152": "ResNet152",
    "resnet50v2": "ResNet50V2", "resnet101v2": "ResNet101V2", "resnet152v2": "ResNet152V2",
}


@pytest.mark.parametrize("name,trainable", CIFAR_COUNTS)
def test_cifar_counts_and_shape(name, trainable):
    model = quickly(cnn_keras.build, name)
    assert count_params(model)["trainable"] == trainable
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 10)
    assert model.name == name


@pytest.mark.slow
def test_resnet1202_count():
    # Keras needs more than the default 1000 frames to create this graph (600 blocks); the
    # builder raises the recursion limit for that step only and restores it.
    limit = sys.getrecursionlimit()
    assert count_params(quickly(cnn_keras.build, "resnet1202"))["trainable"] == 19_421_274
    assert sys.getrecursionlimit() == limit


def test_plain_and_residual_have_identical_weights():
    plain, res = cnn_keras.plain56(), cnn_keras.resnet56()
    assert [w.shape for w in plain.weights] == [w.shape for w in res.weights]
    assert any(isinstance(layer, keras.layers.Add) for layer in res.layers)
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)


def test_option_a_shortcut_pads_and_subsamples():
    model = cnn_keras.resnet20()
    layer = model.get_layer("conv3_block1_0_shortcut")
    x = np.arange(2 * 32 * 32 * 16, dtype="float32").reshape(2, 32, 32, 16)
    y = keras.ops.convert_to_numpy(layer(x))
    assert y.shape == (2, 16, 16, 32)
    np.testing.assert_array_equal(y[..., :16], x[:, ::2, ::2, :])
    assert not y[..., 16:].any()


@pytest.mark.parametrize("shortcut,extra", [("A", 0), ("B", 16 * 32 + 64 + 32 * 64 + 128),
                                            ("C", None)])
def test_shortcut_options(shortcut, extra):
    model = cnn_keras.resnet_cifar(depth=20, shortcut=shortcut)
    n = count_params(model)["trainable"]
    if extra is None:  # projection on every block: more than B
        assert n > 269_722 + 16 * 32 + 64 + 32 * 64 + 128
    else:  # B adds two 1x1 projections + BN (16->32, 32->64)
        assert n == 269_722 + extra


@pytest.mark.parametrize("name,trainable,total", IMAGENET_COUNTS)
def test_imagenet_counts(name, trainable, total):
    model = built(name)
    p = count_params(model)
    assert (p["trainable"], p["total"]) == (trainable, total)
    assert model.output_shape == (None, 1000)


@pytest.mark.parametrize("name,gmacs", [("resnet18", 1.814), ("resnet34", 3.664),
                                        ("resnet50", 3.858), ("resnet101", 7.570),
                                        ("resnet152", 11.282), ("resnet50v2", 3.482)])
def test_imagenet_macs(name, gmacs):
    # torchvision's _ops for 18/34; keras.applications [K] for the others (REFERENCE.md)
    assert count_macs(built(name)) / 1e9 == pytest.approx(gmacs, abs=0.0015)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KERAS_APPS))
def test_equals_keras_applications(name):
    ref = quickly(getattr(keras.applications, KERAS_APPS[name]), weights=None)
    ours = built(name)
    assert count_params(ours) == count_params(ref)
    # Same layer names, except the ones keras leaves unnamed (auto-numbered input/pooling).
    auto = ("input_layer", "max_pooling2d")
    pairs = [(a.name, b.name) for a, b in zip(ours.layers, ref.layers)]
    assert len(ours.layers) == len(ref.layers)
    assert all(a == b or b.startswith(auto) for a, b in pairs)
    weighted = [(a.name, b.name) for a, b in zip(ours.layers, ref.layers) if b.weights]
    assert all(a == b for a, b in weighted)


@pytest.mark.slow
# v1 and v2 blocks; 101/152 repeat the same blocks (their names are checked above)
@pytest.mark.parametrize("name", ["resnet50", "resnet50v2"])
def test_transfer_weights_gives_same_outputs(name):
    kw = {"include_top": True, "weights": None}
    ref = getattr(keras.applications, KERAS_APPS[name])(**kw)
    ours = cnn_keras.build(name)
    assert cnn_keras.transfer_weights(ref, ours) == len([la for la in ref.layers if la.weights])
    # Random BN statistics so the check is not trivially true for BN layers.
    rng = np.random.default_rng(0)
    for layer in ref.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, m, v = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.normal(0, 0.1, b.shape),
                               rng.normal(0, 0.1, m.shape), rng.uniform(0.5, 1.5, v.shape)])
    cnn_keras.transfer_weights(ref, ours)
    x = rng.uniform(-120, 120, (2, 224, 224, 3)).astype("float32")
    a, b = infer(ours, x), infer(ref, x)
    assert np.max(np.abs(a - b) / (np.abs(b) + 1e-6)) < 1e-4
    # and back: ours -> keras
    ref2 = getattr(keras.applications, KERAS_APPS[name])(**kw)
    cnn_keras.transfer_weights(ours, ref2)
    np.testing.assert_allclose(infer(ref2, x), b, rtol=1e-4, atol=1e-7)


def test_transfer_weights_mismatch_is_clear():
    with pytest.raises(ValueError, match="different numbers of layers"):
        cnn_keras.transfer_weights(cnn_keras.resnet20(), cnn_keras.resnet32())
    with pytest.raises(ValueError, match="shape mismatch"):
        cnn_keras.transfer_weights(cnn_keras.resnet20(), cnn_keras.resnet20(classes=100))


@pytest.mark.parametrize("name", ["resnet20", "plain20", "resnet18", "resnet50v2"])
def test_headless_pooling_and_custom_shape(name):
    size = 40 if "20" in name else 64
    for pooling, rank in [(None, 4), ("avg", 2), ("max", 2)]:
        m = cnn_keras.build(name, include_top=False, pooling=pooling,
                            input_shape=(size, size, 3))
        assert len(m.output_shape) == rank
        assert all(layer.name not in ("predictions",) for layer in m.layers)
    m = cnn_keras.build(name, include_top=False, input_shape=(None, None, 3), pooling="avg")
    assert m.input_shape == (None, None, None, 3)


def test_input_tensor_and_logits():
    inp = keras.Input((48, 48, 3))
    m = cnn_keras.resnet20(input_tensor=inp, classes=7, classifier_activation=None)
    assert m.output_shape == (None, 7)
    assert m.get_layer("predictions").activation is keras.activations.linear
    x = np.random.default_rng(0).normal(size=(2, 48, 48, 3)).astype("float32")
    out = infer(m, x)
    assert not np.allclose(out.sum(axis=1), 1.0)  # logits, not probabilities
    # an input tensor that is not the model input: the backbone is built on top of it
    base = keras.Input((64, 64, 3))
    resized = keras.layers.Resizing(32, 32)(base)
    m2 = cnn_keras.resnet20(input_tensor=resized)
    assert m2.input_shape == (None, 64, 64, 3)


def test_serialization_round_trip(tmp_path):
    model = cnn_keras.resnet20()
    x = np.random.default_rng(1).normal(size=(2, 32, 32, 3)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(infer(loaded, x), infer(model, x),
                               rtol=1e-6)
    wpath = tmp_path / "m.weights.h5"
    model.save_weights(wpath)
    again = cnn_keras.resnet20(weights=str(wpath))
    np.testing.assert_allclose(infer(again, x), infer(model, x),
                               rtol=1e-6)


def test_builds_with_jax_like_pure_keras():
    # No TensorFlow ops inside the model: every layer is a keras layer or ours.
    model = cnn_keras.resnet20()
    assert {type(layer).__module__.split(".")[0] for layer in model.layers} <= {"keras",
                                                                                "cnn_keras"}


# --- validation ----------------------------------------------------------------------------
BAD_ARGS = [
    ({"input_shape": (16, 16, 3), "include_top": False}, "input_shape", "resnet50"),
    ({"input_shape": (4, 4, 3)}, "input_shape", "resnet20"),
    ({"input_shape": (32, 32)}, "input_shape", "resnet20"),
    ({"input_shape": "32x32"}, "input_shape", "resnet20"),
    ({"input_shape": (None, 32, 3)}, "input_shape", "resnet20"),
    ({"classes": 0}, "classes", "resnet20"),
    ({"classes": 2.5}, "classes", "resnet20"),
    ({"pooling": "bogus", "include_top": False}, "pooling", "resnet20"),
    ({"pooling": "avg"}, "pooling", "resnet20"),
    ({"classifier_activation": "nope"}, "classifier_activation", "resnet20"),
    ({"weights": "missing.weights.h5"}, "weights", "resnet20"),
    ({"weights": "model.h5"}, "weights", "resnet20"),
    ({"weights": "imagenet"}, "weights", "resnet20"),
    ({"weights": "imagenet"}, "weights", "resnet18"),
    ({"weights": "imagenet", "classes": 10}, "classes", "resnet50"),
    ({"weights": "imagenet", "input_shape": (128, 128, 3)}, "input_shape", "resnet50"),
    ({"weights": "imagenet", "classifier_activation": "sigmoid"}, "classifier_activation",
     "resnet50"),
    ({"input_tensor": np.zeros((1, 32, 32, 3))}, "input_tensor", "resnet20"),
    ({"include_top": "yes"}, "include_top", "resnet20"),
    ({"name": 5}, "name", "resnet20"),
]


@pytest.mark.parametrize("kwargs,arg,name", BAD_ARGS)
def test_bad_arguments_are_clear_value_errors(kwargs, arg, name):
    with pytest.raises(ValueError, match=rf"Received: {arg}=") as info:
        cnn_keras.build(name, **kwargs)
    assert "\n" not in str(info.value)  # one line, an array argument included


def test_numpy_integers_count_as_integers():
    """`classes` and `input_shape` from numpy (a dataset's shape, `np.unique(...).size`)."""
    with keras.StatelessScope():
        net = cnn_keras.resnet20(classes=np.int64(5), input_shape=(np.int64(40), 40, 3))
    assert net.output_shape == (None, 5) and net.input_shape == (None, 40, 40, 3)


@pytest.mark.parametrize("kwargs", [{"residual": False}, {"shortcut": "A"}])
def test_imagenet_weights_name_the_option_that_rules_them_out(kwargs, monkeypatch):
    monkeypatch.setitem(cnn_keras.models.resnet._KERAS_APPLICATIONS, "resnet50",
                        lambda **kw: pytest.fail("must not download"))
    [(arg, value)] = kwargs.items()
    with pytest.raises(ValueError, match=rf"residual=True, shortcut='B'.*Received: .*{arg}="
                                         rf"{value!r}"):
        cnn_keras.resnet50(weights="imagenet", **kwargs)


@pytest.mark.parametrize("activation", [None, "softmax", "linear", keras.activations.softmax])
def test_imagenet_weights_take_the_activations_keras_applications_takes(activation,
                                                                        monkeypatch):
    def offline(**kwargs):  # reached only once every argument passed the checks
        raise OSError("no network")

    monkeypatch.setitem(cnn_keras.models.resnet._KERAS_APPLICATIONS, "resnet50", offline)
    with pytest.raises(RuntimeError, match="offline"):
        cnn_keras.resnet50(weights="imagenet", classifier_activation=activation)


@pytest.mark.parametrize("kwargs,arg", [
    ({"depth": 21}, "depth"), ({"depth": 2}, "depth"), ({"shortcut": "D"}, "shortcut"),
    ({"residual": False, "shortcut": "B"}, "shortcut"), ({"residual": "no"}, "residual"),
])
def test_bad_architecture_options(kwargs, arg):
    with pytest.raises(ValueError, match=rf"Received: {arg}="):
        cnn_keras.resnet_cifar(**kwargs)


def test_depth_error_lists_valid_depths():
    with pytest.raises(ValueError, match="20, 32, 44, 56, 110, 1202"):
        cnn_keras.resnet_cifar(depth=30)
    with pytest.raises(ValueError, match=r"\[18, 34, 50, 101, 152\]"):
        cnn_keras.resnet_imagenet(depth=20)


def test_unknown_keyword_and_name():
    with pytest.raises(TypeError, match="widht"):
        cnn_keras.build("resnet20", widht=2)
    with pytest.raises(TypeError):
        cnn_keras.resnet20(depth=56)
    with pytest.raises(ValueError, match="resnet56"):
        cnn_keras.build("resnet65")


def test_registry_lists_every_variant():
    names = cnn_keras.list_models()
    for expected in ["resnet20", "resnet1202", "plain110", "resnet18", "resnet152v2"]:
        assert expected in names
    assert cnn_keras.list_models("plain") == ["plain20", "plain32", "plain44", "plain56",
                                              "plain110"]
    assert cnn_keras.build("resnet20").count_params() == cnn_keras.resnet20().count_params()


def test_builders_on_the_jax_backend():
    """The builders are pure Keras 3: build and run them on JAX (skipped where JAX is missing)."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("jax") is None:
        pytest.skip("JAX is not installed (pip install jax) - the JAX backend is not checked")
    code = (
        "import numpy as np, keras, cnn_keras\n"
        "assert keras.backend.backend() == 'jax'\n"
        "for name, n in [('plain56', 853018), ('resnet20', 269722)]:\n"
        "    m = cnn_keras.build(name)\n"
        "    assert sum(int(np.prod(w.shape)) for w in m.trainable_weights) == n\n"
        "m.compile('sgd', 'sparse_categorical_crossentropy')  # ResNet-20 (its shortcuts) trains\n"
        "m.fit(np.zeros((4, 32, 32, 3)), np.zeros(4), epochs=1, verbose=0)\n"
        "m = cnn_keras.resnet50v2(include_top=False, input_shape=(64, 64, 3), pooling='avg')\n"
        "assert m.predict(np.ones((1, 64, 64, 3)), verbose=0).shape == (1, 2048)\n"
        "print('ok')\n"
    )
    # compiling is most of the time: XLA's fast-compile settings (the same math)
    env = {**__import__("os").environ, "KERAS_BACKEND": "jax",
           "XLA_FLAGS": "--xla_backend_optimization_level=0 "
                        "--xla_llvm_disable_expensive_passes=true"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_imagenet_download_failure_is_a_clear_error(monkeypatch):
    def offline(**kwargs):
        raise OSError("URL fetch failure: no network")

    monkeypatch.setitem(cnn_keras.models.resnet._KERAS_APPLICATIONS, "resnet50", offline)
    with pytest.raises(RuntimeError, match="ImageNet weights for resnet50.*offline"):
        cnn_keras.resnet50(weights="imagenet")
