"""Does data-parallel training on 2 devices give the losses of one device at the same global
batch? A small conv net (with no batch norm, Keras' batch norm, or its synchronized form) is
trained for 4 steps of 16 images both ways, and the largest loss difference printed.

    python tools/distribution_equivalence.py tensorflow   # MirroredStrategy on 2 logical CPUs
    python tools/distribution_equivalence.py jax          # keras.distribution.DataParallel on
                                                          # 2 host devices (needs jax)

What it printed, and why Keras' batch norm differs under MirroredStrategy: docs/distributed.md.
"""

import os
import sys

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "tensorflow"
os.environ["KERAS_BACKEND"] = BACKEND
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if BACKEND == "jax":
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import numpy as np  # noqa: E402

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 16, 16, 3)).astype("float32")
Y = rng.integers(0, 4, 64)


def model(bn):
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    norm = [layers.BatchNormalization(synchronized=bn == "sync")] if bn else []
    return keras.Sequential([keras.Input((16, 16, 3)), layers.Conv2D(8, 3, padding="same"),
                             *norm, layers.ReLU(), layers.GlobalAveragePooling2D(),
                             layers.Dense(4)])


def losses(bn, scope=None) -> list[float]:
    import contextlib

    import keras

    with scope or contextlib.nullcontext():
        m = model(bn)
        m.compile(keras.optimizers.SGD(0.1, momentum=0.9),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    if BACKEND == "tensorflow":
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((X, Y)).batch(16)
        return m.fit(ds, epochs=2, verbose=0, shuffle=False).history["loss"]
    return [float(m.train_on_batch(X[i:i + 16], Y[i:i + 16])) for i in range(0, 64, 16)]


def main() -> None:
    if BACKEND == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        for bn in (None, "plain", "sync"):
            one, two = losses(bn), losses(bn, strategy.scope())
            print(f"MirroredStrategy, batch norm {bn}: max |loss difference| "
                  f"{max(abs(a - b) for a, b in zip(one, two)):.2g}")
    else:
        import jax
        import keras

        one = losses("plain")
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
        two = losses("plain")
        print(f"JAX DataParallel on {len(jax.devices())} devices, batch norm: max |loss "
              f"difference| {max(abs(a - b) for a, b in zip(one, two)):.2g}")


if __name__ == "__main__":
    main()
