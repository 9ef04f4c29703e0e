"""What a trained net learned (notebook 09): its weights recorded small under ``results/``, its
first-layer filters (AlexNet's Fig. 3), feature maps, Grad-CAM (Selvaraju et al. 2017) and
nearest neighbours in feature space (AlexNet's Fig. 4, right).

    from cnn_keras import inspect_net
    net = inspect_net.load_recorded("alexnet_cifar-half-paper-seed2", "results")
    inspect_net.first_layer_filters(net)                # (32, 5, 5, 3), in [0, 1]
    inspect_net.grad_cam(net, images)                   # (N, 32, 32), in [0, 1]
    inspect_net.nearest_neighbours(net, queries, pool, k=6)

A recorded net takes uint8 images in [0, 255]: `load_recorded` puts the training pipeline's
preprocessing (x / 255 minus the per-pixel mean, `cnn_keras.data`) in front of it as two stock
layers, the same two that a run's ``model.keras`` has (`training.export`), but in one flat
model, so that every layer of the net (``conv1``, ``fc7``, ...) is a layer of the model.

Reference (Grad-CAM): https://arxiv.org/abs/1610.02391
"""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cnn_keras.checks import check_choice, check_int, fail, is_int

WEIGHTS_DIR = "weights"  # under results/: <name>.npz and its sidecar <name>.json
MEAN_KEY = "pixel_mean"  # the npz entry of the per-pixel mean (float32, [0, 1] units)
FLOAT16_NOTE = ("Weights stored as float16 (half the file of float32) and cast back to float32 "
                "by cnn_keras.inspect_net.load_recorded: each weight is rounded to 11 "
                "significant bits (relative error <= 2^-11 for |w| >= 6.1e-5); the pixel mean "
                "stays float32.")
INPUT_NOTE = ("uint8 RGB images in [0, 255]; the net itself was trained on x / 255 minus the "
              "per-pixel mean of its training images (`pixel_mean` in the npz), which "
              "load_recorded puts in front of it (layers scale_to_unit, subtract_pixel_mean).")


# --- recording a trained net's weights ----------------------------------------------------------


def export_weights(net, pixel_mean, path, info: dict) -> tuple[Path, Path]:
    """Write `net`'s weights to ``<path>.npz`` (float16, compressed; one entry per variable,
    keyed by its path such as ``conv1/kernel``, plus `MEAN_KEY`) and `info` with the notes on
    input and precision to the sidecar ``<path>.json``. `net` is the bare net as its registry
    builder made it (inputs already mean-subtracted); `info` must name that builder and its
    arguments (``model``, ``model_kwargs``), which `load_recorded` calls. Returns both paths."""
    for key in ("model", "model_kwargs"):
        if key not in info:
            fail(f"`info` must give the builder's name and arguments ('model', "
                 f"'model_kwargs'); '{key}' is missing.", info=sorted(info))
    _check_rebuilds(net, info["model"], info["model_kwargs"])
    arrays = {}
    for w in net.weights:
        if w.path in arrays:
            fail("`net` must give every variable its own path (name its layers uniquely).",
                 net=f"{net.name} with two variables at {w.path}")
        value = np.asarray(w.numpy())
        half = value.astype(np.float16)
        if value.size and not np.all(np.isfinite(half)):
            fail("`net`'s weights must fit float16 (|w| < 65504).", net=f"{net.name}: {w.path}")
        arrays[w.path] = half
    mean = np.asarray(pixel_mean, dtype=np.float32)
    if mean.shape != tuple(net.input_shape[1:]):
        fail(f"`pixel_mean` must have the shape of one input image {tuple(net.input_shape[1:])}.",
             pixel_mean=f"array of shape {mean.shape}")
    arrays[MEAN_KEY] = mean
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    npz, sidecar = path.with_name(path.name + ".npz"), path.with_name(path.name + ".json")
    np.savez_compressed(npz, **arrays)
    info = {"name": path.name, **info, "input": INPUT_NOTE, "input_shape": list(mean.shape),
            "precision": FLOAT16_NOTE, "variables": len(arrays) - 1,
            "weights_bytes": npz.stat().st_size}
    sidecar.write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n")
    return npz, sidecar


def _check_rebuilds(net, model: str, kwargs: dict) -> None:
    """ValueError unless the registry's `model`(**kwargs) has `net`'s variables (paths and
    shapes), so that `load_recorded` can rebuild it."""
    import keras

    from cnn_keras.registry import get_builder

    builder = get_builder(model)  # a clear error, with close matches, for an unknown name
    with keras.StatelessScope():
        rebuilt = builder(input_shape=tuple(net.input_shape[1:]), **kwargs)
    want = {w.path: tuple(w.shape) for w in rebuilt.weights}
    have = {w.path: tuple(w.shape) for w in net.weights}
    if want != have:
        differ = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
        fail(f"`net` must be what {model}(**{kwargs}) builds; they differ at {differ[:4]}.",
             net=net.name)


def _history_row(run_dir: Path) -> dict:
    rows = list(csv.DictReader((run_dir / "history.csv").open()))
    if not rows:
        fail("`run_dir` must hold a finished run (history.csv has no epoch).",
             run_dir=str(run_dir))
    return rows[-1]


def run_provenance(run_dir) -> dict:
    """Where a finished run folder's net comes from, read from its run.json and history.csv:
    builder and arguments, seed, epochs, recipe, data, hardware, versions, training time and
    the final epoch's errors (%, the test error on the run's test images, the training error
    on augmented images with dropout on, as `fit` reports it)."""
    from cnn_keras.claims.evidence import run_devices

    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file() or not (run_dir / "history.csv").is_file():
        fail("`run_dir` must be a run folder with run.json and history.csv.",
             run_dir=str(run_dir))
    run = json.loads((run_dir / "run.json").read_text())
    if run.get("status") != "finished":
        fail("`run_dir` must hold a finished run (run.json's status).",
             run_dir=f"{run_dir} ({run.get('status')})")
    config = run.get("config", {})
    recipe, dataset = config.get("recipe", {}), config.get("dataset", {})
    kwargs = dict(config.get("model_kwargs", {}))
    if dataset.get("classes"):  # training.train builds with classes=len(the data's classes)
        kwargs["classes"] = len(dataset["classes"])
    last = _history_row(run_dir)
    return {
        "model": config.get("model"),
        "model_kwargs": kwargs,
        "variant": run_dir.name,  # a record's variant: its folder (summary.csv's key)
        "variant_label": run.get("variant"),
        "seed": config.get("seed"),
        "epochs": int(last["epoch"]),
        "final_test_error": round(100 * (1 - float(last["val_accuracy"])), 2),
        "final_train_error": round(100 * (1 - float(last["accuracy"])), 2),
        "recipe": {k: recipe.get(k) for k in ("name", "epochs", "batch_size", "lr", "momentum",
                                              "weight_decay", "lr_schedule", "milestones")},
        "dtype_policy": config.get("dtype_policy"),
        "data": {k: dataset.get(k) for k in ("name", "num_train", "num_test", "source")},
        "classes": dataset.get("classes"),
        "hardware": " + ".join(run_devices(run_dir / "run.json")),
        "train_seconds": run.get("train_seconds"),
        "params": run.get("params", {}).get("total"),
        "versions": run.get("versions"),
        "git_commit": run.get("git_commit"),
        "command": run.get("command"),
        "finished": run.get("finished"),
    }


def _net_and_mean(model):
    """The bare net and the per-pixel mean of a run's ``model.keras`` (`training.export`)."""
    import keras

    nets = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    names = [layer.name for layer in model.layers]
    if len(nets) != 1 or "subtract_pixel_mean" not in names:
        fail("`model` must be a run's model.keras: one net behind the layers scale_to_unit and "
             "subtract_pixel_mean (training.export.with_preprocessing).",
             model=f"{model.name} with layers {names}")
    return nets[0], model.get_layer("subtract_pixel_mean").get_weights()[0]


def export_run(run_dir, results_dir, name: str, *, record: str | None = None) -> tuple[Path, Path]:
    """Record a finished run's net under ``<results_dir>/weights/<name>.npz`` (+ ``.json``):
    the weights of its ``model.keras`` in float16 and the provenance `run_provenance` reads,
    plus `record` (the ``results/`` record the run belongs to, e.g. "results/alexnet-cpu")."""
    from cnn_keras.saving import load_model
    from cnn_keras.training.export import MODEL_FILE

    info = run_provenance(run_dir)
    net, mean = _net_and_mean(load_model(Path(run_dir) / MODEL_FILE))
    info = {"record": record, **info, "source_run": str(run_dir),
            "exported": datetime.date.today().isoformat()}
    return export_weights(net, mean, Path(results_dir) / WEIGHTS_DIR / name, info)


# --- loading it back ----------------------------------------------------------------------------


def recorded_names(results_dir) -> list[str]:
    """The nets recorded under ``<results_dir>/weights/`` (each an .npz with its .json)."""
    folder = Path(results_dir) / WEIGHTS_DIR
    return sorted(p.stem for p in folder.glob("*.npz") if p.with_suffix(".json").is_file())


def _recorded_path(name, results_dir) -> Path:
    known = recorded_names(results_dir)
    if name not in known:
        fail(f"`name` must be a net recorded under {Path(results_dir) / WEIGHTS_DIR}: one of "
             f"{known}.", name=name)
    return Path(results_dir) / WEIGHTS_DIR / name


def recorded_info(name: str, results_dir) -> dict:
    """The sidecar of the recorded net `name`: its builder, arguments and provenance."""
    return json.loads(_recorded_path(name, results_dir).with_suffix(".json").read_text())


def load_recorded(name: str, results_dir):
    """The recorded net `name` (see `recorded_names`), ready for uint8 [0, 255] images: an
    input layer ``images_0_255``, the preprocessing it was trained with (``scale_to_unit``,
    ``subtract_pixel_mean``), then the net as its registry builder makes it from the sidecar's
    arguments, with the recorded weights cast to float32. One flat model (not compiled)."""
    import keras

    from cnn_keras.registry import get_builder

    path = _recorded_path(name, results_dir)
    info = recorded_info(name, results_dir)
    with np.load(path.with_suffix(".npz")) as npz:
        arrays = {key: npz[key] for key in npz.files}
    mean = arrays.pop(MEAN_KEY).astype(np.float32)
    inputs = keras.Input(mean.shape, name="images_0_255")
    x = keras.layers.Rescaling(1 / 255, name="scale_to_unit")(inputs)
    subtract = keras.layers.Normalization(axis=(-3, -2, -1), name="subtract_pixel_mean")
    subtract.build((None, *mean.shape))
    subtract.set_weights([mean, np.ones_like(mean), np.float32(1)])  # variance 1: x - mean
    subtract.finalize_state()
    net = get_builder(info["model"])(input_tensor=subtract(x), **info["model_kwargs"])
    own = [w for w in net.weights if not w.path.startswith("subtract_pixel_mean/")]
    missing = sorted({w.path for w in own} - set(arrays))
    unused = sorted(set(arrays) - {w.path for w in own})
    if missing or unused:
        fail(f"`name` must be a recording of {info['model']}({info['model_kwargs']}); its "
             f"variables differ (missing {missing[:4]}, unused {unused[:4]}).", name=name)
    for w in own:
        if tuple(w.shape) != arrays[w.path].shape:
            fail(f"`name` must be a recording of {info['model']}({info['model_kwargs']}): "
                 f"{w.path} is {tuple(w.shape)} there, {arrays[w.path].shape} in the file.",
                 name=name)
        w.assign(arrays[w.path].astype(w.dtype))
    # the same layers, with the one input as a tensor rather than the builder's list of it
    return keras.Model(inputs, net.outputs[0], name=net.name)


# --- what the layers show -----------------------------------------------------------------------


def _layer(model, name, arg: str):
    """`model`'s layer `name`, or a ValueError that lists some of its layers."""
    import keras

    names = [layer.name for layer in model.layers]
    if not isinstance(name, str) or name not in names:
        nested = any(isinstance(layer, keras.Model) for layer in model.layers)
        hint = (" It nests a model (a run's model.keras?): use inspect_net.load_recorded, or "
                "pass the inner net with its preprocessed inputs." if nested else "")
        fail(f"`{arg}` must name a layer of {model.name} (e.g. {', '.join(names[1:6])}; "
             f"{len(names)} layers).{hint}", **{arg: name})
    return model.get_layer(name)


def _is_map(layer) -> bool:
    return len(layer.output.shape) == 4


def first_conv(model) -> str:
    """The name of `model`'s first Conv2D layer."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            return layer.name
    fail("`model` must have a Conv2D layer.", model=model.name)


def last_feature_map(model) -> str:
    """The default Grad-CAM layer: the last layer whose output is a feature map (4-D) before
    the net flattens or pools it globally, pooling layers skipped (AlexNet: ``conv5_relu``,
    7x7 on CIFAR-10, rather than ``pool5``, 3x3), as Selvaraju et al. take the last
    convolutional layer."""
    import keras

    pools = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    last = None
    for layer in model.layers[1:]:
        if not _is_map(layer):
            break
        if not isinstance(layer, pools):
            last = layer.name
    if last is None:
        fail("`model` must have a layer with a 4-D (feature map) output.", model=model.name)
    return last


def last_hidden_layer(model) -> str:
    """The layer whose output feeds `model`'s output layer: the "last, 4096-dimensional hidden
    layer" of AlexNet's Sec. 6.1 (``fc7_dropout`` here, which at inference passes ``fc7_relu``
    through unchanged; a global-pooling net's pooled features)."""
    out = _output_layer(model)
    feeding = next((layer for layer in model.layers if layer.output is out.input), None)
    if feeding is None:
        fail("`model` must have one output layer fed by one layer; pass `layer_name`.",
             model=model.name)
    return feeding.name


def first_layer_filters(model, layer_name: str | None = None, *, scale: str = "filter"):
    """The kernels of the first conv layer (default: `first_conv`), one per filter, as images
    (`filters_as_images`): an array (filters, height, width, input channels) in [0, 1], zero at
    0.5 (grey), as AlexNet's Fig. 3 shows conv1's 96 filters."""
    import keras

    check_choice("scale", scale, SCALES)
    name = layer_name if layer_name is not None else first_conv(model)
    layer = _layer(model, name, "layer_name")
    if not isinstance(layer, keras.layers.Conv2D):
        fail("`layer_name` must name a Conv2D layer.",
             layer_name=f"{name} ({type(layer).__name__})")
    return filters_as_images(layer.kernel.numpy(), scale=scale)


SCALES = ("filter", "layer")


def filters_as_images(kernel, *, scale: str = "filter"):
    """A conv kernel (height, width, in channels, filters) as one image per filter, (filters,
    height, width, in channels) in [0, 1] with 0.5 (grey) for a zero weight. `scale` "filter"
    stretches each filter to its own largest |weight| (its pattern shows, however weak);
    "layer" uses the kernel's largest for all (their strengths compare)."""
    check_choice("scale", scale, SCALES)
    k = np.asarray(kernel, dtype=np.float32)
    if k.ndim != 4:
        fail("`kernel` must be a conv kernel (height, width, in channels, filters).",
             kernel=f"array of shape {k.shape}")
    k = np.moveaxis(k, -1, 0)
    peak = np.abs(k).max(axis=(1, 2, 3) if scale == "filter" else None, keepdims=True)
    return 0.5 + 0.5 * k / np.where(peak > 0, peak, 1)


def kernel_statistics(kernel) -> dict:
    """Two numbers per filter of a conv kernel (height, width, in channels, filters), to say in
    numbers what AlexNet's Fig. 3 shows in pictures (each an array with one value per filter):

    * ``colour``: the share of the filter's squared weights off the grey axis, |w - grey|^2 /
      |w|^2 with grey the mean over input channels at each position: 0 for a colour-agnostic
      filter (the same pattern in R, G and B), (C - 1) / C = 2/3 on average for random RGB
      weights, 1 for a colour-opponent one (the channels summing to zero everywhere).
    * ``smoothness``: the correlation of horizontally and vertically adjacent weights (each
      channel's pairs, the filter's mean removed): near 0 for random weights, near 1 for a
      smooth pattern (a blob, a low-frequency edge), negative for a checkerboard.
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 4 or min(k.shape[:2]) < 2:
        fail("`kernel` must be a conv kernel (height, width, in channels, filters), at least "
             "2x2.", kernel=f"array of shape {k.shape}")
    grey = k.mean(axis=2, keepdims=True)
    total = (k**2).sum(axis=(0, 1, 2))
    colour = ((k - grey) ** 2).sum(axis=(0, 1, 2)) / np.where(total > 0, total, 1)
    c = k - k.mean(axis=(0, 1, 2), keepdims=True)
    left, right = c[:, :-1], c[:, 1:]
    top, bottom = c[:-1], c[1:]
    pairs = (left * right).sum(axis=(0, 1, 2)) + (top * bottom).sum(axis=(0, 1, 2))
    # the squares of the pairs' first and of their second members: a correlation's denominator
    norm = np.sqrt(((left**2).sum(axis=(0, 1, 2)) + (top**2).sum(axis=(0, 1, 2)))
                   * ((right**2).sum(axis=(0, 1, 2)) + (bottom**2).sum(axis=(0, 1, 2))))
    smoothness = pairs / np.where(norm > 0, norm, 1)
    return {"colour": colour, "smoothness": smoothness}


def _batch(images, arg: str, model=None) -> np.ndarray:
    """`images` as a float32 batch (N, H, W, C) that fits `model`'s input."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or len(x) == 0:
        fail(f"`{arg}` must be one image (H, W, C) or a non-empty batch (N, H, W, C).",
             **{arg: f"array of shape {x.shape}"})
    if model is not None:
        want = tuple(model.input_shape[1:])
        if any(w is not None and w != d for w, d in zip(want, x.shape[1:])):
            fail(f"`{arg}` must have the model's input shape {want}.",
                 **{arg: f"array of shape {x.shape}"})
    return x.astype(np.float32)


def _outputs(model, names, x, batch_size: int = 256) -> list[np.ndarray]:
    """The outputs of `model`'s layers `names` on `x`, one array per layer. Called eagerly,
    batch by batch: a `predict` would trace a new function for every probe model (and
    TensorFlow warns after five)."""
    import keras

    probe = keras.Model(_input(model), [model.get_layer(n).output for n in names])
    batches = []
    for i in range(0, len(x), batch_size):
        out = probe(x[i:i + batch_size], training=False)
        batches.append(out if isinstance(out, (list, tuple)) else [out])
    return [np.concatenate([keras.ops.convert_to_numpy(b[j]) for b in batches])
            for j in range(len(names))]


def _input(model):
    """`model`'s one input tensor (a model built on an `input_tensor` lists it: calling a
    probe model built on that list with one tensor makes Keras warn)."""
    if len(model.inputs) != 1:
        fail("`model` must have one input.", model=f"{model.name} with {len(model.inputs)}")
    return model.inputs[0]


def feature_maps(model, image, layer_names) -> dict:
    """The activations of one image at each of `layer_names` (a name or a list of names of
    layers with 4-D outputs): {name: array (height, width, channels)}."""
    names = [layer_names] if isinstance(layer_names, str) else list(layer_names or [])
    if not names:
        fail("`layer_names` must be a layer name or a non-empty list of them.",
             layer_names=layer_names)
    for name in names:
        if not _is_map(_layer(model, name, "layer_names")):
            fail("`layer_names` must name layers with a 4-D (feature map) output.",
                 layer_names=name)
    x = _batch(image, "image", model)
    if len(x) != 1:
        fail("`image` must be one image.", image=f"array of shape {np.shape(image)}")
    return {name: out[0] for name, out in zip(names, _outputs(model, names, x))}


def _output_layer(model):
    """The layer whose output is `model`'s (first) output."""
    out = next((layer for layer in model.layers if layer.output is model.outputs[0]), None)
    if out is None:
        fail("`model`'s output must be the output of one of its layers, called once.",
             model=model.name)
    return out


def _score_model(model, feature_layer):
    """A model from `model`'s inputs to (the feature map, the class scores before the softmax):
    Selvaraju et al. differentiate the score y^c, not the probability."""
    import keras

    out = _output_layer(model)
    softmax = keras.activations.get("softmax")
    if isinstance(out, keras.layers.Activation) and out.activation is softmax:
        scores = out.input  # a separate softmax layer (keras.applications' MobileNet)
    elif getattr(out, "activation", None) is softmax:
        # the same layer without its softmax, on the same input and weights
        linear = out.__class__.from_config({**out.get_config(), "activation": "linear",
                                            "name": f"{out.name}_scores"})
        scores = linear(out.input)
        linear.set_weights(out.get_weights())
    else:
        scores = model.outputs[0]  # logits (classifier_activation=None)
    return keras.Model(_input(model), [feature_layer.output, scores])


def grad_cam(model, images, class_index=None, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017, Sec. 3): where in each image the evidence for a class
    lies. For class c, the gradients of its score y^c (before the softmax) with respect to the
    feature map A of `layer_name` (default: `last_feature_map`) are averaged over the map's
    positions into one weight per channel, alpha_k; the map is ReLU(sum_k alpha_k A^k)
    (only what raises the score), upsampled bilinearly to the input's size and divided by its
    maximum (an all-zero map stays zero).

    `class_index`: None (each image's predicted class), one int for every image, or one per
    image. Returns an array (N, H, W) in [0, 1].

    Needs the TensorFlow backend (the gradient is taken with `tf.GradientTape`; the rest is
    keras.ops and numpy), as `analysis.gradient_norms` does.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        fail("`grad_cam` needs the TensorFlow backend (it uses tf.GradientTape).",
             backend=keras.backend.backend())
    import tensorflow as tf

    x = _batch(images, "images", model)
    name = layer_name if layer_name is not None else last_feature_map(model)
    layer = _layer(model, name, "layer_name")
    if not _is_map(layer):
        fail("`layer_name` must name a layer with a 4-D (feature map) output.", layer_name=name)
    probe = _score_model(model, layer)
    classes = _classes(class_index, len(x), probe.outputs[1].shape[-1])
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        fmap, scores = probe(x, training=False)
        if classes is None:  # each image's predicted class
            classes = np.argmax(keras.ops.convert_to_numpy(scores), axis=-1)
        chosen = tf.gather(scores, classes, axis=1, batch_dims=1)
    grads = tape.gradient(chosen, fmap)
    alpha = keras.ops.mean(grads, axis=(1, 2), keepdims=True)  # one weight per channel
    cam = keras.ops.relu(keras.ops.sum(alpha * fmap, axis=-1, keepdims=True))
    cam = keras.ops.image.resize(cam, tuple(x.shape[1:3]), interpolation="bilinear")[..., 0]
    cam = keras.ops.convert_to_numpy(cam)
    peak = cam.max(axis=(1, 2), keepdims=True)
    return np.where(peak > 0, cam / np.where(peak > 0, peak, 1), 0).astype(np.float32)


def _classes(class_index, n: int, num_classes: int) -> np.ndarray | None:
    """`class_index` checked and broadcast to one class per image (None stays None)."""
    if class_index is None:
        return None
    values = np.atleast_1d(np.asarray(class_index))
    ok = (values.ndim == 1 and len(values) in (1, n) and all(is_int(v) for v in values)
          and values.min() >= 0 and values.max() < num_classes)
    if not ok:
        fail(f"`class_index` must be None, a class index in [0, {num_classes - 1}] or one "
             f"per image ({n}).", class_index=class_index)
    return np.broadcast_to(values, (n,)).astype(np.int64)


# --- nearest neighbours -------------------------------------------------------------------------


class Neighbours(NamedTuple):
    """`nearest_neighbours`' answer: for each query, the `k` nearest pool images in feature
    space and in pixel space, nearest first: indices into the pool and Euclidean distances,
    arrays (queries, k)."""

    indices: np.ndarray
    distances: np.ndarray
    pixel_indices: np.ndarray
    pixel_distances: np.ndarray
    layer_name: str


def _nearest(queries: np.ndarray, pool: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` rows of `pool` nearest to each row of `queries` (Euclidean): candidates from
    |p|^2 - 2 q.p in float32 (one matrix product), their distances then computed exactly in
    float64 (an image that is in the pool is at distance 0, not at a rounding error's square
    root)."""
    q, p = np.asarray(queries, np.float32), np.asarray(pool, np.float32)  # no copies
    ranking = np.einsum("ij,ij->i", p, p)[None, :] - 2 * (q @ p.T)
    extra = min(k + 8, len(pool))  # float32 rounding can swap near-ties at the k-th place
    candidates = np.argpartition(ranking, extra - 1, axis=1)[:, :extra]
    exact = np.linalg.norm(p[candidates].astype(np.float64)
                           - q[:, None, :].astype(np.float64), axis=-1)
    order = np.argsort(exact, axis=1, kind="stable")[:, :k]
    return (np.take_along_axis(candidates, order, 1),
            np.take_along_axis(exact, order, 1).astype(np.float32))


def nearest_neighbours(model, query_images, pool_images, layer_name: str | None = None,
                       k: int = 5, *, batch_size: int = 256) -> Neighbours:
    """The `k` pool images nearest to each query image by the Euclidean distance between their
    feature vectors at `layer_name` (default: `last_hidden_layer`, as AlexNet's Sec. 6.1 /
    Fig. 4 uses the last hidden layer), and, for contrast, the `k` nearest in pixel space
    (the images themselves, as given). A query that is in the pool finds itself first, at
    distance 0."""
    queries = _batch(query_images, "query_images", model)
    pool = _batch(pool_images, "pool_images", model)
    if queries.shape[1:] != pool.shape[1:]:
        fail(f"`pool_images` must have the shape of the queries {queries.shape[1:]}.",
             pool_images=f"array of shape {pool.shape}")
    k = check_int("k", k)
    if k > len(pool):
        fail(f"`k` must be at most the number of pool images ({len(pool)}).", k=k)
    batch_size = check_int("batch_size", batch_size)
    name = layer_name if layer_name is not None else last_hidden_layer(model)
    _layer(model, name, "layer_name")
    f_query, = _outputs(model, [name], queries, batch_size)
    f_pool, = _outputs(model, [name], pool, batch_size)
    indices, distances = _nearest(f_query.reshape(len(queries), -1),
                                  f_pool.reshape(len(pool), -1), k)
    pixel_indices, pixel_distances = _nearest(queries.reshape(len(queries), -1),
                                              pool.reshape(len(pool), -1), k)
    return Neighbours(indices, distances, pixel_indices, pixel_distances, name)
