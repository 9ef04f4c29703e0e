"""Data-parallel training on TensorFlow (`training.distribute`, `Engine(devices=N)`): on 2
logical CPU devices, a ResNet-8 (distributed_run) gives the losses of one device at the same
global batch, with the synchronized batch norm, L2SGD's coupled weight decay and the tf.data
pipeline's split batches, and resumes after an interruption (JAX: test_distribute_jax.py)."""

import pytest
from distributed_run import launch


@pytest.mark.slow
def test_two_devices_give_the_losses_of_one_and_resume(tmp_path):
    [[one, two]] = launch("tensorflow", [1, 2], 1, tmp_path)
    assert (one["devices"], two["devices"]) == (1, 2)
    assert two["resumed"] == 1  # interrupted after epoch 1, resumed
    assert two["synchronized"] == 7  # every BN layer of the ResNet-8: stem, 3 blocks x 2
    # float tolerance: measured with ResNet-20, whose two runs' weights differ as much as one
    # device's with and without the fused batch-norm kernel (largest relative kernel
    # difference 2.5e-3 vs 2.1e-3); the validation loss after 8 steps is the most sensitive
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


def test_joining_several_processes_checks_its_arguments(monkeypatch):
    import keras

    from cnn_keras.training import distribute

    with pytest.raises(ValueError, match=r"JAX backend.*keras#20585.*Received: "
                                         r"backend='tensorflow'"):
        distribute.join("localhost:1234", 2, 0)
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(ValueError, match="`coordinator` must be 'host:port'.*Received"):
        distribute.join("localhost", 2, 0)
    with pytest.raises(ValueError, match=r"`process_id` must be 0 \.\. 1.*Received: "
                                         r"process_id=2"):
        distribute.join("localhost:1234", 2, 2)
