"""The transfer study of notebook 10: the class split, the few-shot subsets, the three regimes
(what each trains, and that the head is new), the run folder and its resume, the argument
checks."""

import json

import numpy as np
import pytest

from cnn_keras import data as data_lib
from cnn_keras.experiments import transfer_study as ts


def labelled_data(classes=6, per_class=12, n_test=4, size=16):
    """Images whose every pixel is 10 * their class, so a split can be checked image by
    image."""
    def make(n):
        y = np.repeat(np.arange(classes, dtype=np.int32), n)
        x = np.broadcast_to((10 * y)[:, None, None, None], (len(y), size, size, 3))
        return x.astype("uint8").copy(), y

    (xtr, ytr), (xte, yte) = make(per_class), make(n_test)
    return data_lib.ImageData(xtr, ytr, xte, yte, tuple(f"c{i}" for i in range(classes)),
                              source="generated", name="labelled")


def test_the_class_split_is_disjoint_and_renumbers_the_labels():
    data = labelled_data()
    source, target = ts.source_target_split(data, ["c4", "c1", "c2"])
    assert source.class_names == ("c4", "c1", "c2") and target.class_names == ("c0", "c3", "c5")
    for part, old in ((source, (4, 1, 2)), (target, (0, 3, 5))):
        for x, y in ((part.x_train, part.y_train), (part.x_test, part.y_test)):
            assert set(y) == {0, 1, 2}
            # each image is one of its new class's old class: 10 * old label in every pixel
            np.testing.assert_array_equal(x[:, 0, 0, 0], 10 * np.array(old)[y])
    assert len(source.x_train) + len(target.x_train) == len(data.x_train)
    assert len(source.x_test) == len(target.x_test) == 3 * 4
    # the default: the first half of the classes (CIFAR-10: SOURCE_CLASSES)
    assert ts.source_target_split(data)[0].class_names == ("c0", "c1", "c2")
    assert data_lib.CIFAR10_CLASSES[:5] == ts.SOURCE_CLASSES


def test_few_shot_subsets_are_class_balanced_seeded_and_nested():
    target = ts.class_split(labelled_data(per_class=12), ["c0", "c1", "c2"])
    five = ts.few_shot(target, 5, seed=1)
    assert np.bincount(five.y_train).tolist() == [5, 5, 5]
    np.testing.assert_array_equal(five.x_test, target.x_test)  # every test image kept
    again = ts.few_shot(target, 5, seed=1)
    np.testing.assert_array_equal(again.x_train, five.x_train)
    # which images: an index per image (the pixels only say the class)
    target.x_train[:, 1, 1, 0] = np.arange(len(target.x_train))
    picked = {(n, s): set(ts.few_shot(target, n, s).x_train[:, 1, 1, 0]) for n, s in
              ((2, 0), (5, 0), (5, 1))}
    assert picked[(5, 0)] != picked[(5, 1)]  # another seed, other images
    assert picked[(2, 0)] < picked[(5, 0)]  # fewer shots: among the larger subset's images


def _weights(model, names):
    return {w.path: np.array(w.numpy()) for w in model.weights
            if w.path.split("/")[0] in names}


@pytest.mark.slow
def test_probe_trains_only_the_new_head_and_finetune_every_layer():
    import keras

    from cnn_keras.registry import build

    data = ts.class_split(labelled_data(per_class=8, size=16), ["c0", "c1", "c2"])
    keras.utils.set_random_seed(5)
    backbone = build("resnet20", input_shape=(16, 16, 3), classes=3)  # the "source" net
    backbone_weights = {w.path: np.array(w.numpy()) for w in backbone.weights}
    settings = ts.Settings(None, None, 1, (8,), (0,), None, min_steps=4, min_epochs=1,
                           batch_size=12)
    mean = data_lib.per_pixel_mean(data.x_train)
    found = {}
    for regime in ts.REGIMES:
        net = ts.target_model(regime, 3, backbone=backbone, seed=0)
        body = [layer.name for layer in net.layers if layer.weights and
                layer.name != "predictions"]
        before = _weights(net, body)
        assert len(before) == len(backbone_weights) - 2  # all but the source net's head
        if regime != "scratch":  # the transferred layers start as the source net's
            assert all(np.array_equal(v, backbone_weights[k]) for k, v in before.items())
        head = net.get_layer("predictions").kernel
        assert head.shape == (64, 3)  # the target's classes (here as many as the source's)
        assert not np.array_equal(head.numpy(), backbone_weights["predictions/kernel"])
        start = np.array(head.numpy())
        row = ts.train_target(net, data, ts.target_recipe(regime, 24, settings), mean)
        after = _weights(net, body)
        changed = [k for k in before if not np.array_equal(before[k], after[k])]
        found[regime] = (row, changed, start, np.array(head.numpy()))
        assert row["epochs"] == 2 and row["steps"] == 4 and row["images"] == 24
        assert 0 <= row["test_accuracy"] <= 1 and row["test_images"] == 12
    probe, changed, start, end = found["probe"]
    assert changed == [] and probe["trainable_params"] == 64 * 3 + 3  # batch norm stats too
    assert not np.array_equal(start, end)  # the head did train
    finetune, changed, ft_start, _ = found["finetune"]
    assert "conv1_conv/kernel" in changed and "conv4_block3_2_conv/kernel" in changed
    assert any(k.endswith("moving_mean") for k in changed)
    assert finetune["trainable_params"] > 200_000
    np.testing.assert_array_equal(start, ft_start)  # one seed: the same new head to start


def test_target_recipe_gives_each_regime_the_same_steps():
    s = ts.MODES["demo"]
    for images, steps in ((50, 150), (250, 154), (1250, 390)):
        recipes = [ts.target_recipe(r, images, s) for r in ts.REGIMES]
        assert {r.epochs * (images // r.batch_size) for r in recipes} == {steps}
        assert [r.lr for r in recipes] == [ts.LR[r] for r in ts.REGIMES]
    assert ts.target_recipe("probe", 10, ts.MODES["quick"]).batch_size == 10


@pytest.mark.slow
def test_run_writes_a_record_and_resumes_cell_by_cell(tmp_path, monkeypatch):
    data = labelled_data(classes=4, per_class=10, n_test=3, size=16)
    tiny = ts.Settings(source_images=None, source_test_images=None, source_epochs=1,
                       shots=(2, 4), seeds=(0,), test_images=None, min_steps=1, min_epochs=1,
                       batch_size=8)
    monkeypatch.setitem(ts.MODES, "quick", tiny)
    rows = ts.run("quick", tmp_path / "run", regimes=("scratch", "probe"), data=data, verbose=0)
    assert [(r["shots"], r["regime"]) for r in rows] == [(2, "scratch"), (2, "probe"),
                                                          (4, "scratch"), (4, "probe")]
    info = ts.load(tmp_path / "run")
    assert info["status"] == "finished" and info["rows"] == rows
    assert info["config"]["source_classes"] == ["c0", "c1"] and "cpu" in info["hardware"]
    assert (tmp_path / "run" / ts.FIGURE).stat().st_size > 0
    written = ts.copy_record(tmp_path / "run", tmp_path / "record")
    assert sorted(p.relative_to(tmp_path / "record").as_posix() for p in written) == sorted(
        ts.RECORD_FILES)

    trained = []

    def fake_train_target(net, few, recipe, mean, **kwargs):
        trained.append(net.name)
        return {**rows[0], "epochs": recipe.epochs}

    monkeypatch.setattr(ts, "train_target", fake_train_target)
    again = ts.run("quick", tmp_path / "run", regimes=("scratch", "probe"), data=data, verbose=0)
    assert trained == [] and again == rows  # every cell read back, none trained again
    ts.run("quick", tmp_path / "run", regimes=("finetune",), seeds=(0,), data=data, verbose=0)
    assert trained == ["resnet20_finetune"] * 2  # the new cells only
    assert len(ts.read_summary(tmp_path / "run")) == 6
    other = labelled_data(classes=6, per_class=10, n_test=3, size=16)
    with pytest.raises(ValueError, match="other settings.*Received"):
        ts.run("quick", tmp_path / "run", data=other, verbose=0)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "finished"


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "full"}, r"`mode` must be one of \['quick', 'demo', 'record'\]\. "
                       r"Received: mode='full'"),
    ({"regimes": ("probe", "linear")}, r"`regimes` must be a non-empty selection of "
                                       r"\['scratch', 'probe', 'finetune'\]\. Received: "),
    ({"regimes": ()}, r"`regimes` must be .* Received: regimes=\(\)"),
    ({"shots": (10, 0)}, r"`shots` must be a non-empty list of distinct positive integers.*"
                         r"Received: shots=\(10, 0\)"),
    ({"shots": 10}, r"`shots` must be .* Received: shots=10"),
    ({"seeds": (0, 0)}, r"`seeds` must be a non-empty list of distinct integers >= 0\. "
                        r"Received: seeds=\(0, 0\)"),
    ({"model": "resnet21"}, r"resnet21"),
    ({"data": "cifar10"}, r"`data` must be a cnn_keras\.data\.ImageData.*Received: "),
])
def test_bad_arguments_are_one_line_errors_before_any_work(tmp_path, kwargs, match):
    kwargs = {"mode": "quick", **kwargs}
    with pytest.raises(ValueError, match=match) as info:
        ts.run(out_dir=tmp_path / "run", verbose=0, **kwargs)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "run").exists()


def test_bad_arguments_of_the_parts_name_the_argument():
    data = labelled_data()
    cases = [
        (lambda: ts.class_split(data, ["c0", "dog"]), r"`classes` must be distinct class names "
         r"of the data: \['c0', .*\]\. Received: classes=\['c0', 'dog'\]"),
        (lambda: ts.source_target_split(data, ["c0"]), r"`source_classes` must leave at least "
         r"two classes on each side.*Received: source_classes=\['c0'\]"),
        (lambda: ts.few_shot(data, 13), r"`shots` must be at most the smallest class's "
         r"training images \(12\)\. Received: shots=13"),
        (lambda: ts.few_shot(data, 0), r"`shots` must be a positive integer\. Received: shots=0"),
        (lambda: ts.target_model("transfer", 5), r"`regime` must be one of \['scratch', "
         r"'probe', 'finetune'\]\. Received: regime='transfer'"),
        (lambda: ts.target_model("probe", 5), r"`backbone` must be one.*Received: "
         r"backbone=None"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match) as info:
            call()
        assert "\n" not in str(info.value)


def test_the_command_line_checks_before_loading_data(tmp_path, capsys):
    assert ts.main(["--mode", "quick", "--shots", "5", "5", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m cnn_keras.experiments.transfer_study: error: `shots`")
    assert "Received: shots=(5, 5)" in err and "\n" not in err
    assert not (tmp_path / "x").exists()


def test_the_record_is_drawn_again_with_its_net_data_and_training_length(tmp_path):
    import shutil
    from pathlib import Path

    from cnn_keras.experiments import transfer_results

    recorded = Path(__file__).resolve().parents[2] / "results" / "transfer-cpu"
    if not (recorded / "run.json").exists():
        pytest.skip("no transfer record in this checkout")
    copy = shutil.copytree(recorded, tmp_path / "rec")
    (copy / "transfer.png").unlink()
    transfer_results.redraw(copy)
    caption = json.loads((copy / "run.json").read_text())["caption"]
    assert caption.startswith("resnet20 on CIFAR-10. Source: 25,000 images")
    assert "at least 30 epochs and 400 steps" in caption and "3 seeds (range shaded)" in caption
    assert (copy / "transfer.png").stat().st_size > 1000
    before = json.loads((recorded / "run.json").read_text())
    after = json.loads((copy / "run.json").read_text())
    assert {k: v for k, v in after.items() if k != "caption"} == \
        {k: v for k, v in before.items() if k != "caption"}  # only the caption rewritten
