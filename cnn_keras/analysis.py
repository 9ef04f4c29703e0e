"""Model analysis: parameter counts and multiply-accumulates (MACs).

MACs count the multiply-adds of Conv2D, DepthwiseConv2D and Dense layers only — what papers and
torchvision call "FLOPs" (He et al. 2015, Table 1: ResNet-50 "3.8 x 10^9 FLOPs").
"""

from __future__ import annotations

import math

import keras

from cnn_keras.checks import check_bool, fail
from cnn_keras.layers import ZeroPadShortcut


def iter_layers(model):
    """Every layer of `model`, depth-first, each once: the layers of nested models (anything
    with a `.layers` list) follow the nested model itself.

    The order is that of Keras' private `Layer._flatten_layers(include_self=False)`: the
    model's own layers in order, and inside a nested model its layers from last to first.
    The one difference: the InputLayer a `keras.Sequential` creates for itself, which its
    `.layers` hides (it has no weights and no multiply-adds), is not listed.
    """
    seen = set()
    stack = list(reversed(getattr(model, "layers", [])))
    while stack:
        layer = stack.pop()
        if id(layer) in seen:  # a layer shared by two nested models
            continue
        seen.add(id(layer))
        yield layer
        stack.extend(getattr(layer, "layers", []))  # popped last first, as Keras does


def count_params(model) -> dict:
    """{'trainable', 'non_trainable', 'total'} parameter counts of a built model."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return {"trainable": int(trainable), "non_trainable": int(non_trainable),
            "total": int(trainable + non_trainable)}


def layer_macs(layer) -> int:
    """Multiply-adds of one layer for one example (0 for layers that do none)."""
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        _, h, w, _ = layer.output.shape
        kh, kw = layer.kernel_size
        return int(h * w * kh * kw * layer.kernel.shape[2] * layer.kernel.shape[3])
    if isinstance(layer, keras.layers.Conv2D):
        _, h, w, c_out = layer.output.shape
        kh, kw, c_in_per_group, _ = layer.kernel.shape
        return int(h * w * c_out * kh * kw * c_in_per_group)
    if isinstance(layer, keras.layers.Dense):
        return int(math.prod(layer.kernel.shape) * math.prod(layer.output.shape[1:-1] or (1,)))
    return 0


def layer_table(model, types=(keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                               keras.layers.Dense, keras.layers.MaxPooling2D,
                               keras.layers.AveragePooling2D)) -> list:
    """One row per layer of the given types, in order: name, type, output shape, parameters
    and multiply-adds (for a compact architecture table; `model.summary()` lists everything)."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, types):
            out = layer.output.shape if hasattr(layer, "output") else None
            rows.append({"layer": layer.name, "type": type(layer).__name__,
                         "output": "x".join(str(d) for d in out[1:]) if out else "?",
                         "params": layer.count_params(), "MACs": layer_macs(layer)})
    return rows


def count_macs(model) -> int:
    """Total multiply-adds of Conv2D / DepthwiseConv2D / Dense layers for one example.

    The model needs a fixed input size (e.g. build it with `input_shape=(224, 224, 3)`).
    """
    _check_fixed_size(model, "count_macs")
    return sum(layer_macs(layer) for layer in iter_layers(model))


def _check_fixed_size(model, what: str) -> None:
    shape = model.inputs[0].shape
    if any(d is None for d in shape[1:]):
        raise ValueError(f"{what} needs a model with a fixed input size; build it with "
                         f"input_shape=(H, W, C). Received: input shape {tuple(shape)}")


def activation_values(model) -> dict:
    """How many values one example's activations hold in `model`'s own layers (times 4 for
    bytes in float32): 'total', every layer's output, what training keeps for the backward
    pass; 'peak', the most that one layer reads and writes at once (its inputs plus its
    output), what inference needs at least when each tensor is freed after its last use.
    'peak' is exact for a chain of layers (MobileNet v1, VGG) and a lower bound where a branch
    keeps a tensor alive (a shortcut, a dense block's concatenations). Needs a fixed input
    size, as `count_macs`. The layers of a nested model count as the model's own."""
    _check_fixed_size(model, "activation_values")
    total = peak = 0
    for layer in iter_layers(model):
        # a nested model's own layers are counted, not the nested model as one layer
        if isinstance(layer, keras.layers.InputLayer) or hasattr(layer, "layers"):
            continue
        out = sum(math.prod(t.shape[1:]) for t in keras.tree.flatten(layer.output))
        read = sum(math.prod(t.shape[1:]) for t in keras.tree.flatten(layer.input))
        total, peak = total + out, max(peak, read + out)
    return {"total": int(total), "peak": int(peak)}


def gradient_norms(model, x, y, *, loss=None, loss_weights=None) -> list[tuple[str, float]]:
    """L2 norm of the loss gradient w.r.t. each conv/dense kernel, input to output order.

    Used to check the ResNet paper's claim (Sec. 4.1) that the degradation of deep plain nets is
    *not* vanishing gradients: with BN, the gradients reaching the first layers keep healthy
    norms. A model with several outputs (GoogLeNet with auxiliary heads) is scored with the
    weighted sum of its outputs' losses (`loss_weights`, default all 1; GoogLeNet's are
    1, 0.3, 0.3). Needs the TensorFlow backend.
    """
    import tensorflow as tf

    loss = loss or keras.losses.SparseCategoricalCrossentropy()
    kernels = [w for w in model.trainable_weights if w.path.endswith("kernel")]
    with tf.GradientTape() as tape:
        outputs = model(x, training=True)
        if isinstance(outputs, (list, tuple)):
            weights = loss_weights or [1.0] * len(outputs)
            value = sum(w * loss(y, out) for w, out in zip(weights, outputs))
        else:
            value = loss(y, outputs)
    grads = tape.gradient(value, kernels)
    return [(w.path.rsplit("/", 1)[0], float(tf.norm(g))) for w, g in zip(kernels, grads)]


_SPATIAL = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.MaxPooling2D,
            keras.layers.AveragePooling2D)
_GLOBAL = (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D,
           keras.layers.Flatten, keras.layers.Dense)


def _as_pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def receptive_fields(model, *, through_global: bool = False) -> list[dict]:
    """Receptive field of every layer's output, in input pixels, input to output order.

    Each row: ``{"layer", "rf": (h, w), "jump": (h, w), "global"}`` where `jump` is the distance
    in input pixels between two neighbouring outputs (the product of the strides so far), and
    `global` says the output is past a global pooling. With kernel k, dilation d and stride s:
    ``rf_out = rf_in + d·(k - 1)·jump_in`` and ``jump_out = jump_in·s``.
    Where paths merge (Add, Concatenate) the largest field counts; global pooling, Flatten and
    Dense see the whole input. Padding does not change the size of the field.

    A squeeze-and-excitation gate (global pooling -> 1x1 convs -> Multiply with the feature map,
    EfficientNet) makes every later unit depend on the whole image, but only through one scale
    factor per channel. By default such global branches are left out where they merge into a
    spatial path, so the field is that of the convolutions; `through_global=True` counts them
    (every unit after the first gate then sees the whole input).
    """
    state = {}
    for inp in model.inputs:
        state[id(inp)] = ((1, 1), (1, 1), False)  # (field, jump, through a global layer)
    rows = []
    for layer in model.layers:
        inputs = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
        known = [state[id(t)] for t in inputs if id(t) in state]
        if not known:
            continue
        if not through_global and len(known) > 1 and not all(k[2] for k in known):
            known = [k for k in known if not k[2]]  # a gate merging into the spatial path
        is_global = any(k[2] for k in known)
        rf = tuple(max(k[0][i] for k in known) for i in range(2))
        jump = tuple(max(k[1][i] for k in known) for i in range(2))
        if isinstance(layer, _SPATIAL):
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
                kernel, dilation = _as_pair(layer.kernel_size), _as_pair(layer.dilation_rate)
            else:
                kernel, dilation = _as_pair(layer.pool_size), (1, 1)
            strides = _as_pair(layer.strides)
            rf = tuple(rf[i] + dilation[i] * (kernel[i] - 1) * jump[i] for i in range(2))
            jump = tuple(jump[i] * strides[i] for i in range(2))
        elif isinstance(layer, _GLOBAL):
            shape = model.inputs[0].shape[1:3]
            rf = tuple(s if s is not None else float("inf") for s in shape)
            is_global = True
        elif isinstance(layer, ZeroPadShortcut):  # a 1x1 subsampling: only the jump changes
            jump = tuple(j * layer.stride for j in jump)
        outputs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
        for t in outputs:
            state[id(t)] = (rf, jump, is_global)
        rows.append({"layer": layer.name, "rf": rf, "jump": jump, "global": is_global})
    return rows


def receptive_field(model, layer_name: str | None = None) -> int:
    """Receptive field (in input pixels, along the height) of `layer_name`'s output, or of the
    last spatial layer of the model. E.g. two stacked 3x3 convs: 5; three: 7."""
    rows = receptive_fields(model)
    if layer_name is not None:
        for row in rows:
            if row["layer"] == layer_name:
                return row["rf"][0]
        names = [r["layer"] for r in rows]
        raise ValueError(f"`layer_name` is not a layer of {model.name} (e.g. {names[-3:]}). "
                         f"Received: layer_name={layer_name!r}")
    # not past a global pooling: at a fixed input size its "field" is the input, and Keras'
    # MobileNet reshapes the pooled vector back to a 1x1 map before its classifier
    spatial = [r for r in rows if not r["global"]
               and len(model.get_layer(r["layer"]).output.shape) == 4]
    return spatial[-1]["rf"][0]


def dense_connection_strength(model, stage: int = 2, *, classifier: bool = False):
    """DenseNet's Fig. 5 for one dense block: how strongly each layer uses each earlier output.

    Entry ``[t, s]`` is the mean absolute weight (the L1 norm divided by the number of input
    channels) that target layer t+1 (rows; the last row is the transition after the block, when
    there is one) gives to the channels of source s (columns: 0 is the block's input, s >= 1 the
    output of layer s). NaN where s >= t+1 (no connection). `classifier=True`, for the last
    block, adds the classifier's row (the figure's right-hand column): the mean absolute weight
    of ``predictions`` on each source's channels (after the final BN and global pooling). Works
    on any `cnn_keras` DenseNet (layer names ``conv{stage}_block{l}_...``, ``pool{stage}_conv``).
    """
    import numpy as np

    names = {layer.name for layer in model.layers}
    n = 0
    while f"conv{stage}_block{n + 1}_concat" in names:
        n += 1
    if n == 0:
        raise ValueError(f"`stage` must name a dense block of {model.name} (conv{{stage}}_block1"
                         f"_concat not found). Received: stage={stage!r}")
    first = model.get_layer(f"conv{stage}_block1_concat")
    k0 = first.input[0].shape[-1]
    k = first.input[1].shape[-1]
    targets = []
    for t in range(1, n + 1):  # the first conv of layer t: the 1x1 bottleneck, or the 3x3
        conv = f"conv{stage}_block{t}_1_conv"
        targets.append(model.get_layer(conv if conv in names else f"conv{stage}_block{t}_2_conv"))
    if f"pool{stage}_conv" in names:
        targets.append(model.get_layer(f"pool{stage}_conv"))
    if classifier:
        check_bool("classifier", classifier)
        targets.append(_classifier_after(model, stage, names, k0 + n * k))
    out = np.full((len(targets), n + 1), np.nan)
    for row, conv in enumerate(targets):
        w = np.abs(keras.ops.convert_to_numpy(conv.kernel))  # (kh, kw, c_in, c_out) or (c_in, c)
        per_channel = w.reshape(-1, w.shape[-2], w.shape[-1]).mean(axis=(0, 2))
        sources = min(row + 1, n + 1)
        for s in range(sources):
            lo, hi = (0, k0) if s == 0 else (k0 + k * (s - 1), k0 + k * s)
            out[row, s] = per_channel[lo:hi].mean()
    return out


def _classifier_after(model, stage: int, names: set, channels: int):
    """The `predictions` layer that reads the last block's `channels` outputs, or a ValueError
    (a block followed by a transition, or a net without its top)."""
    if f"pool{stage}_conv" in names:
        fail(f"`stage` must be the last dense block of {model.name} for classifier=True "
             f"(conv{stage} is followed by the transition pool{stage}).", stage=stage)
    top = model.get_layer("predictions") if "predictions" in names else None
    if not isinstance(top, keras.layers.Dense) or top.kernel.shape[0] != channels:
        fail(f"`classifier=True` needs the net's top (include_top=True): {model.name} has no "
             f"`predictions` Dense layer over the last block's {channels} channels.",
             classifier=True)
    return top
