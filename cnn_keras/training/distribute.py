"""Data-parallel training on several devices of one host, through the engines Keras has: on
TensorFlow `tf.distribute.MirroredStrategy`, on JAX `keras.distribution.DataParallel`.

Both split each global batch of the input pipeline across the devices (no example is seen twice
in an epoch, none is skipped: the pipeline is the single-device one) and average the gradients,
so a run on N devices computes the steps of one device at the same global batch. The exception
is batch norm, which under MirroredStrategy normalises each replica's part of the batch by its
own statistics unless the layer is *synchronized*: `synchronize_batch_norm` turns that on, so
the statistics are the global batch's, as on one device (and as JAX's sharded step computes
them anyway). Measured on 2 logical CPU devices: tools/distribution_equivalence.py.
"""

from __future__ import annotations

import contextlib

import keras

from cnn_keras.checks import check_int, fail


@contextlib.contextmanager
def data_parallel(devices: int):
    """Within this context, models built, compiled and fitted train on the first `devices`
    devices (GPUs where there are any, else CPU devices). ``devices=1``: nothing changes."""
    check_int("devices", devices)
    if devices == 1:
        yield None
        return
    backend = keras.backend.backend()
    if backend == "tensorflow":
        strategy = _mirrored(devices)
        with strategy.scope():
            yield strategy
    elif backend == "jax":
        import jax

        available = jax.devices()
        _check_enough(devices, len(available), available[0].platform)
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=available[:devices]))
        try:
            yield keras.distribution.distribution()
        finally:
            keras.distribution.set_distribution(previous)
    else:
        fail("Data-parallel training runs on the TensorFlow or JAX backend.", backend=backend)


def _mirrored(devices: int):
    import tensorflow as tf

    pool = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    _check_enough(devices, len(pool), pool[0].device_type)
    return tf.distribute.MirroredStrategy([d.name for d in pool[:devices]])


def _check_enough(wanted: int, available: int, kind: str) -> None:
    if wanted > available:
        fail(f"`devices` must be at most the {available} {kind} device(s) this process sees "
             "(for a test on a CPU, split it: tf.config.set_logical_device_configuration, or "
             "XLA_FLAGS=--xla_force_host_platform_device_count=N for JAX).", devices=wanted)


def synchronize_batch_norm(model) -> int:
    """Make every BatchNormalization layer of `model` compute its training statistics over the
    global batch across replicas (Keras' ``synchronized=True``; it matters under
    MirroredStrategy, and the fused kernel then leaves the layer alone). Returns how many."""
    from cnn_keras.analysis import iter_layers

    count = 0
    for layer in iter_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization) and not layer.synchronized:
            layer.synchronized = True
            count += 1
    return count
