"""The counting claims, computed from the built nets: each function returns (what we counted,
whether the paper's statement holds). Nets are built inside `keras.StatelessScope` (only their
shapes are read, so no weights need filling)."""

from __future__ import annotations

import functools
import math

import keras
import numpy as np


@functools.cache  # the scoreboard reads some nets twice (MACs, parameters)
def _build(name: str, **kwargs):
    import cnn_keras

    with keras.StatelessScope():
        return cnn_keras.build(name, **kwargs)


def _params(name: str, **kwargs) -> int:
    from cnn_keras.analysis import count_params

    return count_params(_build(name, **kwargs))["trainable"]


def _macs(name: str, **kwargs) -> int:
    from cnn_keras.analysis import count_macs

    return count_macs(_build(name, **kwargs))


def _near(ours: float, paper: float, tolerance: float) -> bool:
    return abs(ours - paper) <= tolerance * paper


# --- AlexNet ------------------------------------------------------------------------------------
def alexnet_params():
    n = _params("alexnet")
    return f"{n:,} parameters (227x227 input, two-GPU grouping)", _near(n, 60e6, 0.05)


# --- VGG ----------------------------------------------------------------------------------------
def _stack(kernels, channels=64):
    """A stack of bias-free convs on C channels: (weights, receptive field)."""
    from cnn_keras.analysis import receptive_field

    x = inputs = keras.Input((32, 32, channels))
    for k in kernels:
        x = keras.layers.Conv2D(channels, k, padding="same", use_bias=False)(x)
    model = keras.Model(inputs, x)
    return model.count_params(), receptive_field(model)


def vgg_three_3x3():
    (w3, rf3), (w7, rf7) = _stack((3, 3, 3)), _stack((7,))
    c2 = 64 * 64
    return (f"C=64: three 3x3 {w3:,} = {w3 // c2}C² weights, field {rf3}; one 7x7 {w7:,} = "
            f"{w7 // c2}C², field {rf7}", rf3 == rf7 and w3 == 27 * c2 and w7 == 49 * c2)


def vgg_two_3x3():
    (w3, rf3), (w5, rf5) = _stack((3, 3)), _stack((5,))
    c2 = 64 * 64
    return (f"C=64: two 3x3 {w3:,} = {w3 // c2}C² weights, field {rf3}; one 5x5 {w5:,} = "
            f"{w5 // c2}C², field {rf5}", rf3 == rf5 and w3 == 18 * c2 and w5 == 25 * c2)


def vgg16_params():
    n = _params("vgg16")
    return f"{n:,} parameters", round(n / 1e6) == 138


# --- GoogLeNet ----------------------------------------------------------------------------------
def googlenet_vs_alexnet():
    g, a = _params("googlenet"), _params("alexnet")
    return (f"AlexNet {a:,} / GoogLeNet {g:,} = {a / g:.1f}x fewer (Table 1 sums to ~6.8M: "
            f"60M / 6.8M = 8.8x)", a / g >= 11.5)


def googlenet_macs():
    m = _macs("googlenet")
    return f"{m / 1e9:.3f}G multiply-adds at 224x224", _near(m, 1.5e9, 0.1)


def googlenet_reductions():
    from cnn_keras.models.googlenet import inception_module_cost

    c = inception_module_cost(192, "3a", 28)
    r, n = c["reduced"], c["naive"]
    return (f"module 3a on 28x28x192: {r['macs'] / 1e6:.0f}M MACs reduced vs "
            f"{n['macs'] / 1e6:.0f}M naive ({n['macs'] / r['macs']:.1f}x), output "
            f"{r['out_channels']} vs {n['out_channels']} channels", n["macs"] > 2 * r["macs"])


# --- ResNet -------------------------------------------------------------------------------------
def resnet_option_a():
    p, r = _params("plain20"), _params("resnet20")
    p56, r56 = _params("plain56"), _params("resnet56")
    return (f"plain-20 {p:,} = ResNet-20 {r:,}; plain-56 {p56:,} = ResNet-56 {r56:,}",
            p == r and p56 == r56)


def resnet_imagenet_flops():
    from cnn_keras.models.resnet import PAPER_IMAGENET_FLOPS

    ours = {d: _macs(f"resnet{d}") for d in (34, 50)}
    text = ", ".join(f"ResNet-{d} {m / 1e9:.2f}G (paper {PAPER_IMAGENET_FLOPS[d] / 1e9:g})"
                     for d, m in ours.items())
    return text, all(_near(m, PAPER_IMAGENET_FLOPS[d], 0.05) for d, m in ours.items())


def plain56_gradients():
    from cnn_keras.analysis import gradient_norms

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, 64)
    import cnn_keras

    norms = gradient_norms(cnn_keras.build("plain56"), x, y)
    convs = [n for name, n in norms if "conv" in name]
    first, last = convs[0], convs[-1]
    # rounded to an order of magnitude: the digits differ between CPUs' kernels
    ratio = 10 ** round(math.log10(first / last))
    return (f"plain-56 at initialisation (64 random inputs, seed 0): the first conv's gradient "
            f"is ~{ratio:,}x the last conv's: it grows toward the input (explodes), it does "
            f"not vanish", first > last)


# --- DenseNet -----------------------------------------------------------------------------------
def densenet_bc100_params():
    n = _params("densenet_bc", depth=100)
    return f"DenseNet-BC L=100 k=12: {n:,} parameters", round(n / 1e5) == 8


# --- MobileNet ----------------------------------------------------------------------------------
def mobilenet_separable_cost():
    # Sec. 3.1: D_K^2 M D_F^2 + M N D_F^2 against D_K^2 M N D_F^2; a 3x3 layer of the
    # 14x14x512 stage, counted from the built layers
    from cnn_keras.analysis import layer_macs

    x = inputs = keras.Input((14, 14, 512))
    dw = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)
    pw = keras.layers.Conv2D(512, 1, use_bias=False)
    full = keras.layers.Conv2D(512, 3, padding="same", use_bias=False)
    keras.Model(inputs, [pw(dw(x)), full(x)])
    sep = layer_macs(dw) + layer_macs(pw)
    ratio = layer_macs(full) / sep
    return (f"3x3 layer, 14x14x512 -> 512: separable {sep / 1e6:.1f}M vs full "
            f"{layer_macs(full) / 1e6:.1f}M MACs = {ratio:.2f}x fewer", 8 <= ratio <= 9)


def mobilenet_cost():
    m, p = _macs("mobilenet"), _params("mobilenet")
    return (f"{m / 1e6:.0f}M multiply-adds, {p / 1e6:.2f}M trainable parameters",
            _near(m, 569e6, 0.02) and round(p / 1e5) == 42)


def mobilenet_full_cost():
    sep, full = _macs("mobilenet"), _macs("mobilenet", conv="full")
    p = _params("mobilenet", conv="full")
    return (f"full convs: {full / 1e6:.0f}M multiply-adds, {p / 1e6:.1f}M parameters "
            f"({full / sep:.2f}x the separable net's MACs)",
            _near(full, 4866e6, 0.02) and round(p / 1e5) == 293)


def mobilenet_shallow_cost():
    thin, shallow = _macs("mobilenet", alpha=0.75), _macs("mobilenet", shallow=True)
    pt, ps = _params("mobilenet", alpha=0.75), _params("mobilenet", shallow=True)
    return (f"0.75 MobileNet {thin / 1e6:.0f}M / {pt / 1e6:.2f}M vs shallow {shallow / 1e6:.0f}M "
            f"/ {ps / 1e6:.2f}M (MACs / parameters)",
            _near(thin, 325e6, 0.02) and _near(shallow, 307e6, 0.02))


# --- EfficientNet -------------------------------------------------------------------------------
def efficientnet_constraint():
    a, b, g = 1.2, 1.1, 1.15
    value = a * b ** 2 * g ** 2
    return f"alpha·beta²·gamma² = 1.2·1.1²·1.15² = {value:.3f}", _near(value, 2.0, 0.05)


def efficientnet_b0_cost():
    m, p = _macs("efficientnet_b0"), _params("efficientnet_b0")
    return (f"B0: {m / 1e9:.3f}G multiply-adds, {p / 1e6:.2f}M trainable parameters",
            _near(m, 0.39e9, 0.05) and _near(p, 5.3e6, 0.02))
