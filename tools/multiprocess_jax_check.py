"""Keras 3's several-host path, on one machine: two JAX processes joined over loopback
(`keras.distribution.initialize`, Gloo on CPU), each feeding its half of every global batch to
`keras.distribution.DataParallel`, against the losses of one process with the whole batch.

    python tools/multiprocess_jax_check.py     # needs jax; launches the two processes

Expected: both processes print the single-process losses of `tools/distribution_equivalence.py
jax` (a conv net with batch norm, 4 steps of a global batch of 16), to float rounding; the
measured difference: docs/distributed.md.
"""

import ast
import os
import subprocess
import sys

PROCESS = """
import os, sys
os.environ["KERAS_BACKEND"] = "jax"
pid, count = int(sys.argv[1]), int(sys.argv[2])
import keras, numpy as np
if count > 1:
    keras.distribution.initialize(job_addresses="localhost:34567", num_processes=count,
                                  process_id=pid)
    import jax
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
keras.utils.set_random_seed(0)
m = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(8, 3, padding="same"),
                      keras.layers.BatchNormalization(), keras.layers.ReLU(),
                      keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(4)])
m.compile(keras.optimizers.SGD(0.1, momentum=0.9),
          keras.losses.SparseCategoricalCrossentropy(from_logits=True))
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 16, 16, 3)).astype("float32")
y = rng.integers(0, 4, 64)
share = 16 // count  # this process's part of each global batch of 16
print([float(m.train_on_batch(x[i + share * pid:i + share * (pid + 1)],
                              y[i + share * pid:i + share * (pid + 1)]))
       for i in range(0, 64, 16)])
"""


def run(count: int) -> list[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    procs = [subprocess.Popen([sys.executable, "-c", PROCESS, str(i), str(count)], env=env,
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(count)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        if p.returncode:
            raise SystemExit(err[-2000:])
    return [out.strip().splitlines()[-1] for out, _ in outs]


def main() -> None:
    one = ast.literal_eval(run(1)[0])  # the list of losses the child printed
    for i, line in enumerate(run(2)):
        two = ast.literal_eval(line)
        print(f"process {i} of 2: max |loss difference| to one process "
              f"{max(abs(a - b) for a, b in zip(one, two)):.2g}")


if __name__ == "__main__":
    main()
