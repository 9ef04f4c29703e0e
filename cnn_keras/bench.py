"""Throughput benchmarks: images per second of training steps, inference, or the input pipeline.

    cnn-keras bench resnet20 --what train --batch-size 128 --steps 30
    cnn-keras bench resnet20 --what data            # the CIFAR-10 augmentation pipeline alone
    cnn-keras bench resnet20 --backend jax          # re-runs itself with KERAS_BACKEND=jax

Every run prints one line per measurement and, last, one JSON line with model, what,
images_per_sec, backend, device, precision and batch (for scripts: `benchmarks/`). Numbers are
measured, never asserted: no test checks a speed.
"""

from __future__ import annotations

import json
import time

import keras
import numpy as np

from cnn_keras.checks import check_choice, check_int

WHATS = ("train", "infer", "data")
PIPELINES = ("tf.data", "numpy", "layer")


class _StepTimes(keras.callbacks.Callback):
    """The time at the end of every executed batch (steady state excludes fit's set-up, which
    varies from run to run)."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def _same_batch(x, y, steps):
    """`steps` copies of one batch, so no time goes to input: a tf.data pipeline on TensorFlow,
    a keras PyDataset on the other backends."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.data.Dataset.from_tensors((x, y)).repeat(steps)
    return _SameBatch(x, y, steps)


class _SameBatch(keras.utils.PyDataset):
    """`steps` copies of one batch for any backend."""

    def __init__(self, x, y, steps):
        super().__init__()
        self.x, self.y, self.steps = x, y, steps

    def __len__(self):
        return self.steps

    def __getitem__(self, i):
        return self.x, self.y


def _check(what, batch_size, steps, warmup, dtype_policy, pipeline):
    from cnn_keras.training.run import DTYPE_POLICIES

    check_choice("what", what, WHATS)
    check_int("batch_size", batch_size)
    check_int("steps", steps)
    check_int("warmup", warmup, minimum=0)
    check_choice("dtype_policy", dtype_policy, DTYPE_POLICIES)
    if what == "data":
        check_choice("pipeline", pipeline, PIPELINES)


def _layer_batches(images, seed):
    """Endless augmented copies of `images` from `augment.PadCropFlip`, on the backend's device:
    a `tf.function` on TensorFlow (as inside `fit`), eager calls elsewhere. Each batch waits for
    the device to finish."""
    from cnn_keras.augment import PadCropFlip

    layer = PadCropFlip(seed=seed)
    images = keras.ops.convert_to_tensor(images)
    augment = lambda t: layer(t, training=True)  # noqa: E731
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        augment = tf.function(augment)
    while True:
        out = augment(images)
        yield keras.ops.convert_to_numpy(out[0, 0, 0, 0])


def run(model: str = "resnet20", what: str = "train", *, batch_size: int = 128, steps: int = 30,
        warmup: int = 5, dtype_policy: str = "float32", pipeline: str = "tf.data",
        steps_per_execution: int = 1, jit_compile="default", seed: int = 0,
        verbose: bool = True) -> dict:
    """Measure `what` for registered `model` (CIFAR-10 shaped inputs for CIFAR nets, the paper's
    input size otherwise) and return the result dict (also printed as a JSON line).

    train: steps of `model.fit` with the course's optimizer (SGD momentum 0.9, coupled weight
    decay) after `warmup` steps, timed in steady state: from the end of the first step to the
    end of the last, without fit's set-up. `steps_per_execution` and `jit_compile` (True /
    False; "default": what `training.train` uses) go to `compile`.
    infer: `model.predict_on_batch`, after `warmup` calls.
    data: the CIFAR-10 training pipeline alone (pad-crop-flip, mean subtraction) on random
    32x32 images, `pipeline` "tf.data", "numpy" (`data.NumpyTrainBatches`) or "layer" (the
    augmentation alone as the `data.PadCropFlip` layer on the backend's device, on one batch
    already in memory: what moving it into the model costs).
    """
    from cnn_keras import runinfo
    from cnn_keras.registry import get_builder

    _check(what, batch_size, steps, warmup, dtype_policy, pipeline)
    get_builder(model)  # a clear error for an unknown name
    rng = np.random.default_rng(seed)
    backend = keras.backend.backend()
    result = {"model": model, "what": what, "backend": backend,
              "device": runinfo.hardware()["device"], "precision": dtype_policy,
              "batch": batch_size, "steps": steps}
    if what == "data":
        seconds = _time_data(rng, pipeline, batch_size, steps, warmup, seed)
        result["pipeline"] = pipeline
    else:
        net = _build_seeded(model, dtype_policy, seed)
        x, y = _random_batch(net, rng, batch_size)
        if what == "train":
            steps, seconds, details = _time_train(net, x, y, steps, warmup,
                                                  steps_per_execution, jit_compile)
            result.update(details, steps=steps)
        else:
            seconds = _time_infer(net, x, steps, warmup)
    result["seconds"] = round(seconds, 6)
    result["images_per_sec"] = round(batch_size * steps / seconds, 1)
    if verbose:
        print(f"{model} {what}: {result['images_per_sec']:,.0f} images/s "
              f"(batch {batch_size}, {steps} steps in {seconds:.2f} s; {backend}, "
              f"{dtype_policy}, {result['device']})")
        print(json.dumps(result))
    return result


def _time_data(rng, pipeline, batch_size, steps, warmup, seed) -> float:
    """Seconds for `steps` batches of the CIFAR-10 training pipeline on random images."""
    from cnn_keras import data as data_lib

    n = batch_size * (steps + warmup)
    x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    mean = data_lib.per_pixel_mean(x)
    if pipeline == "tf.data":
        batches = iter(data_lib.train_dataset(x, y, mean=mean, seed=seed,
                                              batch_size=batch_size, epochs=1))
    elif pipeline == "numpy":
        nb = data_lib.NumpyTrainBatches(x, y, mean=mean, seed=seed, batch_size=batch_size)
        batches = (nb[i] for i in range(len(nb)))
    else:
        batches = _layer_batches(data_lib.eval_arrays(x[:batch_size], y[:batch_size],
                                                      mean=mean)[0], seed)
    for _ in range(warmup):
        next(batches)
    start = time.perf_counter()
    for _ in range(steps):
        next(batches)
    return time.perf_counter() - start


def _build_seeded(model, dtype_policy, seed):
    """The registered model built under `dtype_policy`, leaving the global policy as it was."""
    from cnn_keras.registry import build

    keras.utils.set_random_seed(seed)
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(dtype_policy)
    try:
        return build(model)
    finally:
        keras.config.set_dtype_policy(previous)


def _random_batch(net, rng, batch_size):
    """One batch of standard-normal inputs of the net's shape and random labels."""
    shape = tuple(net.inputs[0].shape[1:])
    classes = net.outputs[0].shape[-1]
    x = rng.standard_normal((batch_size, *shape)).astype("float32")
    return x, rng.integers(0, classes, batch_size)


def _time_train(net, x, y, steps, warmup, steps_per_execution, jit_compile):
    """(steps timed, seconds, compile details) of `fit` on one repeated batch."""
    from cnn_keras import training

    recipe = training.scaled_recipe(10)  # the optimizer and loss `train` compiles
    if jit_compile == "default":
        jit_compile = training.jit_compile_default()
    net.compile(optimizer=recipe.optimizer(1000), loss=recipe.loss(),
                jit_compile=jit_compile, steps_per_execution=steps_per_execution)
    # as `cnn-keras train` does: TensorFlow's fused batch-norm kernel (not under XLA)
    fused = training.fuse_batch_norm(net) if jit_compile is False else 0
    xla = training.compile_activations(net) if jit_compile is False else 0
    details = dict(steps_per_execution=steps_per_execution, jit_compile=jit_compile,
                   fused_batch_norm_layers=fused, xla_activation_layers=xla)
    labels = (y,) * len(net.outputs) if len(net.outputs) > 1 else y
    net.fit(_same_batch(x, labels, max(warmup, steps_per_execution)), epochs=1,
            verbose=0, shuffle=False)
    clock = _StepTimes()
    net.fit(_same_batch(x, labels, steps + steps_per_execution), epochs=1, verbose=0,
            shuffle=False, callbacks=[clock])
    # steady state: from the end of the first execution to the end of the last
    steps = (len(clock.times) - 1) * steps_per_execution
    return steps, clock.times[-1] - clock.times[0], details


def _time_infer(net, x, steps, warmup) -> float:
    """Seconds for `steps` calls of predict_on_batch after `warmup` calls."""
    for _ in range(warmup):
        net.predict_on_batch(x)
    start = time.perf_counter()
    for _ in range(steps):
        net.predict_on_batch(x)
    return time.perf_counter() - start
