"""GoogLeNet / Inception v1 builders: exact counts, modules, aux heads, training, validation."""

import inspect
import warnings

import keras
import numpy as np
import pytest

import cnn_keras
from cnn_keras.analysis import count_macs, count_params
from cnn_keras.experiments.studies import STUDIES
from cnn_keras.models.googlenet import (
    AUX_LOSS_WEIGHTS,
    INCEPTION_V1,
    STAGES,
    compile_with_aux,
    inception_module,
    inception_module_cost,
    inception_v1,
    min_input_size,
    scaled_row,
    strip_aux,
)
from cnn_keras.models.vgg import scaled_filters

from built import built, infer, quickly

# (model, options, exact trainable parameters, output shape, MACs) — REFERENCE.md [R] for
# googlenet (paper-faithful: true 5x5, biases, no BN); googlenet_cifar measured here.
COUNTS = [
    ("googlenet", {}, 6_998_552, (None, 1000), 1_582_671_872),
    ("googlenet", {"aux_logits": True}, 13_378_280, [(None, 1000)] * 3, 1_591_044_096),
    ("googlenet_cifar", {}, 5_864_762, (None, 10), 1_447_241_728),
    ("googlenet_cifar", {"aux_logits": True}, 10_214_990, [(None, 10)] * 3, 1_453_586_432),
    # naive=True: the naive modules of Fig. 2a everywhere
    ("googlenet_cifar", {"naive": True}, 92_511_418, (None, 10), 15_790_424_352),
    ("googlenet_cifar", {"naive": True, "aux_logits": True}, 97_230_286, [(None, 10)] * 3,
     15_802_667_296),
]


def _x(shape, n=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, *shape)).astype("float32")


@pytest.mark.parametrize("name,kwargs,trainable,shape,macs", COUNTS)
def test_counts_macs_and_shapes(name, kwargs, trainable, shape, macs):
    model = built(name, **kwargs)  # read only; the naive nets are kept for the tests below
    assert count_params(model) == {"trainable": trainable, "non_trainable": 0,
                                   "total": trainable}
    assert model.output_shape == shape
    assert count_macs(model) == macs
    assert model.name == name


def test_paper_figures():
    model = cnn_keras.googlenet()
    assert count_macs(model) / 1e9 == pytest.approx(1.583, abs=0.0005)  # paper: ~1.5G
    assert count_params(model)["trainable"] / 1e6 == pytest.approx(6.8, abs=0.25)  # paper: 6.8M
    assert model.input_shape == (None, 224, 224, 3)


def test_nine_modules_with_true_5x5_and_table_widths():
    model = cnn_keras.googlenet()
    concats = [la for la in model.layers if la.name.endswith("_concat")]
    assert [la.name for la in concats] == [f"inception_{k}_concat" for k in INCEPTION_V1]
    for key, row in INCEPTION_V1.items():
        conv5 = model.get_layer(f"inception_{key}_5x5")
        assert conv5.kernel_size == (5, 5) and conv5.kernel.shape[-2:] == (row.n5x5_reduce,
                                                                            row.n5x5)
        assert model.get_layer(f"inception_{key}_3x3").kernel_size == (3, 3)
        pool = model.get_layer(f"inception_{key}_pool")
        assert pool.pool_size == (3, 3) and pool.strides == (1, 1)
        assert model.get_layer(f"inception_{key}_concat").output.shape[-1] == (
            row.n1x1 + row.n3x3 + row.n5x5 + row.pool_proj)
    # Table 1 output sizes: 28x28x256 (3a), 14x14x512 (4a), 7x7x1024 (5b).
    assert model.get_layer("inception_3a_concat").output.shape[1:] == (28, 28, 256)
    assert model.get_layer("inception_4a_concat").output.shape[1:] == (14, 14, 512)
    assert model.get_layer("inception_5b_concat").output.shape[1:] == (7, 7, 1024)
    # every conv has a bias and a ReLU; no batch norm; two LRNs in the stem
    convs = [la for la in model.layers if isinstance(la, keras.layers.Conv2D)]
    assert len(convs) == 3 + 9 * 6
    assert all(c.use_bias and c.activation is keras.activations.relu for c in convs)
    assert not any(isinstance(la, keras.layers.BatchNormalization) for la in model.layers)
    assert [la.name for la in model.layers if "norm" in la.name] == ["pool1_norm1",
                                                                    "conv2_norm2"]
    assert model.get_layer("dropout").rate == 0.4


def test_options_lrn_and_dropout():
    m = inception_v1(lrn=False, dropout=0.2)
    assert not any("norm" in la.name for la in m.layers)
    assert m.get_layer("dropout").rate == 0.2
    assert count_params(m)["trainable"] == 6_998_552  # LRN has no weights
    c = cnn_keras.googlenet_cifar(lrn=True)
    assert c.get_layer("conv1_norm1").output.shape[1:] == (32, 32, 192)


def test_aux_heads_outputs_and_shapes():
    model = cnn_keras.googlenet(aux_logits=True, classes=7, classifier_activation=None)
    assert model.output_names == ["predictions", "aux1_predictions", "aux2_predictions"]
    assert model.output_shape == [(None, 7)] * 3
    for i, (key, c_in) in enumerate([("4a", 512), ("4d", 528)], start=1):
        pool = model.get_layer(f"aux{i}_avg_pool")
        assert (pool.pool_size, pool.strides, pool.padding) == ((5, 5), (3, 3), "valid")
        assert pool.input.shape[1:] == (14, 14, c_in)
        assert pool.input is model.get_layer(f"inception_{key}_concat").output
        assert model.get_layer(f"aux{i}_conv").output.shape[1:] == (4, 4, 128)
        assert model.get_layer(f"aux{i}_fc").kernel.shape == (2048, 1024)
        assert model.get_layer(f"aux{i}_dropout").rate == 0.7
        assert model.get_layer(f"aux{i}_predictions").activation is keras.activations.linear
    cifar = cnn_keras.googlenet_cifar(aux_logits=True)
    assert cifar.get_layer("aux1_avg_pool").input.shape[1:] == (16, 16, 512)
    assert cifar.get_layer("aux2_conv").output.shape[1:] == (4, 4, 128)


def test_smallest_aux_input_builds_and_runs():
    assert min_input_size("imagenet", True) == 65 and min_input_size("cifar", True) == 9
    assert min_input_size("imagenet") == 32 and min_input_size("cifar") == 8
    m = cnn_keras.googlenet(aux_logits=True, input_shape=(65, 65, 3), classes=3)
    assert m.get_layer("aux1_conv").output.shape[1:] == (1, 1, 128)
    outs = infer(m, _x((65, 65, 3)))
    assert [o.shape for o in outs] == [(2, 3)] * 3


def test_compile_with_aux_weights_losses_and_trains():
    keras.utils.set_random_seed(0)
    model = cnn_keras.googlenet_cifar(aux_logits=True, input_shape=(16, 16, 3), classes=4)
    assert AUX_LOSS_WEIGHTS == (1.0, 0.3, 0.3)
    compile_with_aux(model, keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy",
                     metrics=["accuracy"])
    x, y = _x((16, 16, 3), n=4), np.array([0, 1, 2, 3])
    logs = model.evaluate(x, (y, y, y), verbose=0, return_dict=True)
    main, a1, a2 = (logs[f"{o}_loss"] for o in ("predictions", "aux1_predictions",
                                                  "aux2_predictions"))
    assert logs["loss"] == pytest.approx(main + 0.3 * a1 + 0.3 * a2, rel=1e-5)
    assert "predictions_accuracy" in logs and "aux1_predictions_accuracy" not in logs
    before = [w.numpy().copy() for w in model.trainable_weights]
    out = model.train_on_batch(x, (y, y, y), return_dict=True)
    assert np.isfinite(out["loss"])
    assert all(not np.array_equal(b, w.numpy())
               for b, w in zip(before, model.trainable_weights))  # the aux heads train too


def test_strip_aux_shares_weights_and_matches_main_output():
    train = cnn_keras.googlenet_cifar(aux_logits=True, input_shape=(16, 16, 3))
    inference = strip_aux(train)
    assert inference.output_shape == (None, 10) and inference.output_names == ["predictions"]
    assert not any(la.name.startswith("aux") for la in inference.layers)
    assert inference.get_layer("predictions") is train.get_layer("predictions")
    assert count_params(inference)["trainable"] == count_params(
        cnn_keras.googlenet_cifar(input_shape=(16, 16, 3)))["trainable"]
    x = _x((16, 16, 3))
    np.testing.assert_allclose(infer(inference, x), infer(train, x)[0],
                               rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="Received: train_model="):
        strip_aux(inference)
    with pytest.raises(ValueError, match="Received: model="):
        compile_with_aux(inference, "sgd", "mse")


@pytest.mark.parametrize("name,size,fmap", [("googlenet", 64, 2), ("googlenet_cifar", 24, 6)])
def test_headless_pooling_and_custom_shape(name, size, fmap):
    for pooling, shape in [(None, (None, fmap, fmap, 1024)), ("avg", (None, 1024)),
                           ("max", (None, 1024))]:
        m = cnn_keras.build(name, include_top=False, pooling=pooling,
                            input_shape=(size, size, 3))
        assert m.output_shape == shape
        assert not any(la.name in ("predictions", "dropout") for la in m.layers)
    m = cnn_keras.build(name, include_top=False, input_shape=(None, None, 3), pooling="avg")
    assert m.input_shape == (None, None, None, 3)
    m = cnn_keras.build(name, input_shape=(size, size, 1), classes=5)
    assert m.output_shape == (None, 5)


def test_input_tensor_and_logits():
    inp = keras.Input((40, 40, 3))
    m = cnn_keras.googlenet_cifar(input_tensor=inp, classes=7, classifier_activation=None)
    assert m.output_shape == (None, 7)
    assert m.get_layer("predictions").activation is keras.activations.linear
    out = infer(m, _x((40, 40, 3)))
    assert not np.allclose(out.sum(axis=1), 1.0)  # logits, not probabilities
    base = keras.Input((64, 64, 3))
    resized = keras.layers.Resizing(32, 32)(base)
    m2 = cnn_keras.googlenet_cifar(input_tensor=resized, aux_logits=True)
    assert m2.input_shape == (None, 64, 64, 3) and len(m2.outputs) == 3


def test_serialization_round_trip(tmp_path):
    model = cnn_keras.googlenet_cifar(aux_logits=True, lrn=True, input_shape=(16, 16, 3))
    x = _x((16, 16, 3), seed=1)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for a, b in zip(infer(loaded, x), infer(model, x)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    wpath = tmp_path / "m.weights.h5"
    model.save_weights(wpath)
    again = cnn_keras.googlenet_cifar(aux_logits=True, lrn=True, input_shape=(16, 16, 3),
                                      weights=str(wpath))
    np.testing.assert_allclose(infer(again, x)[0], infer(model, x)[0],
                               rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="Received: weights="), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # keras warns about the skipped aux layers
        cnn_keras.googlenet_cifar(input_shape=(16, 16, 3), weights=str(wpath))


def test_default_round_trip_through_keras_format(tmp_path):
    """The default googlenet_cifar (no aux, no LRN) too."""
    model = cnn_keras.googlenet_cifar()
    path = tmp_path / "c.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = _x((32, 32, 3), seed=2)
    np.testing.assert_allclose(infer(loaded, x), infer(model, x),
                               rtol=1e-5, atol=1e-7)


def test_pure_keras_layers():
    model = cnn_keras.googlenet(aux_logits=True)
    assert {type(la).__module__.split(".")[0] for la in model.layers} <= {"keras", "cnn_keras"}


# --- naive=True: the naive modules of Fig. 2a ------------------------------------------------
def test_naive_net_layers_and_growing_channels():
    model = built("googlenet_cifar", naive=True)
    names = [la.name for la in model.layers]
    assert not any(n.endswith(("_reduce", "_pool_proj")) for n in names)
    c_in = 192  # the stem conv
    for key, row in INCEPTION_V1.items():
        concat = model.get_layer(f"inception_{key}_concat")
        assert [t.shape[-1] for t in concat.input] == [row.n1x1, row.n3x3, row.n5x5, c_in]
        assert model.get_layer(f"inception_{key}_5x5").kernel.shape == (5, 5, c_in, row.n5x5)
        c_in += row.n1x1 + row.n3x3 + row.n5x5  # the pool branch passes all inputs on
        assert concat.output.shape[-1] == c_in
    assert c_in == 4944  # into the classifier (1024 in the reduced net)
    assert model.get_layer("predictions").kernel.shape == (4944, 10)
    # Module 3a by hand, on the 32x32x192 stem output: 1x1 192 -> 64, 3x3 192 -> 128,
    # 5x5 192 -> 32, with biases: 12,288 + 221,184 + 153,600 + 224 = 387,296 parameters and
    # (12,288 + 221,184 + 153,600) * 32 * 32 = 396,361,728 multiply-adds.
    weights = 192 * 64 + 9 * 192 * 128 + 25 * 192 * 32
    assert weights == 12_288 + 221_184 + 153_600 == 387_072
    assert sum(model.get_layer(f"inception_3a_{b}").count_params()
               for b in ("1x1", "3x3", "5x5")) == weights + 224 == 387_296
    assert sum(count_macs(keras.Model(model.get_layer(f"inception_3a_{b}").input,
                                      model.get_layer(f"inception_3a_{b}").output))
               for b in ("1x1", "3x3", "5x5")) == weights * 32 * 32 == 396_361_728


def cifar_by_hand(width=1.0, naive=False, aux_logits=False, classes=10):
    """(trainable parameters, MACs) of googlenet_cifar at 32x32: the stem conv, the nine
    modules' `inception_module_cost` on the `scaled_row`s (channels chained), the classifier
    and, with aux_logits, the two aux heads (1x1 conv and FC scaled, on 4x4 maps)."""
    variant = "naive" if naive else "reduced"
    stem = scaled_filters(192, width)
    params, macs = 27 * stem + stem, 32 * 32 * 27 * stem
    c_in = stem
    for size, stage in zip((32, 16, 8), STAGES):
        for key in stage:
            cost = inception_module_cost(c_in, scaled_row(key, width), size)[variant]
            params, macs, c_in = (params + cost["params"], macs + cost["macs"],
                                  cost["out_channels"])
            if aux_logits and key in ("4a", "4d"):  # 1x1 conv on 4x4 maps, FC, classifier
                conv, fc = scaled_filters(128, width), scaled_filters(1024, width)
                params += (c_in * conv + conv) + (16 * conv * fc + fc) + (fc * classes + classes)
                macs += 16 * c_in * conv + 16 * conv * fc + fc * classes
    return params + c_in * classes + classes, macs + c_in * classes


def test_naive_net_is_the_sum_of_its_modules():
    """Stem + the nine modules' `inception_module_cost` (channels chained) + classifier."""
    for kwargs in ({}, {"naive": True}, {"aux_logits": True},
                   {"naive": True, "aux_logits": True}):
        model = built("googlenet_cifar", **kwargs)
        assert (count_params(model)["trainable"], count_macs(model)) == cifar_by_hand(**kwargs)
    # the blow-up of Sec. 4 the 1x1 reductions avoid: 10.9x the multiply-adds, 15.8x the
    # parameters of the reduced net
    naive, reduced = built("googlenet_cifar", naive=True), built("googlenet_cifar")
    assert round(count_macs(naive) / count_macs(reduced), 1) == 10.9
    assert round(count_params(naive)["trainable"] / count_params(reduced)["trainable"],
                 1) == 15.8


def test_naive_net_with_aux_heads_builds_and_runs():
    """The aux heads' 1x1 conv takes the wider 4a / 4d outputs; from there on they have the
    reduced net's shapes."""
    model = built("googlenet_cifar", naive=True, aux_logits=True)
    assert model.get_layer("aux1_conv").kernel.shape == (1, 1, 1280, 128)
    assert model.get_layer("aux2_conv").kernel.shape == (1, 1, 2640, 128)
    for i in (1, 2):
        assert model.get_layer(f"aux{i}_fc").kernel.shape == (2048, 1024)
    extra = count_params(model)["trainable"] - count_params(
        built("googlenet_cifar", naive=True))["trainable"]
    reduced_extra = 10_214_990 - 5_864_762
    assert extra - reduced_extra == (1280 - 512 + 2640 - 528) * 128  # only the aux convs grow
    small = quickly(cnn_keras.googlenet_cifar, naive=True, aux_logits=True,
                    input_shape=(9, 9, 3), classes=3)  # the smallest input the aux heads take
    outs = infer(small, _x((9, 9, 3), n=1))
    assert [o.shape for o in outs] == [(1, 3)] * 3 and all(np.isfinite(o).all() for o in outs)


# --- width: the channel multiplier of googlenet_cifar ---------------------------------------
# (options, exact trainable parameters, MACs) at width=0.25, 32x32, 10 classes
WIDTH_COUNTS = [
    ({}, 370_790, 91_449_856),
    ({"naive": True}, 5_793_142, 987_906_120),
    ({"aux_logits": True}, 646_970, 91_850_240),
    ({"naive": True, "aux_logits": True}, 6_092_362, 988_675_144),
]


@pytest.mark.parametrize("kwargs,trainable,macs", WIDTH_COUNTS)
def test_width_quarter_counts(kwargs, trainable, macs):
    model = built("googlenet_cifar", width=0.25, **kwargs)
    assert count_params(model) == {"trainable": trainable, "non_trainable": 0,
                                   "total": trainable}
    assert count_macs(model) == macs
    assert (trainable, macs) == cifar_by_hand(0.25, **kwargs)
    assert model.get_layer("conv1_3x3").filters == 48
    for key, row in INCEPTION_V1.items():
        c = [model.get_layer(f"inception_{key}_{b}").filters for b in ("1x1", "3x3", "5x5")]
        assert c == [row.n1x1 // 4, row.n3x3 // 4, row.n5x5 // 4]
        if not kwargs.get("naive"):
            assert model.get_layer(f"inception_{key}_pool_proj").filters == row.pool_proj // 4
    if kwargs.get("aux_logits"):
        assert model.output_shape == [(None, 10)] * 3
        for i in (1, 2):
            assert model.get_layer(f"aux{i}_conv").filters == 32
            assert model.get_layer(f"aux{i}_fc").kernel.shape == (4 * 4 * 32, 256)


def test_width_quarter_is_about_a_sixteenth():
    full, quarter = COUNTS[2][4], WIDTH_COUNTS[0][2]
    assert round(full / quarter, 1) == 15.8  # not 16: the stem conv has 3 inputs at any width
    assert count_params(built("googlenet_cifar", width=1.0)) == count_params(
        built("googlenet_cifar"))
    assert count_params(built("googlenet_cifar", width=1.0))["trainable"] == 5_864_762
    assert count_macs(built("googlenet_cifar", width=1.0)) == 1_447_241_728
    assert "width=1.0" in str(inspect.signature(cnn_keras.googlenet_cifar))


def test_sixteenth_width_pair_of_the_naive_module_study():
    """The googlenet_naive study's pair (width 1/16, so that 2 cores train it): the reductions
    still cut the multiply-adds about tenfold, as at full width."""
    reduced = built("googlenet_cifar", width=0.0625)
    naive = built("googlenet_cifar", width=0.0625, naive=True)
    assert (count_params(reduced)["trainable"], count_macs(reduced)) == (24_375, 5_998_720)
    assert (count_params(naive)["trainable"], count_macs(naive)) == (364_873, 61_995_282)
    assert cifar_by_hand(0.0625) == (24_375, 5_998_720)
    assert cifar_by_hand(0.0625, naive=True) == (364_873, 61_995_282)
    assert round(count_macs(naive) / count_macs(reduced), 1) == 10.3
    study = STUDIES["googlenet_naive"]
    assert [v.kwargs for v in study.variants] == [{"width": 0.0625},
                                                   {"width": 0.0625, "naive": True},
                                                   {"width": 0.2}]


def test_fifth_width_reduced_net_costs_what_the_naive_sixteenth_does():
    """The study's equal-cost variant: the reduced modules at 1/5 width cost 0.94x the naive
    net's multiply-adds; a quarter would cost more."""
    wide = built("googlenet_cifar", width=0.2)
    assert (count_params(wide)["trainable"], count_macs(wide)) == (238_414, 58_561_804)
    assert cifar_by_hand(0.2) == (238_414, 58_561_804)
    assert round(58_561_804 / 61_995_282, 2) == 0.94
    assert cifar_by_hand(0.25)[1] > 61_995_282  # a quarter would cost more than the naive net


def test_width_quarter_module_3a_by_hand():
    """Module 3a at width 0.25 on the 32x32x48 stem output: row (16, 24, 32, 4, 8, 8)."""
    row = scaled_row("3a", 0.25)
    assert row == (16, 24, 32, 4, 8, 8)
    # 1x1 48->16, 1x1 48->24, 3x3 24->32, 1x1 48->4, 5x5 4->8, pool proj 48->8
    weights = 48 * 16 + 48 * 24 + 9 * 24 * 32 + 48 * 4 + 25 * 4 * 8 + 48 * 8
    assert weights == 768 + 1_152 + 6_912 + 192 + 800 + 384 == 10_208
    biases = 16 + 24 + 32 + 4 + 8 + 8
    assert weights + biases == 10_300 and weights * 32 * 32 == 10_452_992
    assert inception_module_cost(48, row, 32)["reduced"] == {
        "params": 10_300, "macs": 10_452_992, "out_channels": 16 + 32 + 8 + 8}
    model = built("googlenet_cifar", width=0.25)
    assert sum(model.get_layer(f"inception_3a_{b}").count_params() for b in (
        "1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj")) == 10_300
    assert model.get_layer("inception_3a_concat").output.shape[1:] == (32, 32, 64)
    # naive 3a at width 0.25: 1x1 48->16, 3x3 48->32, 5x5 48->8, the pool branch passes 48 on
    naive = built("googlenet_cifar", width=0.25, naive=True)
    assert naive.get_layer("inception_3a_5x5").kernel.shape == (5, 5, 48, 8)
    assert naive.get_layer("inception_3a_concat").output.shape[-1] == 16 + 32 + 8 + 48
    n_weights = 48 * 16 + 9 * 48 * 32 + 25 * 48 * 8
    assert inception_module_cost(48, row, 32)["naive"] == {
        "params": n_weights + 56, "macs": n_weights * 1024, "out_channels": 104}


def test_width_rounds_halves_up_and_at_least_one():
    # 1/32: 4a = (192, 96, 208, 16, 48, 64) / 32 = (6, 3, 6.5, 0.5, 1.5, 2): halves go up
    # (round() would make 6.5 -> 6 and 0.5 -> 0)
    assert scaled_row("4a", 1 / 32) == (6, 3, 7, 1, 2, 2)
    assert (round(6.5), round(0.5)) == (6, 0)
    m = quickly(cnn_keras.googlenet_cifar, width=1 / 32, aux_logits=True)
    assert [m.get_layer(f"inception_4a_{b}").filters for b in (
        "1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj")] == [6, 3, 7, 1, 2, 2]
    assert (m.get_layer("conv1_3x3").filters, m.get_layer("aux1_conv").filters,
            m.get_layer("aux1_fc").units) == (6, 4, 32)
    tiny = quickly(cnn_keras.googlenet_cifar, width=1e-3, naive=True, input_shape=(8, 8, 3))
    assert {la.filters for la in tiny.layers if isinstance(la, keras.layers.Conv2D)} == {1}
    out = infer(tiny, _x((8, 8, 3)))
    assert out.shape == (2, 10) and np.isfinite(out).all()


def test_bad_width_is_a_one_line_value_error():
    for bad in (0, -1, "a", True, float("nan")):
        for build in (cnn_keras.googlenet_cifar, lambda **kw: inception_v1(stem="cifar", **kw)):
            with pytest.raises(ValueError) as err:
                build(width=bad)
            assert str(err.value) == (f"`width` must be a finite number > 0. "
                                      f"Received: width={bad!r}")


def test_imagenet_googlenet_has_no_width():
    assert "width" not in inspect.signature(cnn_keras.googlenet).parameters
    with pytest.raises(TypeError, match="width"):
        cnn_keras.googlenet(width=0.5)
    with pytest.raises(ValueError, match=r"CIFAR stem only.*Received: width=0\.5$"):
        inception_v1(width=0.5)
    assert count_params(quickly(inception_v1, width=1.0))["trainable"] == 6_998_552


# --- inception_module_cost ------------------------------------------------------------------
@pytest.mark.parametrize("key,c_in,spatial", [("3a", 192, 28), ("4e", 528, 14),
                                               ("5b", 832, (7, 9))])
def test_inception_module_cost_against_built_layers(key, c_in, spatial):
    hw = (spatial, spatial) if isinstance(spatial, int) else spatial
    cost = inception_module_cost(c_in, key, spatial)
    for variant, naive in (("reduced", False), ("naive", True)):
        inp = keras.Input((*hw, c_in))
        out = inception_module(inp, INCEPTION_V1[key], f"inception_{key}", naive=naive)
        module = keras.Model(inp, out)
        assert cost[variant]["params"] == count_params(module)["trainable"]
        assert cost[variant]["macs"] == count_macs(module)
        assert cost[variant]["out_channels"] == out.shape[-1]
        assert out.shape[1:3] == hw


def test_inception_module_cost_3a_numbers():
    cost = inception_module_cost(192, "3a", 28)
    assert cost == {"reduced": {"params": 163_696, "macs": 128_049_152, "out_channels": 256},
                    "naive": {"params": 387_296, "macs": 303_464_448, "out_channels": 416}}
    assert inception_module_cost(192, (64, 96, 128, 16, 32, 32), (28, 28)) == cost
    # ...and it is the module inside the full network
    model = cnn_keras.googlenet()
    params = sum(count_params(keras.Model(model.get_layer(f"inception_3a_{b}").input,
                                          model.get_layer(f"inception_3a_{b}").output))
                 ["trainable"] for b in ("1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5",
                                         "pool_proj"))
    assert params == cost["reduced"]["params"]


@pytest.mark.parametrize("args,arg", [
    ((0, "3a", 28), "in_channels"), ((192.0, "3a", 28), "in_channels"),
    ((192, "6a", 28), "row"), ((192, (1, 2, 3), 28), "row"), ((192, (1, 2, 3, 4, 5, 0), 28),
                                                              "row"),
    ((192, "3a", 0), "spatial"), ((192, "3a", (28,)), "spatial"),
])
def test_inception_module_cost_validation(args, arg):
    with pytest.raises(ValueError, match=rf"Received: {arg}="):
        inception_module_cost(*args)


# --- validation ----------------------------------------------------------------------------
BAD_ARGS = [
    ({"input_shape": (16, 16, 3), "include_top": False}, "input_shape", "googlenet"),
    ({"input_shape": (4, 4, 3)}, "input_shape", "googlenet_cifar"),
    ({"input_shape": (64, 64, 3), "aux_logits": True}, "input_shape", "googlenet"),
    ({"input_shape": (8, 8, 3), "aux_logits": True}, "input_shape", "googlenet_cifar"),
    ({"input_shape": (32, 32)}, "input_shape", "googlenet_cifar"),
    ({"input_shape": (None, 32, 3)}, "input_shape", "googlenet_cifar"),
    ({"classes": 0}, "classes", "googlenet"),
    ({"pooling": "bogus", "include_top": False}, "pooling", "googlenet"),
    ({"pooling": "avg"}, "pooling", "googlenet_cifar"),
    ({"classifier_activation": "nope"}, "classifier_activation", "googlenet"),
    ({"weights": "imagenet"}, "weights", "googlenet"),
    ({"weights": "missing.weights.h5"}, "weights", "googlenet_cifar"),
    ({"input_tensor": np.zeros((1, 32, 32, 3))}, "input_tensor", "googlenet_cifar"),
    ({"include_top": "yes"}, "include_top", "googlenet"),
    ({"name": 5}, "name", "googlenet"),
    ({"aux_logits": "yes"}, "aux_logits", "googlenet"),
    ({"aux_logits": True, "include_top": False}, "aux_logits", "googlenet"),
    ({"aux_logits": True, "include_top": False}, "aux_logits", "googlenet_cifar"),
    ({"lrn": 1}, "lrn", "googlenet"),
    ({"lrn": None}, "lrn", "googlenet_cifar"),
    ({"dropout": 1.0}, "dropout", "googlenet"),
    ({"dropout": -0.1}, "dropout", "googlenet_cifar"),
    ({"dropout": "0.4"}, "dropout", "googlenet"),
    ({"naive": 1}, "naive", "googlenet_cifar"),
    ({"naive": "yes"}, "naive", "googlenet_cifar"),
    ({"naive": None}, "naive", "googlenet_cifar"),
    ({"width": 0}, "width", "googlenet_cifar"),
    ({"width": "0.5"}, "width", "googlenet_cifar"),
]


@pytest.mark.parametrize("kwargs,arg,name", BAD_ARGS)
def test_bad_arguments_are_clear_value_errors(kwargs, arg, name):
    with pytest.raises(ValueError, match=rf"Received: {arg}="):
        cnn_keras.build(name, **kwargs)


def test_naive_error_is_one_line():
    with pytest.raises(ValueError) as info:
        cnn_keras.googlenet_cifar(naive=1)
    assert str(info.value) == "`naive` must be True or False. Received: naive=1"
    with pytest.raises(ValueError, match=r"Received: naive='yes'"):
        inception_v1(stem="cifar", naive="yes")


def test_aux_minimum_input_is_in_the_error():
    with pytest.raises(ValueError, match=r"at least 65x65.*Received: input_shape=\(64, 80, 3\)"):
        cnn_keras.googlenet(aux_logits=True, input_shape=(64, 80, 3))
    with pytest.raises(ValueError, match=r"at least 9x9"):
        cnn_keras.googlenet_cifar(aux_logits=True, input_shape=(8, 8, 3))
    with pytest.raises(ValueError, match=r"at least 65x65"):
        cnn_keras.googlenet(aux_logits=True, input_tensor=keras.Input((48, 48, 3)))
    with pytest.raises(ValueError, match=r"Received: stem="):
        inception_v1(stem="tiny")


def test_registry_and_signatures():
    assert {"googlenet", "googlenet_cifar"} <= set(cnn_keras.list_models("googlenet"))
    with pytest.raises(TypeError):
        cnn_keras.googlenet(stem="cifar")  # fixed by the variant
    with pytest.raises(TypeError, match="depth"):
        cnn_keras.build("googlenet", depth=22)
    assert cnn_keras.googlenet.__doc__.splitlines()[0].startswith("GoogLeNet / Inception v1")
    assert "https://arxiv.org/abs/1409.4842" in cnn_keras.googlenet_cifar.__doc__
    assert "Architecture options" in inception_v1.__doc__
    for fn in (inception_v1, cnn_keras.googlenet, cnn_keras.googlenet_cifar):
        assert "classifier_activation:" in fn.__doc__  # COMMON_ARGS_DOC appended
