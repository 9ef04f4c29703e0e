"""Conventions every registered builder follows (cheap: nothing here builds a big model)."""

import ast
import inspect
import os
import pkgutil
import subprocess
import sys

import keras
import numpy as np
import pytest

import cnn_keras
from cnn_keras.registry import model_info

from built import quickly

SIGNATURE = ["include_top", "weights", "input_tensor", "input_shape", "pooling", "classes",
             "classifier_activation", "name"]


@pytest.mark.parametrize("name", cnn_keras.list_models())
def test_shared_signature_and_docstring(name):
    builder = cnn_keras.get_builder(name)
    params = list(inspect.signature(builder).parameters.values())
    assert [p.name for p in params[:8]] == SIGNATURE
    assert all(p.kind is p.KEYWORD_ONLY for p in params[8:])
    doc = builder.__doc__ or ""
    assert "Reference:" in doc and "include_top" in doc and "classifier_activation" in doc
    assert getattr(cnn_keras, name) is builder


@pytest.mark.parametrize("name", cnn_keras.list_models())
@pytest.mark.parametrize("kwargs,arg", [
    ({"pooling": "bogus", "include_top": False}, "pooling"),
    ({"classes": 0}, "classes"),
    ({"weights": "nope.txt"}, "weights"),
    ({"input_shape": (8, 8)}, "input_shape"),
])
def test_invalid_arguments_fail_before_building(name, kwargs, arg):
    with pytest.raises(ValueError, match=f"Received: {arg}="):
        cnn_keras.build(name, **kwargs)


def test_family_builders_have_docstrings():
    for fn in (cnn_keras.resnet, cnn_keras.resnet_cifar, cnn_keras.resnet_imagenet,
               cnn_keras.densenet, cnn_keras.densenet_cifar, cnn_keras.densenet_imagenet,
               cnn_keras.efficientnet_imagenet, cnn_keras.mobilenet, cnn_keras.efficientnet):
        assert fn.__doc__ and "Args:" in fn.__doc__ and "Reference:" in fn.__doc__


@pytest.mark.parametrize("name", ["resnet20", "densenet40", "efficientnet_cifar"])
def test_quick_test_builds_give_the_same_model(name):
    """tests/built.py builds inside keras.StatelessScope for speed: the same seed must give the
    same layers and the same initial weights as a plain build."""
    keras.utils.set_random_seed(0)
    plain = cnn_keras.build(name)
    keras.utils.set_random_seed(0)
    quick = quickly(cnn_keras.build, name)
    assert [la.name for la in quick.layers] == [la.name for la in plain.layers]
    a, b = plain.get_weights(), quick.get_weights()
    assert len(a) == len(b) > 0
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_import_is_light_and_leaves_the_environment_alone():
    """`import cnn_keras` imports neither Keras nor TensorFlow and sets no variable."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    code = ("import os, sys, cnn_keras; assert 'TF_ENABLE_ONEDNN_OPTS' not in os.environ; "
            "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules; "
            "assert 'resnet20' in dir(cnn_keras); assert 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)


def test_variants_are_functions_of_their_modules():
    from cnn_keras import resnet20
    from cnn_keras.models import resnet as resnet_module

    assert cnn_keras.resnet20 is resnet20 is resnet_module.resnet20
    assert resnet20.__module__ == "cnn_keras.models.resnet" and resnet20.__name__ == "resnet20"
    assert cnn_keras.densenet_cifar is cnn_keras.models.densenet.densenet_cifar
    assert cnn_keras.transfer_weights is cnn_keras.transfer.transfer_weights
    with pytest.raises(AttributeError):
        cnn_keras.resnet21  # noqa: B018


def test_exports_dir_and_type_checking_imports_agree():
    """__all__ = the registry functions + the family helpers + every registered model; dir()
    shows them all, and the `if TYPE_CHECKING:` block imports each of them."""
    registry = {"build", "get_builder", "list_models", "model_info"}
    exported = set(cnn_keras.__all__)
    assert len(exported) == len(cnn_keras.__all__)
    assert set(cnn_keras.list_models()) | registry | set(cnn_keras._HELPERS) == exported
    assert exported <= set(dir(cnn_keras))
    tree = ast.parse(inspect.getsource(cnn_keras))
    checked = next(node for node in tree.body if isinstance(node, ast.If)
                   and getattr(node.test, "id", None) == "TYPE_CHECKING")
    imported = {alias.name for node in checked.body for alias in node.names}
    assert imported | registry == exported
    for name in exported - registry:
        assert getattr(cnn_keras, name).__name__ == name


def test_models_package_imports_every_model_module():
    import cnn_keras.models

    for module in pkgutil.iter_modules(cnn_keras.models.__path__):
        if not module.name.startswith("_"):
            assert f"cnn_keras.models.{module.name}" in sys.modules


def test_model_info():
    assert model_info("resnet20") == {"family": "resnet", "depth": 20, "residual": True}
    assert model_info("plain56") == {"family": "resnet", "depth": 56, "residual": False}
    assert model_info("resnet1202")["depth"] == 1202
    assert model_info("resnet50") == {"family": "resnet", "depth": 50}
    assert model_info("resnet152v2")["depth"] == 152
    assert model_info("densenet121") == {"family": "densenet", "depth": 121}
    assert model_info("densenet40")["depth"] == 40
    assert model_info("vgg16_c") == {"family": "vgg", "depth": 16}
    assert model_info("vgg11_lrn")["depth"] == 11
    assert model_info("googlenet") == {"family": "googlenet"}
    assert model_info("efficientnet_b3") == {"family": "efficientnet"}
    # where a name has digits the depth says what they are (the CIFAR nets' n is not in them)
    for name in cnn_keras.list_models():
        info = model_info(name)
        assert info["family"] == cnn_keras.get_builder(name).__module__.rsplit(".", 1)[1]
        if "depth" in info:
            assert str(info["depth"]) in name
        if info["family"] == "resnet" and not name.endswith("v2") and info["depth"] in (
                20, 32, 44, 56, 110, 1202):
            assert info["residual"] is name.startswith("resnet")
    info = model_info("resnet20")
    info["depth"] = 0  # a copy
    assert model_info("resnet20")["depth"] == 20
    with pytest.raises(ValueError, match=r"Did you mean: resnet56.*Received: name='resnet65'"):
        model_info("resnet65")
    with pytest.raises(ValueError, match="Received: name=3"):
        model_info(3)


def test_register_model_with_and_without_metadata(monkeypatch):
    from cnn_keras import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._models()))
    monkeypatch.setattr(registry, "_INFO", dict(registry._INFO))

    @registry.register_model
    def bare_test_net():
        """A test builder."""

    @registry.register_model(depth=7, residual=False)
    def deep_test_net():
        """A test builder."""

    assert bare_test_net.__name__ == "bare_test_net"  # the function itself is returned
    assert registry.get_builder("bare_test_net") is bare_test_net
    assert registry.get_builder("deep_test_net") is deep_test_net
    assert registry.model_info("bare_test_net") == {"family": "test_registry"}
    assert registry.model_info("deep_test_net") == {"family": "test_registry", "depth": 7,
                                                    "residual": False}
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_model(bare_test_net)


@pytest.mark.parametrize("name,fixed", [("resnet20", "depth"), ("plain20", "residual"),
                                        ("resnet50", "version"), ("vgg16", "config"),
                                        ("densenet121", "depth"), ("googlenet", "stem"),
                                        ("efficientnet_b0", "variant"),
                                        ("densenet_bc", "bottleneck")])
def test_a_variant_does_not_take_what_it_fixes(name, fixed):
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{fixed}'"):
        cnn_keras.get_builder(name)(**{fixed: None})
    with pytest.raises(TypeError, match=fixed):
        cnn_keras.build(name, **{fixed: None})


def test_deep_graph_recursion_limit():
    """Keras creates and loads a functional model by a recursive walk of its graph: a chain
    longer than the recursion limit needs `deep_graph_recursion_limit`, which restores it."""
    from cnn_keras.models._common import deep_graph_recursion_limit

    limit = sys.getrecursionlimit()
    with deep_graph_recursion_limit(limit + 5000):
        assert sys.getrecursionlimit() == limit + 5000
    assert sys.getrecursionlimit() == limit
    with pytest.raises(KeyError), deep_graph_recursion_limit(limit + 10):
        raise KeyError
    assert sys.getrecursionlimit() == limit
    with deep_graph_recursion_limit(10):  # never lowers it
        assert sys.getrecursionlimit() == limit

    inp = keras.Input((2,))
    x = inp
    for _ in range(limit):
        x = keras.layers.Identity()(x)
    with pytest.raises(RecursionError):
        keras.Model(inp, x)
    with deep_graph_recursion_limit():
        keras.Model(inp, x)
    assert sys.getrecursionlimit() == limit


@pytest.mark.parametrize("name", ["resnet_cifar", "densenet", "inception_v1"])
def test_a_family_builder_given_to_build_says_how_to_call_it(name):
    with pytest.raises(ValueError, match=rf"'{name}' is a family builder.*call "
                                         rf"cnn_keras\.{name}\(\.\.\.\).*Received: name="):
        cnn_keras.build(name)
