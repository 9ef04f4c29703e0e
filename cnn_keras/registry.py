"""Name -> builder registry: `build("resnet20")`, `list_models()`.

Builders register themselves with `@register_model` when their module is imported; `cnn_keras`
imports every model module, so the registry is complete once the package is imported.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable

_REGISTRY: dict[str, Callable] = {}


def register_model(fn: Callable) -> Callable:
    """Decorator: register a builder under its function name."""
    name = fn.__name__
    if name in _REGISTRY:
        raise ValueError(f"Model {name!r} is registered twice.")
    _REGISTRY[name] = fn
    return fn


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted names of all registered models; `pattern` keeps names that contain it."""
    names = sorted(_REGISTRY, key=_natural_key)
    if pattern:
        names = [n for n in names if pattern.lower() in n]
    return names


def get_builder(name: str) -> Callable:
    """The builder function registered under `name` (ValueError with close matches otherwise)."""
    if not isinstance(name, str) or name not in _REGISTRY:
        close = difflib.get_close_matches(str(name).lower(), list(_REGISTRY), n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown model name.{hint} Call cnn_keras.list_models() for all "
            f"{len(_REGISTRY)} names. Received: name={name!r}"
        )
    return _REGISTRY[name]


def build(model_name: str, /, **kwargs):
    """Build the registered model `model_name` with the builder's keyword arguments.

    Unknown keywords are a `TypeError` naming them and listing the accepted ones.
    """
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
    return builder(**kwargs)


def _natural_key(name: str):
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]
