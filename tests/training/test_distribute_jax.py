"""Data-parallel training on JAX: `keras.distribution.DataParallel` over 2 host devices of one
process, and over 2 processes joined over loopback (Keras 3's several-host path), each
feeding its share of every batch (`distribute.shard_batches`, `streaming.train_dataset`'s
`shard`), the chief alone writing the run folder. A ResNet-8 (distributed_run) gives the
losses of one device at the same global batch and resumes after an interruption. Skipped
without jax."""

import json

import numpy as np
import pytest
import tensorflow as tf
from distributed_run import launch

pytest.importorskip("jax", reason="the JAX engine's tests need jax (pip install jax)")


@pytest.mark.slow
def test_two_devices_and_two_processes_give_the_losses_of_one_and_resume(tmp_path):
    [[one, devices]] = launch("jax", [1, 2], 1, tmp_path / "devices")
    [chief], [other] = launch("jax", [2], 2, tmp_path / "processes")
    assert (one["devices"], devices["devices"], chief["devices"]) == (1, 2, 2)
    assert chief == other  # the same replicated model in both processes
    for run in (devices, chief):
        assert run["resumed"] == 1 and run["synchronized"] == 0  # JAX's BN is global anyway
        # float tolerance: measured with ResNet-20 (Zen 4, distributed_run's fast XLA flags)
        # 1.2e-3 and 3.3e-3 (two devices), 3.9e-4 and 1.8e-3 (two processes): rounding grown
        # over 8 steps with a strong weight decay; a batch seen twice moves them by far more
        assert run["loss"] == pytest.approx(one["loss"], rel=3e-3)
        assert run["val_loss"] == pytest.approx(one["val_loss"], rel=8e-3)
    files = sorted(p.name for p in (tmp_path / "processes" / "on2").iterdir())
    assert files == [".train.lock", "checkpoint-0002.keras", "history.csv", "model.keras",
                     "progress.json", "run.json"]  # written once, by the chief
    assert json.loads((tmp_path / "processes" / "on2" / "run.json").read_text())["status"] \
        == "finished"


def test_process_shares_of_a_batch_make_the_batch(tmp_path):
    from cnn_keras.training.distribute import shard_batches

    batches = tf.data.Dataset.range(24).batch(8)
    shares = [list(shard_batches(batches, 8, (i, 2)).as_numpy_iterator()) for i in (0, 1)]
    assert [len(s) for s in shares] == [3, 3]
    for step, whole in enumerate(batches.as_numpy_iterator()):
        together = np.concatenate([shares[0][step], shares[1][step]])
        assert sorted(together) == sorted(whole)  # every example once, in its own step
