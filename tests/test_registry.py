"""Conventions every registered builder follows (cheap: nothing here builds a big model)."""

import inspect

import keras
import numpy as np
import pytest

import cnn_keras

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
