"""`built(name, **kwargs)`: `cnn_keras.build`, once per test module.

For tests that only read a model (parameter counts, MACs, layer names), so that the big ImageNet
nets are not built again for each of them; tests that set weights or train build their own.
The conftest forgets the models at the end of each module."""

import cnn_keras

_MODELS = {}


def built(name: str, **kwargs):
    key = (name, tuple(sorted(kwargs.items())))
    if key not in _MODELS:
        _MODELS[key] = cnn_keras.build(name, **kwargs)
    return _MODELS[key]


def forget() -> bool:
    """Drop the kept models; True if there were any."""
    had = bool(_MODELS)
    _MODELS.clear()
    return had
