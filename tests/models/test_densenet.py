"""DenseNet builders: exact parameter counts, keras.applications equivalence, validation."""

import keras
import numpy as np
import pytest

import cnn_keras
from cnn_keras.analysis import count_macs, count_params
from cnn_keras.models.densenet import densenet, densenet_cifar, densenet_imagenet

from built import built, infer, quickly

# (model, trainable, total); 121/169/201 = keras.applications.DenseNet121/169/201(weights=None)
IMAGENET_COUNTS = [
    ("densenet121", 7_978_856, 8_062_504),
    ("densenet169", 14_149_480, 14_307_880),
    ("densenet201", 20_013_928, 20_242_984),
    ("densenet161", 28_681_000, 28_900_936),  # trainable = torchvision densenet161 (28,681,000)
    ("densenet264", 33_337_704, 33_736_232),  # paper-scale 33.3M (no torchvision model)
]
KERAS_APPS = {"densenet121": "DenseNet121", "densenet169": "DenseNet169",
              "densenet201": "DenseNet201"}
CIFAR_COUNTS = [("densenet_bc", 769_162), ("densenet40", 1_019_722)]  # paper: 0.8M, 1.0M


def _weighted_names(model):
    return [layer.name for layer in model.layers if layer.weights]


@pytest.mark.parametrize("name,trainable,total", IMAGENET_COUNTS)
def test_imagenet_counts(name, trainable, total):
    model = built(name)
    p = count_params(model)
    assert (p["trainable"], p["total"]) == (trainable, total)
    assert model.output_shape == (None, 1000)
    assert model.name == name


@pytest.mark.parametrize("name", sorted(KERAS_APPS))
def test_equals_keras_applications(name):
    ref = quickly(getattr(keras.applications, KERAS_APPS[name]), weights=None)
    ours = built(name)
    assert count_params(ours) == count_params(ref)
    assert len(ours.layers) == len(ref.layers)
    assert _weighted_names(ours) == _weighted_names(ref)


# Multiply-adds at 224x224 (conv + dense); 121/169/201 = keras.applications (REFERENCE.md:
# 2.834 / 3.360 / 4.291 GMACs). The paper's Fig. 3 puts DenseNet-121..264 at ~3-6 GFLOPs.
IMAGENET_MACS = {"densenet121": 2_834_161_664, "densenet169": 3_359_843_328,
                 "densenet201": 4_291_365_888, "densenet161": 7_727_907_072,
                 "densenet264": 5_751_653_376}


@pytest.mark.parametrize("name", ["densenet121", "densenet161"])
def test_imagenet_macs(name):
    assert count_macs(built(name)) == IMAGENET_MACS[name]


def test_cifar_macs_and_budget_vs_resnet20():
    # DenseNet-BC L=52, k=12 has ResNet-20's parameter budget (notebook 05's comparison)
    dn = cnn_keras.densenet_bc(depth=52)
    rn = cnn_keras.resnet20()
    assert count_params(dn)["trainable"] == 264_586
    assert count_params(rn)["trainable"] == 269_722
    assert count_macs(dn) == 105_819_852 and count_macs(rn) == 40_551_040


@pytest.mark.parametrize("name,trainable", CIFAR_COUNTS)
def test_cifar_counts(name, trainable):
    model = quickly(cnn_keras.build, name)
    assert count_params(model)["trainable"] == trainable
    assert count_macs(model) == {"densenet_bc": 287_929_692, "densenet40": 264_812_928}[name]
    assert abs(trainable - {"densenet_bc": 0.8e6, "densenet40": 1.0e6}[name]) < 0.05e6
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 10)
    assert model.name == name


def test_layer_input_width_grows_by_k():
    # layer l of a block sees k0 + k(l - 1) channels: conv2_block3 of DenseNet-121 -> 64 + 2*32
    model = cnn_keras.densenet121(include_top=False, input_shape=(64, 64, 3))
    assert model.get_layer("conv2_block3_1_conv").input.shape[-1] == 64 + 2 * 32
    assert model.get_layer("conv2_block3_1_conv").filters == 4 * 32  # bn_size * k
    assert model.get_layer("pool2_conv").filters == (64 + 6 * 32) // 2  # theta = 0.5
    # DenseNet-40: 16 + 12 * 12 channels after the first block, no compression
    m40 = cnn_keras.densenet40(include_top=False)
    assert m40.get_layer("pool2_conv").filters == 16 + 12 * 12
    assert m40.get_layer("conv2_block12_2_conv").input.shape[-1] == 16 + 11 * 12


def test_growth_rate_and_compression_change_counts():
    base = count_params(cnn_keras.densenet_bc())["trainable"]
    assert count_params(cnn_keras.densenet_bc(growth_rate=24))["trainable"] > base
    assert count_params(cnn_keras.densenet_bc(compression=1.0))["trainable"] > base
    assert count_params(cnn_keras.densenet_bc(depth=40))["trainable"] < base
    small = densenet(stem="cifar", blocks=(2, 2), growth_rate=4, bn_size=None, compression=1.0,
                     init_features=8, classes=10, input_shape=(32, 32, 3))
    # conv1 3*3*3*8; block conv 3x3: (8->4), (12->4) + BN on inputs; transition 16->16; ...
    bn = 2  # trainable BN weights per channel
    expected = (27 * 8 + bn * 8 + 9 * 8 * 4 + bn * 12 + 9 * 12 * 4  # conv1, block 1
                + bn * 16 + 16 * 16  # transition (no compression)
                + bn * 16 + 9 * 16 * 4 + bn * 20 + 9 * 20 * 4  # block 2
                + bn * 24 + 24 * 10 + 10)  # final BN, classifier
    assert count_params(small)["trainable"] == expected
    half = densenet(stem="cifar", blocks=(2, 2), growth_rate=4, bn_size=None, compression=0.5,
                    init_features=8, classes=10, input_shape=(32, 32, 3))
    # theta = 0.5: the transition keeps 8 of 16 channels, so block 2 and the head see 8 fewer
    fewer = 16 * 8 + 8 * (bn + 9 * 4) * 2 + 8 * bn + 8 * 10
    assert count_params(half)["trainable"] == expected - fewer


@pytest.mark.parametrize("builder,kwargs,arg,hint", [
    (densenet_cifar, {"depth": 41}, "depth", "4 + 6n"),
    (densenet_cifar, {"depth": 41, "bottleneck": False}, "depth", "4 + 3n"),
    (densenet_cifar, {"depth": 4}, "depth", ">= 10"),
    (densenet_cifar, {"growth_rate": 0}, "growth_rate", "positive integer"),
    (densenet, {"compression": 0}, "compression", "(0, 1]"),
    (densenet, {"compression": 1.5}, "compression", "(0, 1]"),
    (densenet, {"blocks": ()}, "blocks", "non-empty"),
    (densenet, {"bn_size": -1}, "bn_size", "positive integer"),
    (densenet_imagenet, {"depth": 100}, "depth", "121"),
])
def test_validation(builder, kwargs, arg, hint):
    with pytest.raises(ValueError, match=f"Received: {arg}=") as info:
        builder(**kwargs)
    assert hint in str(info.value)


def test_densenet_bc_error_lists_valid_depths():
    with pytest.raises(ValueError, match=r"valid: 10, 16, 22.*Received: depth=99"):
        cnn_keras.densenet_bc(depth=99)
    with pytest.raises(ValueError, match="Received: weights='imagenet'"):
        cnn_keras.densenet161(weights="imagenet")  # not in keras.applications


@pytest.mark.slow
def test_transfer_weights_gives_same_outputs():
    ref = keras.applications.DenseNet121(weights=None)
    ours = cnn_keras.densenet121()
    rng = np.random.default_rng(0)
    for layer in ref.layers:  # random BN statistics so BN layers are really compared
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, m, v = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.normal(0, 0.1, b.shape),
                               rng.normal(0, 0.1, m.shape), rng.uniform(0.5, 1.5, v.shape)])
    assert cnn_keras.transfer_weights(ref, ours) == len(_weighted_names(ref))
    x = rng.uniform(-1, 1, (2, 224, 224, 3)).astype("float32")
    a, b = infer(ours, x), infer(ref, x)
    assert np.max(np.abs(a - b)) < 1e-4
