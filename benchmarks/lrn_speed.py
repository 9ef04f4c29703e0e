"""LRN's training cost: forward + backward of `LocalResponseNormalization` at the shapes of
AlexNet's Fig. 1 net with LRN (batch 128: 32x32x32 after conv1, 15x15x32 after conv2), its
`d ** -beta` written as `power` (the direct form) and as `exp(-beta * log d)` (the
layer's), beside `tf.nn.local_response_normalization` and the window sum alone. Prints
milliseconds per step (the best of --rounds rounds of --steps steps), the largest difference
from the `power` form, and the machine.

    python benchmarks/lrn_speed.py [--rounds 5] [--steps 10]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import tensorflow as tf
from keras import ops

from cnn_keras.layers import ALEXNET_LRN, LocalResponseNormalization
from cnn_keras.runinfo import hardware

K, ALPHA, BETA, SIZE = (ALEXNET_LRN[key] for key in ("k", "alpha", "beta", "size"))


def _band(channels: int) -> np.ndarray:
    idx = np.arange(channels)
    return (np.abs(idx[:, None] - idx[None, :]) <= SIZE // 2).astype("float32")


def _power_form(x):
    window = ops.matmul(ops.square(x), _band(x.shape[-1]))
    return x / ops.power(K + ALPHA * window, BETA)


def _tf_nn(x):
    return tf.nn.local_response_normalization(x, depth_radius=SIZE // 2, bias=K, alpha=ALPHA,
                                              beta=BETA)


def _window_only(x):
    return ops.matmul(ops.square(x), _band(x.shape[-1]))


def _ms_per_step(fn, x, rounds: int, steps: int) -> float:
    @tf.function
    def step(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(tf.square(fn(inputs)))
        return tape.gradient(loss, inputs)

    step(x)  # trace once outside the timing
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step(x).numpy()
        best = min(best, (time.perf_counter() - start) / steps)
    return best * 1e3


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)
    layer = LocalResponseNormalization()
    forms = {"power (first form)": _power_form, "exp-log (the layer)": layer,
             "tf.nn.local_response_normalization": _tf_nn, "window sum alone": _window_only}
    hw = hardware()
    print(f"machine: {hw['cpu']} (family/model {hw.get('cpu_family_model')}), "
          f"{hw['cores']} cores, widest SIMD {hw['cpu_simd']}")
    for shape in ((128, 32, 32, 32), (128, 15, 15, 32)):
        x = tf.random.stateless_normal(shape, seed=(0, 0)) * 3.0
        reference = _power_form(x)
        print(f"\ninput {shape}: ms per forward + backward step")
        for name, fn in forms.items():
            ms = _ms_per_step(fn, x, args.rounds, args.steps)
            if fn is _window_only:  # not an LRN: nothing to compare
                print(f"  {name:36s} {ms:8.2f}")
                continue
            diff = float(ops.max(ops.abs(fn(x) - reference)))
            print(f"  {name:36s} {ms:8.2f}   max |diff| from power {diff:.1e}")


if __name__ == "__main__":
    main()
