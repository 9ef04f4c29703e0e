"""cnn_keras.analysis: receptive fields, MACs and parameter counts."""

import keras
import pytest

import cnn_keras
from cnn_keras.analysis import count_macs, count_params, receptive_field, receptive_fields


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


def test_architecture_diagram_never_raises(tmp_path, capsys):
    from cnn_keras.plots import architecture_diagram

    out = architecture_diagram(cnn_keras.resnet20(), tmp_path / "r20.png")
    if out is None:
        assert "skipped" in capsys.readouterr().out
    else:
        assert out.stat().st_size > 0
