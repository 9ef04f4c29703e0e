"""The papers' optimizers: SGD with momentum (and RMSprop) with *coupled* L2 weight decay.

Weight decay "applied correctly": the paper's (Caffe/Torch) weight decay adds ``λ·w`` to each
weight's gradient *before* momentum — the gradient of the penalty ``λ/2·Σw²``. Keras'
``regularizers.l2(f)`` adds ``f·Σw²`` (gradient ``2f·w``), so λ = 1e-4 is ``l2(5e-5)``, not
``l2(1e-4)``; and the ``weight_decay`` argument of Keras 3 optimizers is *decoupled* decay
(``w -= lr·λ·w`` outside momentum, as in AdamW), which is a different algorithm once momentum is
on. `L2SGD` does the paper's version: SGD + momentum on ``grad + λ·w`` for conv/dense kernels
(biases and BN parameters are not decayed).
"""

from __future__ import annotations

import re

import keras
import numpy as np
from keras import ops

from cnn_keras.checks import check_number

_REPLICA = re.compile(r"replica_\d+")


class _CoupledL2:
    """Coupled L2 weight decay for a Keras optimizer: each conv or dense kernel's gradient gets
    ``+ l2 · w`` before the optimizer's own update (momentum, RMSprop's scaling); biases and BN
    parameters are not decayed."""

    @staticmethod
    def decays(variable) -> bool:
        """Whether `variable` is decayed: conv and dense kernels, not biases or BN parameters."""
        # a Keras variable has a path; under a tf.distribute strategy the update sees each
        # replica's tf.Variable: "dense/kernel:0" on the first, "dense/kernel/replica_1:0" on
        # the others (missing those left the other replicas' copies undecayed, out of step)
        name = getattr(variable, "path", None) or getattr(variable, "name", "")
        parts = [p for p in name.split(":")[0].split("/") if not _REPLICA.fullmatch(p)]
        return bool(parts) and parts[-1] in ("kernel", "depthwise_kernel", "pointwise_kernel")

    def update_step(self, gradient, variable, learning_rate):
        # Called per variable, at trace time, by every backend (JAX's stateless path too, with
        # the same variable objects), so the variable's path decides.
        if self.l2 and self.decays(variable):
            gradient = ops.add(gradient, ops.multiply(ops.cast(self.l2, gradient.dtype),
                                                      ops.cast(variable, gradient.dtype)))
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "l2": self.l2}


@keras.saving.register_keras_serializable(package="cnn_keras")
class L2SGD(_CoupledL2, keras.optimizers.SGD):
    """SGD (+ momentum) with coupled L2 weight decay: each kernel's gradient gets ``+ l2 · w``.

    This is the weight decay of the ResNet/VGG/AlexNet papers (Caffe, Torch): the update is
    ``v = m·v - lr·(g + λ·w); w += v``. Equivalent to adding ``keras.regularizers.l2(λ / 2)``
    to every kernel; different from Keras' decoupled ``weight_decay`` argument.
    """

    def __init__(self, learning_rate=0.1, momentum=0.9, l2=1e-4, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov,
                         **kwargs)
        self.l2 = check_number("l2", l2, low=0)


@keras.saving.register_keras_serializable(package="cnn_keras")
class L2RMSprop(_CoupledL2, keras.optimizers.RMSprop):
    """RMSprop with coupled L2 weight decay, as TensorFlow's L2 regularisers gave the MobileNet
    and EfficientNet papers: ``g + λ·w`` goes through RMSprop's scaling. Equivalent to
    ``keras.regularizers.l2(λ / 2)`` on every kernel."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, l2=0.0,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, rho=rho, momentum=momentum,
                         epsilon=epsilon, **kwargs)
        self.l2 = check_number("l2", l2, low=0)


def weight_decay_paths(steps: int = 30, lr: float = 0.1, momentum: float = 0.9,
                       decay: float = 0.1, w0: float = 1.0) -> dict[str, list[float]]:
    """One weight under four kinds of "weight decay", with a zero data gradient, so that only the
    decay moves it. Returns {variant: [w after 0, 1, ..., steps updates]}.

    * ``L2SGD(l2=λ)``: the papers' rule (AlexNet Sec. 5: ``v = 0.9 v - λ ε w - ε ∂L/∂w``);
    * ``SGD + l2(λ/2)``: Keras' L2 *penalty* ``λ/2·w²``, whose gradient is ``λ·w``: the same;
    * ``SGD + l2(λ)``: the common mistake, twice the decay;
    * ``SGD(weight_decay=λ)``: Keras' *decoupled* decay (``w -= lr·λ·w`` outside momentum, as in
      AdamW): a different trajectory once momentum is on.
    """
    variants = {
        "L2SGD(l2=λ)  [paper]": (lambda: L2SGD(lr, momentum, l2=decay), None),
        "SGD + regularizers.l2(λ/2)": (lambda: keras.optimizers.SGD(lr, momentum),
                                       keras.regularizers.l2(decay / 2)),
        "SGD + regularizers.l2(λ)": (lambda: keras.optimizers.SGD(lr, momentum),
                                     keras.regularizers.l2(decay)),
        "SGD(weight_decay=λ)  [decoupled]": (
            lambda: keras.optimizers.SGD(lr, momentum, weight_decay=decay), None),
    }
    x, y = np.ones((1, 1), "float32"), np.zeros((1, 1), "float32")
    paths = {}
    for label, (make_optimizer, regularizer) in variants.items():
        model = keras.Sequential([
            keras.Input((1,)),
            keras.layers.Dense(1, use_bias=False, kernel_regularizer=regularizer,
                               kernel_initializer=keras.initializers.Constant(w0)),
        ])
        model.compile(optimizer=make_optimizer(), loss=lambda t, p: 0.0 * ops.sum(p))
        path = [float(w0)]
        for _ in range(steps):
            model.train_on_batch(x, y)
            path.append(float(np.asarray(model.layers[-1].kernel).ravel()[0]))
        paths[label] = path
    return paths
