"""Data-parallel training (`training.distribute`, `Engine(devices=N)`): on 2 logical CPU
devices, one epoch of ResNet-20 gives the losses of one device at the same global batch, with
the fused batch norm, L2SGD's coupled weight decay and the tf.data pipeline's split batches.
TensorFlow fixes its devices at start-up, so each run is a fresh process."""

import json
import subprocess
import sys
import textwrap

import pytest

_RUN = textwrap.dedent("""
    import json, os, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from cnn_keras import data, training
    devices, out = int(sys.argv[1]), sys.argv[2]
    images = data.synthetic_dataset(128, 64, num_classes=4, seed=0)
    # a strong weight decay, so that a replica left undecayed would show in the losses
    recipe = training.scaled_recipe(2, batch_size=32, lr=0.02, weight_decay=0.05)
    history = training.train("resnet20", images, out, recipe=recipe, seed=0, verbose=0,
                             engine=training.Engine(devices=devices))
    info = json.load(open(os.path.join(out, "run.json")))
    print(json.dumps({"loss": [r["loss"] for r in history],
                      "val_loss": [r["val_loss"] for r in history],
                      "devices": info["devices"],
                      "synchronized": info.get("synchronized_batch_norm_layers", 0)}))
""")


def _train(devices, out):
    done = subprocess.run([sys.executable, "-c", _RUN, str(devices), str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_devices_give_the_losses_of_one_at_the_same_global_batch(tmp_path):
    one, two = _train(1, tmp_path / "one"), _train(2, tmp_path / "two")
    assert (one["devices"], two["devices"]) == (1, 2)
    assert two["synchronized"] == 19  # every BN layer of ResNet-20
    # float tolerance: measured, the two runs' weights differ as much as one device's with and
    # without the fused batch-norm kernel (largest relative kernel difference 2.5e-3 vs
    # 2.1e-3), and the validation loss after 8 steps is the most sensitive number
    assert two["loss"] == pytest.approx(one["loss"], rel=3e-4)
    assert two["val_loss"] == pytest.approx(one["val_loss"], rel=3e-3)


@pytest.mark.parametrize("name, decays", [
    ("conv/kernel", True), ("sequential/dense/kernel:0", True),
    ("sequential/dense/kernel/replica_1:0", True),  # another replica's copy, MirroredStrategy
    ("dw/depthwise_kernel/replica_3:0", True), ("bn/gamma", False),
    ("dense/bias/replica_1:0", False)])
def test_coupled_l2_decays_every_replicas_kernels(name, decays):
    from types import SimpleNamespace

    from cnn_keras.training.optim import L2SGD

    assert L2SGD.decays(SimpleNamespace(name=name)) is decays


def test_more_devices_than_the_process_sees_is_a_one_line_error(tmp_path):
    from cnn_keras import data, training

    images = data.synthetic_dataset(256, 32, num_classes=4, seed=0)
    with pytest.raises(ValueError, match=r"`devices` must be at most the 1 CPU.*Received: "
                                         r"devices=64"):
        training.train("resnet20", images, tmp_path / "run", recipe=training.scaled_recipe(1),
                       engine=training.Engine(devices=64), verbose=0)
    with pytest.raises(ValueError, match="devices"):
        training.Engine(devices=0)
