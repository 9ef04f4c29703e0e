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

from cnn_keras.checks import check_int, fail, is_int


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
        # several processes: each feeds its own share of every batch (`process_share`), so
        # Keras must not shard the input again
        keras.distribution.set_distribution(keras.distribution.DataParallel(
            devices=available[:devices], auto_shard_dataset=jax.process_count() == 1))
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


def is_chief() -> bool:
    """Whether this process writes a run's files: any single process, and the first of a
    multi-process JAX run (`keras.distribution.initialize`), whose other processes hold the
    same replicated weights and only compute."""
    if keras.backend.backend() != "jax":
        return True
    import jax

    return jax.process_index() == 0


def join(coordinator: str, num_processes: int, process_id: int) -> None:
    """Join a run of several processes, one per host (Keras 3's multi-host path on JAX,
    `keras.distribution.initialize`): process 0 listens on `coordinator` ("host:port"); every
    process then sees all hosts' devices, and `data_parallel` spans them."""
    if keras.backend.backend() != "jax":
        fail("Several processes train on the JAX backend (KERAS_BACKEND=jax): TensorFlow's "
             "MultiWorkerMirroredStrategy fails in Keras 3's fit (keras-team/keras#20585).",
             backend=keras.backend.backend())
    if not (isinstance(coordinator, str) and ":" in coordinator):
        fail("`coordinator` must be 'host:port' of process 0.", coordinator=coordinator)
    check_int("num_processes", num_processes)
    if not (is_int(process_id) and 0 <= process_id < num_processes):
        fail(f"`process_id` must be 0 .. {num_processes - 1}.", process_id=process_id)
    keras.distribution.initialize(job_addresses=coordinator, num_processes=num_processes,
                                  process_id=process_id)


def process_share() -> tuple[int, int]:
    """(this process's index, the number of processes) of the run: (0, 1) but in a
    multi-process JAX run."""
    if keras.backend.backend() != "jax":
        return 0, 1
    import jax

    return jax.process_index(), jax.process_count()


def barrier(name: str) -> None:
    """Wait until every process of a multi-process run gets here (there, the chief has written
    what the others will read); nothing in a single process."""
    if process_share()[1] > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def shard_batches(ds, batch_size: int, share: tuple[int, int], drop_remainder: bool = True):
    """Process ``share[0]``'s part of every batch of `ds` (batches of `batch_size`): every
    n-th example from the i-th, in batches of batch_size / n, so that the processes' parts of
    a step together are the one-process batch. (An evaluation set's last ``size % n`` examples
    must be dropped beforehand, so that every process has as many batches.)"""
    index, count = share
    if count == 1:
        return ds
    return ds.unbatch().shard(count, index).batch(batch_size // count,
                                                  drop_remainder=drop_remainder)


def synchronize_batch_norm(model) -> int:
    """Make every BatchNormalization layer of `model` compute its training statistics over the
    global batch across replicas (Keras' ``synchronized=True``; it matters under
    MirroredStrategy, and the fused kernel then leaves the layer alone). Returns how many
    layers are synchronized (none on JAX)."""
    from cnn_keras.analysis import iter_layers

    if keras.backend.backend() != "tensorflow":
        # JAX's sharded step already normalises by the global batch, and Keras' JAX batch norm
        # rejects synchronized=True
        return 0
    count = 0
    for layer in iter_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True  # a resumed model's layers already are
            count += 1
    return count
