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


def _path(variable) -> str:
    """A variable's Keras path ("dense/kernel") as an optimizer's update step sees it."""
    # a Keras variable has a path; the TensorFlow backend's update sees its tf.Variable, named
    # "dense/kernel:0", and under a tf.distribute strategy each replica's copy
    # ("dense/kernel/replica_1:0"): all of them are the same Keras variable
    name = getattr(variable, "path", None) or getattr(variable, "name", "")
    return "/".join(p for p in name.split(":")[0].split("/") if not _REPLICA.fullmatch(p))


class _CoupledL2:
    """Coupled L2 weight decay for a Keras optimizer: each conv or dense kernel's gradient gets
    ``+ l2 · w`` before the optimizer's own update (momentum, RMSprop's scaling); biases and BN
    parameters are not decayed."""

    @staticmethod
    def decays(variable) -> bool:
        """Whether `variable` is decayed: conv and dense kernels, not biases or BN parameters."""
        # (by the variable's own name: a replica's copy missed here would go undecayed, out of
        # step with the others)
        parts = _path(variable).split("/")
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


@keras.saving.register_keras_serializable(package="cnn_keras")
class GroupSGD(keras.optimizers.Optimizer):
    """SGD with (Nesterov) momentum in PyTorch's form, coupled weight decay on every variable,
    a learning-rate multiplier per group of variables, and variables that can be frozen in
    the middle of training: what PyTorch does with ``param_groups`` and ``requires_grad``,
    which airbench's recipe uses (`training.speedrun`).

    Per variable ``w`` with gradient ``g``, group multiplier ``m`` and gate ``f`` (1, or 0 once
    frozen): ``d = f·(m·g + l2·w)``; ``buf = μ·buf + d``; ``w -= lr·f·(d + μ·buf)`` (Nesterov)
    or ``w -= lr·f·buf``. A multiplier on the gradient only is PyTorch's group with
    ``lr·m`` and ``weight_decay / m``: the weight decay stays the same step. In PyTorch's form
    the schedule scales the whole step (Keras' SGD puts the learning rate inside the momentum
    buffer: the same only while the rate is constant).

    ``lr_multipliers``: ``{name: m}``, where a variable belongs to the group whose name is its
    path or the last part of it (``{"beta": 64.0}``: every batch norm's offset). `freeze(v)`
    zeroes a variable's gate: it is not changed after that (nor its momentum).
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, nesterov=True, l2=0.0,
                 lr_multipliers=None, name="group_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_open=True)
        self.nesterov = bool(nesterov)
        self.l2 = check_number("l2", l2, low=0)
        self.lr_multipliers = dict(lr_multipliers or {})
        for key, m in self.lr_multipliers.items():
            check_number(f"lr_multipliers[{key!r}]", m, low=0)

    def multiplier(self, variable) -> float:
        """The learning-rate multiplier of `variable`'s group (1 outside every group)."""
        path = _path(variable)
        for key, m in self.lr_multipliers.items():
            if path == key or path.endswith("/" + key):
                return float(m)
        return 1.0

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.buffers = [self.add_variable_from_reference(v, "momentum") for v in variables]
        self.gates = [self.add_variable((), initializer="ones", name=f"gate_{i}")
                      for i, _ in enumerate(variables)]

    def freeze(self, variable, frozen: bool = True) -> None:
        """Stop (or restart) updating `variable`, as PyTorch's ``requires_grad = False``."""
        self.gates[self._get_variable_index(variable)].assign(0.0 if frozen else 1.0)

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        buf, gate = self.buffers[i], ops.cast(self.gates[i], variable.dtype)
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        d = ops.multiply(gate, ops.add(ops.multiply(self.multiplier(variable), g),
                                       ops.multiply(self.l2, variable)))
        new_buf = ops.add(buf, ops.multiply(gate, ops.subtract(
            ops.add(ops.multiply(self.momentum, buf), d), buf)))
        self.assign(buf, new_buf)
        step = ops.add(d, ops.multiply(self.momentum, new_buf)) if self.nesterov else new_buf
        self.assign_sub(variable, ops.multiply(ops.multiply(lr, gate), step))

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov,
                "l2": self.l2, "lr_multipliers": self.lr_multipliers}
