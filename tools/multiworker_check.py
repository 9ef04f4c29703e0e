"""Does TensorFlow's multi-worker path work with Keras 3's `fit`? Two local worker processes
(TF_CONFIG over loopback) run `MultiWorkerMirroredStrategy` on a small dense net for 2 epochs.

    python tools/multiworker_check.py          # launches the two workers, prints the outcome

With TF 2.21 and Keras 3.15.1 both workers fail in
`fit` with "ValueError: Attempt to convert a value (PerReplica:{...}) with an unsupported type
... to a Tensor", as reported upstream (keras-team/keras issue 20585). So the course's
several-host path is JAX's multi-process initialisation (`jax.distributed.initialize`), Keras
3's supported one, not a home-made replacement of the TensorFlow path.
"""

import json
import os
import subprocess
import sys

PORTS = (23456, 23457)

WORKER = """
import json, os, sys
os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": %s},
                                      "task": {"type": "worker", "index": int(sys.argv[1])}})
import numpy as np, tensorflow as tf, keras
strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(2)])
    m.compile(keras.optimizers.SGD(0.1),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True))
rng = np.random.default_rng(0)
ds = tf.data.Dataset.from_tensor_slices((rng.normal(size=(64, 8)).astype("float32"),
                                         rng.integers(0, 2, 64))).batch(16)
print("losses", m.fit(ds, epochs=2, verbose=0).history["loss"])
"""


def main() -> int:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    code = WORKER % json.dumps([f"localhost:{p}" for p in PORTS])
    workers = [subprocess.Popen([sys.executable, "-c", code, str(i)], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for i in range(len(PORTS))]
    ok = True
    for i, w in enumerate(workers):
        out, err = w.communicate(timeout=300)
        last = (out.strip().splitlines() or ["(no output)"])[-1]
        errors = [line for line in err.splitlines() if "Error" in line]
        print(f"worker {i}: exit {w.returncode}; " + (last if w.returncode == 0
                                                      else (errors or ["?"])[-1][:300]))
        ok &= w.returncode == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
