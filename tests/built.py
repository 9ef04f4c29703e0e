"""Helpers that keep the model tests fast without testing less.

`built(name, **kwargs)`: `cnn_keras.build`, once per test module, for tests that only read a
model (parameter counts, MACs, layer names and configs), so that the big ImageNet nets are not
built again for each of them; tests that set weights or train build their own. The conftest
forgets the models at the end of each module.

`quickly(build, ...)`: any builder called inside `keras.StatelessScope()`. Keras then creates
the variables together when the scope ends instead of one by one inside each layer's build:
the same weights (same seed, same values; tested), 1.2-2x faster to build (ResNet-1202 19.5 s
instead of 40 s on 2 Zen 3 cores).

`infer(model, x)`: the model's outputs in inference mode, called eagerly. For the few images a
test compares this is what `predict` computes, without tracing a predict function first (about
4 s for an EfficientNet-B0, against 1 s for the call).
"""

import keras

import cnn_keras

_MODELS = {}


def quickly(build, *args, **kwargs):
    with keras.StatelessScope():
        return build(*args, **kwargs)


def built(name: str, **kwargs):
    key = (name, tuple(sorted(kwargs.items())))
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
