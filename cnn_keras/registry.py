"""Name -> builder registry: `build("resnet20")`, `list_models()`, `model_info("resnet20")`.

Builders register themselves with `@register_model` (optionally with metadata:
`@register_model(depth=20, residual=True)`) when their module in `cnn_keras.models` is imported.
This module does not import Keras: the first call of `list_models`, `get_builder`, `build` or
`model_info` imports `cnn_keras.models`, which imports every model module and so fills the
registry.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable

_REGISTRY: dict[str, Callable] = {}
_INFO: dict[str, dict] = {}


def register_model(fn: Callable | None = None, /, **info):
    """Decorator: register a builder under its function name, with metadata `info`.

    Use it bare (``@register_model``) or with keywords (``@register_model(depth=20,
    residual=True)``); `model_info(name)` returns the keywords plus ``"family"``, the name of
    the builder's module (``"resnet"`` for `cnn_keras.models.resnet`) unless given.
    """

    def register(fn: Callable) -> Callable:
        name = fn.__name__
        if name in _REGISTRY:
            raise ValueError(f"Model {name!r} is registered twice.")
        _REGISTRY[name] = fn
        _INFO[name] = {"family": fn.__module__.rpartition(".")[2], **info}
        return fn

    return register if fn is None else register(fn)


def _models() -> dict[str, Callable]:
    """The filled registry (imports the model modules, and so Keras, on first use)."""
    import cnn_keras.models  # noqa: F401  (importing the model modules registers them)

    return _REGISTRY


def _check_name(name) -> None:
    """ValueError with close matches unless `name` is a registered model."""
    models = _models()
    if isinstance(name, str) and name not in models and name in _family_builders():
        raise ValueError(
            f"{name!r} is a family builder, not a registered model: call cnn_keras.{name}(...) "
            f"with its architecture options (help(cnn_keras.{name})); build() takes the "
            f"{len(models)} names of cnn_keras.list_models(). Received: name={name!r}")
    if not isinstance(name, str) or name not in models:
        close = difflib.get_close_matches(str(name).lower(), list(models), n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown model name.{hint} Call cnn_keras.list_models() for all "
            f"{len(models)} names. Received: name={name!r}"
        )


def _family_builders() -> set[str]:
    """The exported builders that take architecture options instead of a registered name."""
    from cnn_keras import _HELPERS

    return {n for n, module in _HELPERS.items() if module.startswith("cnn_keras.models.")
            and (n in ("resnet", "vgg", "densenet", "inception_v1")
                 or n.endswith(("_cifar", "_imagenet")))}


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted names of all registered models; `pattern` keeps names that contain it."""
    if pattern is not None and not isinstance(pattern, str):
        raise ValueError(f"`pattern` must be a string or None. Received: pattern={pattern!r}")
    names = sorted(_models(), key=_natural_key)
    if pattern:
        names = [n for n in names if pattern.lower() in n]
    return names


def get_builder(name: str) -> Callable:
    """The builder function registered under `name` (ValueError with close matches otherwise)."""
    _check_name(name)
    return _REGISTRY[name]


def model_info(name: str) -> dict:
    """The metadata registered with `name`, e.g. ``{"family": "resnet", "depth": 20,
    "residual": True}`` for ``"resnet20"`` (a copy).

    Keys: ``"family"`` (the model's module, named after its paper's network) for every model;
    ``"depth"`` (the paper's depth: weight layers, as in the name) where the variant fixes it;
    ``"residual"`` for the CIFAR-10 ResNets (True) and their plain twins (False).
    Unknown names raise the ValueError of `get_builder`.
    """
    _check_name(name)
    return dict(_INFO[name])


def build(model_name: str, /, **kwargs):
    """Build the registered model `model_name` with the builder's keyword arguments.

    Unknown keywords are a `TypeError` naming them and listing the accepted ones.
    """
    check_kwargs(model_name, kwargs)
    return get_builder(model_name)(**kwargs)


def check_kwargs(model_name: str, kwargs) -> None:
    """`TypeError` naming the keywords that `model_name`'s builder does not take, with the
    accepted ones (before any work: `train` checks its `model_kwargs` here)."""
    builder = get_builder(model_name)
    accepted = [
        p.name
        for p in inspect.signature(builder).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(
            f"{model_name}() got unexpected keyword argument(s) {unknown}. "
            f"Accepted: {', '.join(accepted)}."
        )


def _natural_key(name: str):
    """Sort key that orders the numbers in names by value: resnet20 before resnet110."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]
