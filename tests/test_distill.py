"""Knowledge distillation (`cnn_keras.distill`): the loss against a hand computation, the
teacher left as it was, a student pulled towards its teacher, and the argument checks."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from cnn_keras.distill import Distiller, distillation_loss, soften

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _net(seed, classes=3, name=None):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,))
    x = keras.layers.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-3))(
        inputs)
    return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x), name=name)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_softening_is_the_softmax_of_the_tempered_logits():
    logits = np.array([[2.0, 0.5, -1.0]])
    probs = _softmax(logits)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(soften(probs, 1.0)), probs, rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(soften(probs, 4.0)),
                               _softmax(logits / 4), rtol=1e-5)


def test_the_soft_loss_is_t_squared_times_the_kl_divergence_of_the_softened_outputs():
    teacher, student = _softmax(np.array([[3.0, 1.0, 0.0]])), _softmax(np.array([[0.0, 1, 2]]))
    t = 2.0
    p, q = _softmax(np.log(teacher) / t), _softmax(np.log(student) / t)
    expected = t**2 * np.sum(p * np.log(p / q))
    got = keras.ops.convert_to_numpy(distillation_loss(teacher, student, t))
    np.testing.assert_allclose(got, [expected], rtol=1e-5)
    assert float(keras.ops.convert_to_numpy(distillation_loss(teacher, teacher, t))[0]) == \
        pytest.approx(0, abs=1e-6)


def test_the_distillers_loss_is_the_mix_of_both_plus_the_students_regularisation():
    student, teacher = _net(0), _net(1)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    y = np.array([0, 1, 2, 1, 0])
    model = Distiller(student, teacher, alpha=0.3, temperature=3.0)
    y_pred = student(x)
    got = float(keras.ops.convert_to_numpy(model.compute_loss(x, y, y_pred)))
    s, t = keras.ops.convert_to_numpy(y_pred), keras.ops.convert_to_numpy(teacher(x))
    hard = -np.log(s[np.arange(5), y])
    soft = keras.ops.convert_to_numpy(distillation_loss(t, s, 3.0))
    reg = sum(float(keras.ops.convert_to_numpy(v)) for v in student.losses)
    assert reg > 0
    assert got == pytest.approx(np.mean(0.3 * hard + 0.7 * soft) + reg, rel=1e-5)


def test_fit_trains_the_student_towards_the_teacher_and_leaves_the_teacher_as_it_was():
    student, teacher = _net(0), _net(1)
    x = np.random.default_rng(1).normal(size=(256, 4)).astype("float32")
    y = np.zeros(256, "int64")  # labels that the soft term alone (alpha 0) must ignore
    before_teacher = [w.copy() for w in teacher.get_weights()]
    gap = lambda: float(np.mean(np.abs(student.predict(x, verbose=0)  # noqa: E731
                                       - teacher.predict(x, verbose=0))))
    start = gap()
    model = Distiller(student, teacher, alpha=0.0, temperature=1.0)
    model.compile(optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, batch_size=64, verbose=0)
    assert gap() < start / 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    for w, w0 in zip(teacher.get_weights(), before_teacher):
        np.testing.assert_array_equal(w, w0)
    assert not teacher.trainable and len(model.trainable_weights) == len(
        student.trainable_weights)


def test_mixed_precision_students_one_hot_labels_and_alpha_zero_without_labels_train():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        student = _net(0)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    x = np.random.default_rng(2).normal(size=(32, 4)).astype("float32")
    labels = np.random.default_rng(3).integers(0, 3, size=32)
    for alpha, y in ((0.5, labels), (0.5, np.eye(3, dtype="float32")[labels]), (0.0, None)):
        model = Distiller(student, _net(1), alpha=alpha)
        model.compile(optimizer="sgd")
        history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        assert np.isfinite(history.history["loss"][0])
    # one-hot rows and their integer labels: the same loss
    model = Distiller(_net(0), _net(1), alpha=0.5)
    probs = model.student(x)
    one_hot, integer = (float(keras.ops.convert_to_numpy(model.compute_loss(x, y, probs)))
                        for y in (np.eye(3, dtype="float32")[labels], labels))
    assert one_hot == pytest.approx(integer, rel=1e-6)


def test_a_saved_distiller_loads_with_both_nets_and_its_settings(tmp_path):
    model = Distiller(_net(0, name="student"), _net(1, name="teacher"), alpha=0.2,
                      temperature=3.0)
    model.save(tmp_path / "distiller.keras")
    back = keras.saving.load_model(tmp_path / "distiller.keras")
    assert (back.alpha, back.temperature) == (0.2, 3.0) and not back.teacher.trainable
    x = np.random.default_rng(4).normal(size=(8, 4)).astype("float32")
    for mine, theirs in ((model.student, back.student), (model.teacher, back.teacher)):
        np.testing.assert_allclose(theirs.predict(x, verbose=0), mine.predict(x, verbose=0),
                                   rtol=1e-6)


_REPLICAS = """
import os, sys, json
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                           [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
sys.path.insert(0, sys.argv[1])
from test_distill import _net
from cnn_keras.distill import Distiller
x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
y = np.random.default_rng(1).integers(0, 3, size=32)
out = {}
for devices in (1, 2):
    strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(devices)])
    with strategy.scope():
        model = Distiller(_net(0), _net(1), alpha=0.5, temperature=2.0)
        model.compile(optimizer=keras.optimizers.SGD(0.1))
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    loss = model.fit(data, epochs=1, verbose=0).history["loss"][0]
    out[devices] = [loss, float(np.abs(model.student.get_weights()[0]).sum())]
print(json.dumps(out))
"""


def test_two_replicas_give_the_loss_and_the_step_of_one():
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _REPLICAS, str(Path(__file__).parent)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["2"] == pytest.approx(out["1"], rel=1e-5)


@pytest.mark.parametrize("kwargs,match", [
    ({"alpha": 1.5}, r"`alpha` must be a finite number >= 0 and <= 1.*alpha=1.5"),
    ({"temperature": 0}, r"`temperature` must be a finite number > 0.*temperature=0"),
    ({"teacher": "net"}, r"`teacher` must be a keras.Model.*teacher='str'"),
    ({"teacher": _net(2, classes=4)}, r"`teacher` must predict the student's 3 classes"),
])
def test_bad_arguments_name_themselves(kwargs, match):
    args = {"student": _net(0), "teacher": _net(1), **kwargs}
    with pytest.raises(ValueError, match=match):
        Distiller(args.pop("student"), args.pop("teacher"), **args)


# --- the CIFAR-10 experiment of notebook 06 -----------------------------------------------------
class _StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt  # after the backup has kept the epoch


def test_the_command_trains_records_and_resumes_after_an_epoch_as_if_never_stopped(
        tmp_path, monkeypatch, capsys):
    from cnn_keras.cli.commands import main
    from cnn_keras.experiments import distillation

    monkeypatch.setattr(distillation, "MODES", {**distillation.MODES, "quick": (128, 64, 2)})
    monkeypatch.setattr(distillation, "ARMS", {"distilled": 0.5})
    whole_dir, dest = tmp_path / "whole", tmp_path / "results" / "distill-cpu"
    assert main(["distill", "--mode", "quick", "--out", str(whole_dir), "--quiet",
                 "--results", str(RESULTS)]) == 0
    assert "distilled  seed 0:" in capsys.readouterr().out
    (whole_dir / "labels-seed1").mkdir()  # an arm that never finished is not part of a record
    (whole_dir / "labels-seed1" / "history.csv").write_text("epoch,loss\n1,2.0\n")
    assert main(["record", str(whole_dir), str(dest)]) == 0
    kept = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert kept == ["distilled-seed0/history.csv", "distilled-seed0/result.json", "run.json"]
    whole = json.loads((dest / "distilled-seed0" / "result.json").read_text())

    kw = {"seeds": [0], "results_dir": RESULTS, "verbose": 0}
    with pytest.raises(KeyboardInterrupt):
        distillation.run("quick", tmp_path / "cut", callbacks=[_StopAfterFirstEpoch()], **kw)
    assert not (tmp_path / "cut" / "distilled-seed0" / "result.json").exists()
    backup = tmp_path / "cut" / "distilled-seed0" / "backup"
    assert sorted(p.name for p in backup.iterdir()) == ["epoch-0001.weights.h5",
                                                        "training_metadata.json"]
    # the next epoch's weights half-written when the power went: not committed, so not read
    (backup / ".epoch-0002.weights.h5.partial.weights.h5").write_bytes(b"cut off")
    [resumed] = distillation.run("quick", tmp_path / "cut", **kw)
    assert resumed["resumed_after_epoch"] == 1 and whole["resumed_after_epoch"] == 0
    for key in ("final_test_error", "final_train_loss"):
        assert resumed[key] == whole[key]
    assert distillation.run("quick", tmp_path / "cut", **kw) == [resumed]  # read back
    assert not backup.exists()  # the result written, the backup is gone
    history = (tmp_path / "cut" / "distilled-seed0" / "history.csv").read_text().splitlines()
    assert len(history) == 3 and history[1].startswith("1,") and history[2].startswith("2,")
    assert resumed["seconds"] > whole["seconds"] / 3  # both sessions' epochs counted
    monkeypatch.setattr(distillation, "MODES", {**distillation.MODES, "quick": (128, 64, 3)})
    with pytest.raises(ValueError, match=r"`out_dir` holds a run of other settings in .*"
                                         r"distilled-seed0 \(epochs differ\)"):
        distillation.run("quick", tmp_path / "cut", **kw)
    with pytest.raises(SystemExit) as stop:
        main(["distill", "--mode", "fast"])
    assert stop.value.code == 2 and "--mode: invalid choice: 'fast'" in capsys.readouterr().err


class _StopAtTheEnd(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        raise KeyboardInterrupt  # every epoch backed up, the result not yet written


def test_an_arm_stopped_after_its_last_backup_is_evaluated_not_retrained(tmp_path, monkeypatch):
    from cnn_keras.experiments import distillation

    monkeypatch.setattr(distillation, "MODES", {**distillation.MODES, "quick": (128, 64, 1)})
    monkeypatch.setattr(distillation, "ARMS", {"labels": 1.0})
    kw = {"seeds": [0], "results_dir": RESULTS, "verbose": 0}
    [whole] = distillation.run("quick", tmp_path / "whole", **kw)
    with pytest.raises(KeyboardInterrupt):
        distillation.run("quick", tmp_path / "cut", callbacks=[_StopAtTheEnd()], **kw)
    [resumed] = distillation.run("quick", tmp_path / "cut", **kw)
    assert resumed["resumed_after_epoch"] == 1 and whole["resumed_after_epoch"] == 0
    assert resumed["final_test_error"] == whole["final_test_error"]
    assert not (tmp_path / "cut" / "labels-seed0" / "backup").exists()


def test_compile_refuses_a_loss_of_its_own():
    with pytest.raises(ValueError, match="`loss` must be left out.*Received: loss='mse'"):
        Distiller(_net(0), _net(1)).compile(optimizer="sgd", loss="mse")
