"""What the model modules share: the keras.applications signature, its validation, the head.

A builder calls `resolve_inputs(...)` before it builds any layer (all argument errors are raised
there, as `ValueError`s that end in ``Received: arg=value``, by the checkers of
`cnn_keras.checks`), builds its body on the returned input, then calls `finish_model(...)` for
the classifier / pooling head and the weights. `args_doc` appends the shared Args section
(`COMMON_ARGS_DOC`) to a builder's docstring; `imagenet_input_doc`, `plain_input_doc` and
`CIFAR_INPUT_DOC` are its "Input:" paragraph (what pixels the net expects), and
`imagenet_preprocess` the body of the families' `preprocess_input`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import textwrap
from dataclasses import dataclass

import keras
import numpy as np

from cnn_keras.checks import check_bool, check_int, fail, is_int

COMMON_ARGS_DOC = """
    Args:
        include_top: whether to include the paper's classifier on top (global average pooling +
            dense for most families; flatten + fully connected layers for AlexNet and VGG).
        weights: `None` (random initialisation), the path to a `.weights.h5` file saved from the
            same architecture, or `"imagenet"` where keras.applications has this model (its weights
            are downloaded by Keras and copied over with `cnn_keras.transfer_weights`).
        input_tensor: optional Keras tensor (the output of `keras.Input()`) to use as the input.
        input_shape: optional `(height, width, channels)`; defaults to the paper's input size.
            With `include_top=False` the spatial size may be `None`.
        pooling: with `include_top=False`: `None` (4D feature map), `"avg"` or `"max"`
            (global pooling to a 2D tensor). Must be `None` when `include_top=True`.
        classes: number of classes of the classifier (with `include_top=True`).
        classifier_activation: activation of the classifier: a name (`"softmax"`), a callable, or
            `None` for logits. With `weights="imagenet"` only `"softmax"` or `None`.
        name: model name; defaults to the registry name.
"""


# --- What a builder expects as input: the "Input:" paragraph of its docstring (via args_doc) --
# How `cnn_keras.training.train` feeds every net (cnn_keras.data: tf_pipeline, numpy_pipeline).
PIPELINE_INPUT = (
    "Trained here (`cnn_keras.training.train`), a net gets [0, 1] images minus the per-pixel "
    "mean of its training images (`cnn_keras.data`); the run's `model.keras` has that step in "
    "front and takes 0..255 pixels."
)


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=88, break_on_hyphens=False)


def imagenet_input_doc(steps: str, models: str = "") -> str:
    """The "Input:" paragraph of a family with keras.applications' ImageNet weights: with
    `weights="imagenet"` (for `models`, where not every variant has them) do `steps` first."""
    which = f" ({models})" if models else ""
    return _paragraph(
        f"Input: RGB images, channels last; nothing is normalised in the graph. With "
        f'`weights="imagenet"`{which}, {steps}, as for the keras.applications model the '
        f"weights come from. {PIPELINE_INPUT}"
    )


def plain_input_doc(note: str = "") -> str:
    """The "Input:" paragraph of an ImageNet-size net without ImageNet weights; `note`: what
    the paper did."""
    return _paragraph(
        "Input: RGB images, channels last; nothing is normalised in the graph, and there are "
        "no ImageNet weights (so no `preprocess_input`): the net expects what it was trained "
        f"on. {note + ' ' if note else ''}{PIPELINE_INPUT}"
    )


CIFAR_INPUT_DOC = _paragraph(
    "Input: images as the CIFAR pipelines of `cnn_keras.data` give them (`train_dataset`, "
    "`eval_arrays`): float, scaled to [0, 1], minus the per-pixel mean of the training images "
    "(`per_pixel_mean`); nothing is normalised in the graph. There are no ImageNet weights, so "
    "there is no `preprocess_input`. A finished run's `model.keras` puts that preprocessing in "
    "front of the net and takes 0..255 pixels (`cnn_keras.training.export`)."
)


PREPROCESS_ARGS_DOC = """
    Args:
        x: 0..255 RGB pixels as a numpy array or a tensor, a batch (batch, height, width, 3)
            or one image (height, width, 3); channels first with
            `data_format="channels_first"`. Float (an integer numpy array is cast to Keras'
            floatx; an integer tensor is not).
        data_format: None (`keras.config.image_data_format()`), "channels_last" or
            "channels_first".

    Returns:
        The preprocessed pixels: a numpy array for a numpy `x` (a float array keeps its dtype
        and is not modified), else a tensor.

    Raises:
        ValueError: `data_format` is none of the above.
"""


def preprocess_doc(fn):
    """Decorator: append the shared Args / Returns of a family's `preprocess_input`."""
    fn.__doc__ = (fn.__doc__ or "").rstrip() + "\n" + PREPROCESS_ARGS_DOC
    return fn


def imagenet_preprocess(x, data_format, mode):
    """keras.applications' `preprocess_input` in `mode` ("caffe", "tf" or "torch") for a batch
    (or one image) of 0..255 RGB pixels, a numpy array or a backend tensor; `data_format` None
    (Keras' setting), "channels_last" or "channels_first". A float numpy array is copied first,
    not overwritten."""
    # Delegated to Keras' own function rather than rewritten: keras.applications' weights
    # expect exactly its arithmetic (constants, channel order, dtype rules, numpy and tensor
    # paths), and calling it keeps the two equal on every backend and Keras version.
    # Keras writes the result over a float numpy input; the copy keeps the caller's array.
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating):
        x = x.copy()
    return keras.applications.imagenet_utils.preprocess_input(
        x, data_format=data_format, mode=mode
    )


@dataclass(frozen=True)
class ModelInputs:
    """What `resolve_inputs` returns: the input tensor to build on and the model's inputs."""

    tensor: object  # the Keras tensor the body is built on
    inputs: object  # what goes into keras.Model(inputs=...)
    shape: tuple


def args_doc(*sections: str):
    """Decorator: append `sections` (paragraphs such as the paper reference or the architecture
    options, indented to the docstring's level here) and the shared Args section
    `COMMON_ARGS_DOC` to the builder's docstring, so that `help()` shows them all."""
    paragraphs = [textwrap.indent(textwrap.dedent(s).strip("\n"), "    ") for s in sections]

    def decorate(fn):
        doc = "\n\n".join([(fn.__doc__ or "").rstrip(), *paragraphs])
        fn.__doc__ = doc + "\n" + COMMON_ARGS_DOC
        return fn

    return decorate


def check_name(name) -> None:
    """ValueError unless the model `name` is a string or None."""
    if name is not None and not isinstance(name, str):
        fail("`name` must be a string or None.", name=name)


@contextlib.contextmanager
def deep_graph_recursion_limit(limit: int = 20_000):
    """Raise Python's recursion limit to at least `limit` inside the block, then restore it.

    Keras creates a functional model (`keras.Model(inputs, outputs)`, and `load_model` /
    `from_config`, which rebuild one) by a recursive depth-first walk of its graph, one Python
    frame per layer on the longest path: ResNet-1202 or DenseNet-264 go past the default limit
    of 1000 frames. Calling, training and saving a built model do not need it.
    """
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def keras_application(attr: str):
    """The keras.applications builder `attr` (e.g. "ResNet50"), looked up when it is called,
    so that a test can replace it."""
    return lambda **kwargs: getattr(keras.applications, attr)(**kwargs)


def resolve_inputs(
    *,
    include_top,
    weights,
    input_tensor,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    default_size: int,
    min_size: int,
    imagenet_available: bool = False,
    model_name: str = "this model",
) -> ModelInputs:
    """Validate the shared arguments (before any layer is built) and create the input."""
    if keras.config.image_data_format() != "channels_last":
        fail(
            "cnn_keras builders support channels_last only; call "
            "keras.config.set_image_data_format('channels_last').",
            image_data_format=keras.config.image_data_format(),
        )
    check_bool("include_top", include_top)

    weights = _check_weights(weights, imagenet_available, model_name)
    _check_classifier(classes, classifier_activation, weights, include_top)
    _check_pooling(pooling, include_top)
    input_shape = _resolve_shape(input_tensor, input_shape, default_size, min_size,
                                 include_top=include_top, weights=weights)

    if input_tensor is None:
        tensor = keras.Input(shape=input_shape, name="input_layer")
        inputs = tensor
    else:
        tensor = input_tensor
        inputs = keras.utils.get_source_inputs(input_tensor)
    return ModelInputs(tensor=tensor, inputs=inputs, shape=input_shape)


def _check_weights(weights, imagenet_available: bool, model_name: str):
    """None, 'imagenet' (where keras.applications has them) or an existing .weights.h5 file;
    a path-like comes back as a string."""
    if weights is None:
        return None
    if not isinstance(weights, (str, os.PathLike)):
        fail(
            "`weights` must be None, 'imagenet' or the path to a .weights.h5 file.",
            weights=weights,
        )
    weights = os.fspath(weights)
    if weights == "imagenet":
        if not imagenet_available:
            fail(
                f"ImageNet weights exist only for models that keras.applications has; "
                f"{model_name} is not one of them. Use weights=None or a .weights.h5 path.",
                weights=weights,
            )
    elif not weights.endswith(".weights.h5"):
        fail(
            "`weights` must be None, 'imagenet' or the path to a file ending in "
            "'.weights.h5' (as written by model.save_weights).",
            weights=weights,
        )
    elif not os.path.isfile(weights):
        fail("The `weights` file does not exist.", weights=weights)
    return weights


def _check_classifier(classes, classifier_activation, weights, include_top) -> None:
    """`classes` and `classifier_activation`, and what ImageNet weights demand of them."""
    check_int("classes", classes)
    if weights == "imagenet" and include_top and classes != 1000:
        fail("With weights='imagenet' and include_top=True, `classes` must be 1000.",
              classes=classes)
    if classifier_activation is not None and not callable(classifier_activation):
        if not isinstance(classifier_activation, str):
            fail("`classifier_activation` must be None, a string or a callable.",
                  classifier_activation=classifier_activation)
        try:
            keras.activations.get(classifier_activation)
        except (ValueError, TypeError):
            fail(
                "`classifier_activation` is not a Keras activation (e.g. 'softmax', 'sigmoid', "
                "'linear', or None for logits).",
                classifier_activation=classifier_activation,
            )
    # as keras.applications: compared as resolved functions, so keras.activations.softmax and
    # "linear" (what None means) pass too
    allowed = {keras.activations.get("softmax"), keras.activations.get(None)}
    if (weights == "imagenet" and include_top
            and keras.activations.get(classifier_activation) not in allowed):
        fail("With weights='imagenet', `classifier_activation` must be 'softmax' or None.",
              classifier_activation=classifier_activation)


def _check_pooling(pooling, include_top) -> None:
    if pooling not in (None, "avg", "max"):
        fail("`pooling` must be None, 'avg' or 'max'.", pooling=pooling)
    if include_top and pooling is not None:
        fail(
            "`pooling` only applies with include_top=False (the top has its own pooling).",
            pooling=pooling,
        )


def _resolve_shape(input_tensor, input_shape, default_size, min_size, *, include_top,
                   weights) -> tuple:
    """The (height, width, channels) the model is built for: `input_tensor`'s shape, else
    `input_shape`, else the default, checked against the smallest size and the weights."""
    if input_tensor is not None:
        input_shape = _tensor_shape(input_tensor, input_shape)
    default_shape = (default_size, default_size, 3)
    if input_shape is None:
        input_shape = default_shape
    if (
        not isinstance(input_shape, (tuple, list))
        or len(input_shape) != 3
        or any(d is not None and not is_int(d) for d in input_shape)
    ):
        fail("`input_shape` must be a tuple of 3 integers (height, width, channels).",
              input_shape=input_shape)
    input_shape = tuple(None if d is None else int(d) for d in input_shape)  # numpy ints too
    h, w, c = input_shape
    if c is None or c < 1:
        fail("The channel dimension of `input_shape` must be a positive integer.",
              input_shape=input_shape)
    if include_top and (h is None or w is None):
        fail("With include_top=True the height and width of `input_shape` must be known.",
              input_shape=input_shape)
    if any(d is not None and d < min_size for d in (h, w)):
        fail(f"Input size must be at least {min_size}x{min_size}.", input_shape=input_shape)
    if weights == "imagenet":
        if c != 3:
            fail("ImageNet weights need 3 input channels.", input_shape=input_shape)
        if include_top and input_shape != default_shape:
            fail(f"With weights='imagenet' and include_top=True, `input_shape` must be "
                  f"{default_shape}.", input_shape=input_shape)
    return input_shape


def _tensor_shape(input_tensor, input_shape) -> tuple:
    """A 4D Keras tensor's (height, width, channels), which `input_shape` may only repeat."""
    if not keras.backend.is_keras_tensor(input_tensor):
        # its type and shape, not its values: an array's repr would fill the screen
        fail("`input_tensor` must be a Keras tensor, e.g. keras.Input(shape=(224, 224, 3)).",
              input_tensor=f"{type(input_tensor).__name__} of shape "
                           f"{getattr(input_tensor, 'shape', '?')}")
    tensor_shape = tuple(input_tensor.shape[1:])
    if len(input_tensor.shape) != 4:
        fail("`input_tensor` must be 4D (batch, height, width, channels).",
              input_tensor=input_tensor)
    if input_shape is not None and tuple(input_shape) != tensor_shape:
        fail(f"`input_shape` disagrees with the shape of `input_tensor` {tensor_shape}.",
              input_shape=input_shape)
    return tensor_shape


def resize_input(x, resolution, *, minimum: int, name="resize"):
    """The paper's resolution multiplier for a fixed-size dataset: the net computes on the input
    resized (bilinear) to `resolution` x `resolution` pixels; `None` keeps the input size.
    A sequence of sizes resizes through each in turn (`check_resolution`); `minimum` is the
    smallest size whose maps do not reach 0x0 in the net."""
    for i, size in enumerate(check_resolution(resolution, minimum)):
        x = keras.layers.Resizing(size, size, interpolation="bilinear",
                                  name=name if i == 0 else f"{name}_{i}")(x)
    return x


def check_resolution(resolution, minimum: int) -> tuple:
    """`resolution` as a tuple of sizes, or a one-line ValueError naming it: None (no
    resizing), a size, or a non-empty tuple or list of sizes resized through in turn. A
    sequence is a control: (28, 32) goes down to 28 px and back up, so the net computes at
    32 px on an image with 28 px of detail (the last size sets the maps, the smallest the
    detail kept). A list is accepted because a run's settings come back from JSON as one."""
    if resolution is None:
        return ()
    sizes = tuple(resolution) if isinstance(resolution, (tuple, list)) else (resolution,)
    if not sizes or not all(is_int(s) and s >= minimum for s in sizes):
        fail(f"`resolution` must be None, an integer >= {minimum}, or a non-empty tuple of "
             f"integers >= {minimum}.", resolution=resolution)
    return tuple(int(s) for s in sizes)


def finish_model(
    x,
    model_inputs: ModelInputs,
    *,
    include_top,
    pooling,
    classes,
    classifier_activation,
    weights,
    name,
    dense_kwargs=None,
    imagenet_source=None,
    head_dropout: float = 0.0,
    extra_outputs=(),
    head_built: bool = False,
):
    """Add the keras.applications head (global average pool, optional dropout, dense
    `predictions`), create the model (with `extra_outputs` after the main one, e.g. auxiliary
    classifiers) and load `weights`. `head_built=True`: `x` already ends in the family's own
    head (MobileNet's 1x1-conv classifier, EfficientNet's `top_dropout`) when include_top."""
    if include_top and head_built:
        pass
    elif include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if head_dropout:
            x = keras.layers.Dropout(head_dropout, name="dropout")(x)
        x = keras.layers.Dense(
            int(classes), activation=classifier_activation, name="predictions",
            **(dense_kwargs or {}),
        )(x)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    outputs = [x, *extra_outputs] if extra_outputs else x
    with deep_graph_recursion_limit():
        model = keras.Model(model_inputs.inputs, outputs, name=name)
    if weights == "imagenet":
        from cnn_keras.transfer import transfer_weights

        try:
            source = imagenet_source(
                include_top=include_top,
                weights="imagenet",
                input_shape=model_inputs.shape,
                classes=int(classes),
                classifier_activation=classifier_activation,
            )
        except Exception as exc:  # keras' download: URLError, HTTPError, ... when offline
            raise RuntimeError(
                f"Could not get keras.applications' ImageNet weights for {name} (they are "
                f"downloaded on first use; offline?): {exc}. Use weights=None, or a .weights.h5 "
                "file saved with model.save_weights()."
            ) from exc
        transfer_weights(source, model)
    elif weights is not None:
        try:
            model.load_weights(weights)
        except Exception as exc:  # keras raises various types for a wrong file
            raise ValueError(
                f"Could not load `weights` into {name}: {exc}. The file must come from "
                f"model.save_weights() of the same architecture. Received: weights={weights!r}"
            ) from exc
    return model
