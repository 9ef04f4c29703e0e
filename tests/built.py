"""Helpers that keep the model tests fast without testing less.

`built(name, **kwargs)`: `cnn_keras.build`, once per test module, for tests that only read a
model (parameter counts, MACs, layer names and configs), so that the big ImageNet nets are not
built again for each of them; tests that set weights or train build their own. The conftest
forgets the models at the end of each module.

`quickly(build, ...)`: any builder called inside `keras.StatelessScope()`. Keras then creates
the variables together when the scope ends instead of one by one inside each layer's build:
the same weights (same seed, same values; tested), faster to build (measured:
docs/benchmarks.md).

`infer(model, x)`: the model's outputs in inference mode, called eagerly. For the few images a
test compares this is what `predict` computes, without the cost of tracing a predict function
first (measured: docs/benchmarks.md).
"""

import keras

import cnn_keras

_MODELS = {}


def quickly(build, *args, **kwargs):
    with keras.StatelessScope():
        return build(*args, **kwargs)


def built(name: str, **kwargs):
    key = (name, repr(sorted(kwargs.items())))  # repr: some settings are lists
    if key not in _MODELS:
        _MODELS[key] = quickly(cnn_keras.build, name, **kwargs)
    return _MODELS[key]


def forget() -> bool:
    """Drop the kept models; True if there were any."""
    had = bool(_MODELS)
    _MODELS.clear()
    return had


def infer(model, x):
    """`model(x, training=False)` as numpy (a list for a model with several outputs)."""
    out = model(x, training=False)
    if isinstance(out, (list, tuple)):
        return [keras.ops.convert_to_numpy(o) for o in out]
    return keras.ops.convert_to_numpy(out)
