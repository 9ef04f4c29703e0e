"""Copy weights between two models of the same architecture (e.g. keras.applications <-> ours)."""

from __future__ import annotations

from cnn_keras.analysis import iter_layers


def _weighted_layers(model):
    """The layers of `model` (nested models' layers included) that have weights."""
    return [layer for layer in iter_layers(model) if layer.weights]


def transfer_weights(source_model, target_model, *, by="auto"):
    """Copy every layer's weights from `source_model` into `target_model`, layer by layer.

    Layers are paired by name when both models have the same set of weighted layer names
    (`by="name"`), otherwise in order (`by="order"`). Each pair must be the same layer type
    with weights of the same shapes; any mismatch raises a `ValueError` that names the layers.
    Returns the number of layers copied.
    """
    if by not in ("auto", "name", "order"):
        raise ValueError(f"`by` must be 'auto', 'name' or 'order'. Received: by={by!r}")
    src, dst = _weighted_layers(source_model), _weighted_layers(target_model)
    if len(src) != len(dst):
        raise ValueError(
            f"The models have different numbers of layers with weights: {source_model.name} has "
            f"{len(src)}, {target_model.name} has {len(dst)}; they are not the same architecture."
        )
    src_names = [layer.name for layer in src]
    dst_names = [layer.name for layer in dst]
    if by == "auto":
        by = "name" if sorted(src_names) == sorted(dst_names) else "order"
    if by == "name":
        missing = sorted(set(dst_names) - set(src_names))
        if missing:
            raise ValueError(f"Layers of {target_model.name} missing from {source_model.name}: "
                             f"{missing[:5]}")
        by_name = {layer.name: layer for layer in src}
        pairs = [(by_name[layer.name], layer) for layer in dst]
    else:
        pairs = list(zip(src, dst))
    for s, d in pairs:
        if type(s).__name__ != type(d).__name__:
            raise ValueError(f"Layer type mismatch: {s.name} ({type(s).__name__}) -> "
                             f"{d.name} ({type(d).__name__}).")
        s_shapes = [tuple(w.shape) for w in s.weights]
        d_shapes = [tuple(w.shape) for w in d.weights]
        if s_shapes != d_shapes:
            raise ValueError(f"Weight shape mismatch: {s.name} {s_shapes} -> {d.name} {d_shapes}.")
    for s, d in pairs:
        d.set_weights(s.get_weights())
        if hasattr(d, "finalize_state"):  # e.g. Normalization: recompute mean/variance tensors
            d.finalize_state()
    return len(pairs)
