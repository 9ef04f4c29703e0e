"""TensorFlow-specific settings, kernels and workarounds. Nothing here imports TensorFlow (or
Keras) at module level, so `use_onednn_by_default` can run before TensorFlow is imported.

`use_onednn_by_default` is called by the applications (the `cnn-keras` command, the notebooks,
the test suite), never by `import cnn_keras`: a library must not change TensorFlow's
environment for the program that imports it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tempfile
import warnings


def use_onednn_by_default() -> None:
    """Turn TensorFlow's oneDNN CPU kernels on unless the user chose (TF_ENABLE_ONEDNN_OPTS).

    TensorFlow enables them by default only on CPUs with AVX-512 VNNI/BF16 or AMX; elsewhere
    (CPUs with AVX2 only) its own kernels train far slower (docs/benchmarks.md, "On a CPU
    without AVX-512"). TensorFlow reads the variable once, at import, so this must
    run before the first `import tensorflow` (or `import keras` on the TensorFlow backend).
    """
    if "TF_ENABLE_ONEDNN_OPTS" in os.environ:
        return
    if "tensorflow" in sys.modules:
        warnings.warn("TensorFlow is already imported, so oneDNN can no longer be switched on: "
                      "call use_onednn_by_default() before importing keras or tensorflow.",
                      stacklevel=2)
        return
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"


# TensorFlow's start-up lines that TF_CPP_MIN_LOG_LEVEL cannot silence: INFO lines logged before
# absl is initialised (once per TensorFlow library, so each twice) with absl's banner, the hint
# to rebuild TensorFlow for this CPU's instructions, and, on a machine without a GPU driver, the
# CUDA wheel's failed cuInit.
_STARTUP_NOISE = re.compile(r"(I\d{4} \S+ +\d+ \S+\] |WARNING: All log messages before "
                            r"absl::InitializeLog\(\) is called|To enable the following "
                            r"instructions: .* rebuild TensorFlow|E\d{4} .*cuda_platform\.cc:\d+\] "
                            r"failed call to cuInit)")


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and find its devices with its start-up noise (`_STARTUP_NOISE`) dropped
    from stderr; every other line it writes there is passed on. For applications (the CLI) on
    the TensorFlow backend; does nothing where TensorFlow is imported, absent or not the backend,
    or where TF_CPP_MIN_LOG_LEVEL=0 asks for TensorFlow's INFO lines.
    """
    if (os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow"
            or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0"
            or "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None):
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)  # the C++ logging writes to file descriptor 2, not sys.stderr
        try:
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            log.seek(0)
            sys.stderr.write(drop_startup_noise(log.read().decode(errors="replace")))


def drop_startup_noise(text: str) -> str:
    """`text` without the lines of `_STARTUP_NOISE`."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not _STARTUP_NOISE.match(line))


# --- Training on TensorFlow -----------------------------------------------------------------
def build_training_state(model, x, y, outputs: int) -> None:
    """Create the loss, metric and optimizer variables before the first step.

    Keras does this before `fit` on JAX and PyTorch (`Trainer._symbolic_build`, shapes only),
    but on TensorFlow without a distribution strategy it leaves it to the traced train step,
    and TensorFlow then traces that step twice (the first trace only creates variables): a
    second trace at the start of every run (docs/benchmarks.md). The variables made early
    are the same zeros, so the losses do not change. Uses Keras' private
    `Trainer._symbolic_build` (checked against Keras 3.13-3.15); without it, only the optimizer
    is built early."""
    import numpy as np

    batch = (np.asarray(x, "float32"), y if outputs == 1 else (y,) * outputs)
    symbolic_build = getattr(model, "_symbolic_build", None)  # private (Keras 3.15 has it)
    if symbolic_build is not None:
        symbolic_build(data_batch=batch)
    elif not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def fuse_batch_norm(model) -> int:
    """On TensorFlow, train `model`'s BatchNormalization layers with TensorFlow's fused kernel.

    Keras 3 computes batch norm from separate ops (moments, then normalise), several passes over
    each activation forward and backward; TensorFlow's `FusedBatchNormV3` does one each (oneDNN
    on CPU), much faster (docs/benchmarks.md). The math is the layer's own:
    batch mean and biased variance, the same moving-average update, the same epsilon; inference
    and the saved model are untouched (only this instance's `call` is replaced, in training
    mode). A layer without scale or centre (airbench's) gets ones or zeros in their place.
    Layers the kernel cannot do (not 4-D channels-last, renorm, synchronized) keep Keras' path.
    Returns how many layers were fused.
    """
    return _replace_calls(model, _fusable, _fused_call, "_cnn_keras_fused")


def _replace_calls(model, wanted, make_call, mark: str) -> int:
    """On TensorFlow, replace the `call` of every layer of `model` that `wanted(layer)` accepts
    with `make_call(layer)`, once per layer (marked with the attribute `mark`); how many."""
    import keras

    from cnn_keras.analysis import iter_layers

    if keras.backend.backend() != "tensorflow":
        return 0
    replaced = 0
    for layer in iter_layers(model):
        if wanted(layer) and not getattr(layer, mark, False):
            layer.call = make_call(layer)
            setattr(layer, mark, True)
            replaced += 1
    return replaced


def _fusable(layer) -> bool:
    import keras

    return (type(layer) is keras.layers.BatchNormalization
            and not getattr(layer, "renorm", False)  # Keras 3.14+ (3.13 has no renorm)
            and not layer.synchronized and _rank(layer) == 4 and layer.axis in (-1, 3))


def _rank(layer):
    try:  # a layer used more than once has no single input
        return len(layer.input.shape)
    except (AttributeError, ValueError):
        return None


def _fused_call(layer):
    import tensorflow as tf

    keras_call = layer.call

    def call(inputs, training=None, mask=None):
        if not (training and layer.trainable) or mask is not None:
            return keras_call(inputs, training=training, mask=mask)
        x = inputs if inputs.dtype == tf.bfloat16 else tf.cast(inputs, "float32")
        empty = tf.constant([], "float32")
        channels = tf.shape(x)[-1:]
        scale = tf.cast(layer.gamma, "float32") if layer.scale else tf.ones(channels)
        offset = tf.cast(layer.beta, "float32") if layer.center else tf.zeros(channels)
        # the raw op: tf.nn's wrapper would raise epsilon to cuDNN's minimum 1.001e-5
        y, mean, var = tf.raw_ops.FusedBatchNormV3(
            x=x, scale=scale, offset=offset,
            mean=empty, variance=empty, epsilon=layer.epsilon, data_format="NHWC",
            is_training=True)[:3]
        n = tf.cast(tf.size(x) // tf.shape(x)[-1], "float32")
        mean, var = tf.stop_gradient(mean), tf.stop_gradient(var * (n - 1.0) / n)  # biased
        m = layer.momentum
        layer.moving_mean.assign(layer.moving_mean * m + tf.cast(mean, layer.moving_mean.dtype)
                                 * (1.0 - m))
        layer.moving_variance.assign(layer.moving_variance * m
                                     + tf.cast(var, layer.moving_variance.dtype) * (1.0 - m))
        return tf.cast(y, inputs.dtype)

    return call


# Activations whose math (erf, exp, tanh) TensorFlow's CPU kernels evaluate op by op, with a pass
# over memory for each op forward and backward and, in bfloat16, conversions in every op.
XLA_ACTIVATIONS = frozenset({"gelu", "silu", "swish", "sigmoid", "tanh", "elu", "selu",
                             "softplus", "mish", "hard_sigmoid", "hard_silu", "hard_swish"})


def compile_activations(model) -> int:
    """On TensorFlow, compute `model`'s Activation layers of `XLA_ACTIVATIONS` as one XLA-fused
    kernel each (forward and gradient), in float32 whatever the layer's dtype policy.

    The layer's own function is what XLA compiles, so the math is the same (GELU stays exact,
    with erf); in float32 only the rounding of erf/exp may differ in the last bits, and under
    mixed_bfloat16 the result is rounded to bfloat16 once instead of after every op. ReLU is left
    alone (oneDNN already does it in one pass). Like `fuse_batch_norm` only this instance's
    `call` is replaced; inference on symbolic tensors and the saved model are untouched. Skip it
    when the whole train step is XLA-compiled (`jit_compile=True`): XLA fuses these already.
    Returns how many layers were compiled.
    """
    return _replace_calls(model, _heavy_activation, _xla_activation_call, "_cnn_keras_xla")


def _heavy_activation(layer) -> bool:
    import keras

    return (type(layer) is keras.layers.Activation
            and getattr(layer.activation, "__name__", None) in XLA_ACTIVATIONS)


def _xla_activation_call(layer):
    import tensorflow as tf

    keras_call, activation = layer.call, layer.activation

    @tf.function(jit_compile=True, autograph=False)
    def fused(x):
        return tf.cast(activation(tf.cast(x, "float32")), x.dtype)

    def call(inputs):
        if not isinstance(inputs, tf.Tensor):  # a symbolic Keras tensor: Keras' own path
            return keras_call(inputs)
        return fused(inputs)

    return call
