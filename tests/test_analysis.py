"""cnn_keras.analysis: receptive fields, MACs and parameter counts."""

import keras
import pytest

import cnn_keras
from cnn_keras.analysis import (
    activation_values,
    count_macs,
    count_params,
    iter_layers,
    receptive_field,
    receptive_fields,
)


def _stack(n, kernel=3, input_shape=(32, 32, 3), **kw):
    inp = keras.Input(input_shape)
    x = inp
    for i in range(n):
        x = keras.layers.Conv2D(8, kernel, padding="same", name=f"c{i}", **kw)(x)
    return keras.Model(inp, x)


@pytest.mark.parametrize("n,rf", [(1, 3), (2, 5), (3, 7), (4, 9)])
def test_stacked_3x3_receptive_field(n, rf):
    assert receptive_field(_stack(n)) == rf


def test_one_5x5_and_one_7x7_see_what_two_and_three_3x3_see():
    assert receptive_field(_stack(1, kernel=5)) == receptive_field(_stack(2)) == 5
    assert receptive_field(_stack(1, kernel=7)) == receptive_field(_stack(3)) == 7
    # ...with fewer weights (VGG Sec. 2.3): three 3x3 layers of C channels have 27C^2 weights,
    # one 7x7 layer 49C^2.
    c = 8

    def convs(n, k):
        inp = keras.Input((16, 16, c))
        x = inp
        for _ in range(n):
            x = keras.layers.Conv2D(c, k, padding="same", use_bias=False)(x)
        return count_params(keras.Model(inp, x))["trainable"]

    assert convs(3, 3) == 27 * c * c and convs(1, 7) == 49 * c * c
    assert convs(2, 3) == 18 * c * c and convs(1, 5) == 25 * c * c


def test_strides_and_dilation():
    inp = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, name="a")(inp)       # rf 3, jump 2
    x = keras.layers.MaxPooling2D(2, name="p")(x)                   # rf 3 + 1*2 = 5, jump 4
    x = keras.layers.Conv2D(4, 3, dilation_rate=2, name="b")(x)     # rf 5 + 2*2*4 = 21
    rows = {r["layer"]: r for r in receptive_fields(keras.Model(inp, x))}
    assert rows["a"]["rf"] == (3, 3) and rows["p"]["rf"] == (5, 5) and rows["p"]["jump"] == (4, 4)
    assert rows["b"]["rf"] == (21, 21)


def test_resnet20_receptive_field_grows_to_81():
    # 3x3 stem (3) + 6 convs (+12) -> 15; stage 2 at jump 2: +2 + 10*2 -> 37;
    # stage 3 at jump 4: +4 + 10*4 -> 81
    model = cnn_keras.resnet20()
    assert receptive_field(model, "conv2_block3_out") == 15
    assert receptive_field(model, "conv3_block3_out") == 37
    assert receptive_field(model) == 81
    with pytest.raises(ValueError, match="Received: layer_name='nope'"):
        receptive_field(model, "nope")


def test_count_macs_needs_fixed_input():
    model = cnn_keras.resnet20(include_top=False, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="fixed input size"):
        count_macs(model)
    # 3x3 convs at 32/16/8 px (hand count in the notebook) + the 64x10 classifier
    assert count_macs(cnn_keras.resnet20()) == 40_551_040


def test_activation_values_of_a_chain_and_of_mobilenet():
    # two 8-filter convs on 32x32x3: outputs 8,192 each; conv c1 reads 8,192 and writes 8,192
    assert activation_values(_stack(2)) == {"total": 16_384, "peak": 16_384}
    # the same chain inside an outer model counts the same: its layers, not one nested layer
    inputs = keras.Input((32, 32, 3))
    assert activation_values(keras.Model(inputs, _stack(2)(inputs))) == {
        "total": 16_384, "peak": 16_384}
    # MobileNet's peak is conv_pad_2, the zero-padding before the first stride-2 depthwise
    # conv: it reads 112x112x64 and writes 113x113x64; peak and total scale with alpha and
    # with the pixels
    full = activation_values(cnn_keras.mobilenet(input_shape=(224, 224, 3)))
    assert full["peak"] == 64 * (112 * 112 + 113 * 113)
    half = activation_values(cnn_keras.mobilenet(alpha=0.5, input_shape=(224, 224, 3)))
    small = activation_values(cnn_keras.mobilenet(input_shape=(128, 128, 3)))
    assert half["peak"] == full["peak"] // 2 and small["peak"] == 64 * (64 * 64 + 65 * 65)
    assert full["total"] > 2 * half["total"] * 0.95 and small["total"] < full["total"] / 3
    with pytest.raises(ValueError, match="activation_values needs .*fixed input size"):
        activation_values(cnn_keras.resnet20(include_top=False, input_shape=(None, None, 3)))


def test_architecture_diagram_never_raises(tmp_path, capsys):
    from cnn_keras.plots import architecture_diagram

    out = architecture_diagram(cnn_keras.resnet20(), tmp_path / "r20.png")
    if out is None:
        assert "skipped" in capsys.readouterr().out
    else:
        assert out.stat().st_size > 0


def test_dense_connection_strength_reads_each_source_channels():
    import numpy as np

    from cnn_keras.analysis import dense_connection_strength

    model = cnn_keras.densenet_bc(depth=22, growth_rate=4)  # 3 layers per block, k0 = 8
    w = dense_connection_strength(model, 2)
    assert w.shape == (4, 4)  # 3 layers + the transition; sources: block input + 3 layers
    assert np.isnan(w[0, 1:]).all() and not np.isnan(w[3]).any()
    kernel = np.abs(keras.ops.convert_to_numpy(model.get_layer("conv2_block3_1_conv").kernel))
    # layer 3 reads 8 + 2 * 4 channels: source 2 is channels 12..15
    assert np.isclose(w[2, 2], kernel[:, :, 12:16, :].mean())
    last = dense_connection_strength(model, 4)  # the last block has no transition
    assert last.shape == (3, 4)
    # ... but a classifier: its row reads every source (block input + 3 layers = 8 + 12 inputs)
    with_top = dense_connection_strength(model, 4, classifier=True)
    assert with_top.shape == (4, 4) and np.array_equal(with_top[:3], last, equal_nan=True)
    dense = np.abs(keras.ops.convert_to_numpy(model.get_layer("predictions").kernel))
    k0 = dense.shape[0] - 3 * 4
    assert np.isclose(with_top[3, 0], dense[:k0].mean())
    assert np.isclose(with_top[3, 3], dense[k0 + 8:].mean())
    with pytest.raises(ValueError, match=r"`stage` must be the last dense block .* followed by "
                                         r"the transition pool2\)\. Received: stage=2"):
        dense_connection_strength(model, 2, classifier=True)
    headless = cnn_keras.densenet_bc(depth=22, growth_rate=4, include_top=False)
    with pytest.raises(ValueError, match=r"needs the net's top .* no `predictions` Dense layer "
                                         r"over the last block's 23 channels\. Received: "
                                         r"classifier=True"):
        dense_connection_strength(headless, 4, classifier=True)
    with pytest.raises(ValueError, match="Received: classifier='yes'"):
        dense_connection_strength(model, 4, classifier="yes")
    with pytest.raises(ValueError, match="Received: stage=7"):
        dense_connection_strength(model, 7)


def test_tradeoff_and_heatmap_figures(tmp_path):
    import numpy as np

    from cnn_keras import plots

    rows = [{"label": "a", "macs": 4e7, "trainable_params": 2.7e5, "final_test_error": 10.0},
            {"label": "b", "macs": 1e8, "trainable_params": 2.6e5, "final_test_error": 9.0}]
    fig = plots.tradeoff_figure(rows, tmp_path / "t.png", title="t", caption="c")
    assert (tmp_path / "t.png").stat().st_size > 1000 and len(fig.axes) == 2
    m = np.tril(np.ones((3, 3)))
    m[m == 0] = np.nan
    plots.connection_heatmap(m, tmp_path / "h.png", title="h")
    assert (tmp_path / "h.png").stat().st_size > 1000
    # a net's blocks side by side, one colour bar; the caption says what was trained
    fig = plots.connection_heatmaps({"block 1": m, "block 2": m[:2]}, tmp_path / "hs.png",
                                    caption="10 epochs, seed 0")
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["block 1", "block 2"]
    assert len(fig.axes) == 3 and "seed 0" in fig.get_suptitle()
    labels = [[t.get_text() for t in ax.get_yticklabels()] for ax in panels]
    assert labels[0][-1] == "trans"
    fig = plots.connection_heatmaps({"block 1": m, "block 3": m},
                                    last_rows={"block 3": "classifier"})
    assert [ax.get_yticklabels()[-1].get_text() for ax in fig.axes[:2]] == ["trans", "classifier"]
    assert (tmp_path / "hs.png").stat().st_size > 1000



def _history(errors):
    return [{"epoch": i + 1, "loss": 1.0, "val_loss": 1.0, "accuracy": 1 - e / 100,
             "val_accuracy": 1 - e / 100} for i, e in enumerate(errors)]


def test_degradation_figure_panels_and_the_papers_axes(tmp_path):
    from cnn_keras import plots

    # only ResNets trained (a seed repeat of one net): one panel, not an empty plain one
    fig = plots.degradation_figure({"resnet56": _history([60, 30, 17])}, tmp_path / "r.png")
    assert len(fig.axes) == 1 and fig.axes[0].get_title().startswith("ResNets")
    # the paper's 0-20 % axes where a panel's final errors fit, the full range where not
    both = {"plain20": _history([60, 40, 22]), "plain56": _history([80, 60, 50]),
            "resnet20": _history([60, 30, 19]), "resnet56": _history([60, 30, 18])}
    fig = plots.degradation_figure(both, tmp_path / "p.png", ylim=plots.PAPER_FIG6_YLIM)
    assert [ax.get_ylim() for ax in fig.axes] == [(0, 100), (0, 20)]
    assert all(t == int(t) for t in fig.axes[0].get_xticks())  # whole epochs
    assert plots.papers_axes_fit(both)  # the runner draws the paper-axes figure
    nowhere = {"plain20": _history([30, 15]), "plain56": _history([30, 25]),
               "resnet20": _history([30, 22])}  # one net fits, no panel does
    assert not plots.papers_axes_fit(nowhere)

def test_receptive_field_of_squeeze_excitation_nets():
    model = cnn_keras.efficientnet_b0(include_top=False)
    conv_path = {r["layer"]: r["rf"][0] for r in receptive_fields(model)}
    with_gates = {r["layer"]: r["rf"][0] for r in receptive_fields(model, through_global=True)}
    # block1a: stem 3x3/2 (3 px, jump 2) then a 3x3 depthwise conv: 3 + 2 * 2 = 7
    assert conv_path["block1a_project_bn"] == 7
    assert with_gates["block1a_project_bn"] == 224  # the SE gate sees the whole image
    assert receptive_field(model) == conv_path["top_activation"] == 851


def _flatten(model):
    return model._flatten_layers(include_self=False)  # Keras' private walk: the reference


def test_iter_layers_walks_nested_models_as_keras_does():
    i = keras.Input((8,))
    inner = keras.Model(i, keras.layers.Dense(2, name="b")(keras.layers.Dense(4, name="a")(i)),
                        name="inner")
    j = keras.Input((2,))
    deep = keras.Model(j, keras.layers.Dense(3, name="c")(inner(keras.layers.Dense(8)(j))),
                       name="deep")
    x = keras.Input((8,))
    model = keras.Model(x, keras.layers.Dense(1, name="out")(deep(inner(x))))
    layers = list(iter_layers(model))
    assert layers == _flatten(model)
    assert [la.name for la in layers][1:4] == ["inner", "b", "a"]  # `inner` once, shared
    # A Sequential hides the InputLayer it makes for itself from `.layers`: the one difference.
    seq = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8), inner], name="seq")
    outer = keras.Model(x, seq(x))
    assert list(iter_layers(outer)) == [la for la in _flatten(outer)
                                        if la is not seq._layers[0]]


@pytest.mark.parametrize("app", ["MobileNet", "EfficientNetB0"])
def test_iter_layers_on_keras_applications(app):
    kwargs = {"alpha": 0.25} if app == "MobileNet" else {}
    model = getattr(keras.applications, app)(weights=None, input_shape=(128, 128, 3), **kwargs)
    assert list(iter_layers(model)) == _flatten(model)
    assert list(iter_layers(model)) == model.layers  # nothing nested


def test_receptive_field_stops_before_global_pooling_at_a_fixed_input_size():
    # Keras' MobileNet reshapes its pooled vector to a 1x1 map: that map's "field" is the
    # whole 224-px input, not the convolutions' field (conv_pw_13: 315 px)
    model = cnn_keras.mobilenet()
    conv = {r["layer"]: r["rf"][0] for r in receptive_fields(model)}
    assert receptive_field(model) == conv["conv_pw_13_relu"] == 315
