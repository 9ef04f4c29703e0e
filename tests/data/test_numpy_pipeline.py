"""The TensorFlow-free path (cnn_keras.data.numpy_pipeline): numpy batches,
train(engine=Engine(pipeline="numpy")), dtype policies."""

import json

import keras
import numpy as np
import pytest

from cnn_keras import data as data_lib
from cnn_keras import training

TINY = {"model_name": "resnet20", "seed": 2, "verbose": 0,
        "recipe": training.scaled_recipe(2, batch_size=16)}
NUMPY = training.Engine(pipeline="numpy")


def _batches(ds):
    return [ds[i] for i in range(len(ds))]


def _data(n=40, seed=0):
    x = np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    return x, np.arange(n)  # label i marks image i


@pytest.mark.parametrize("mean_shape", [(32, 32, 3), (1, 1, 3)])
def test_augmented_batches_are_pad_crop_flip_of_the_normalised_images(mean_shape):
    x, y = _data(64)
    mean = np.random.default_rng(1).uniform(0.3, 0.6, mean_shape).astype(np.float32)
    ds = data_lib.NumpyTrainBatches(x, y, batch_size=32, mean=mean, seed=4, workers=1)
    for i in range(len(ds)):
        images, labels = ds[i]
        reference = data_lib.pad_crop_flip_numpy(
            x[labels].astype(np.float32) / 255.0 - mean, np.random.default_rng([4, 0, i + 1]))
        np.testing.assert_array_equal(images, reference)
        assert images.dtype == np.float32


def test_numpy_batches_cover_distinct_examples_without_augmentation():
    x, y = _data(40)
    mean = data_lib.per_pixel_mean(x)
    ds = data_lib.NumpyTrainBatches(x, y, batch_size=16, mean=mean, seed=0, augment=False,
                                    workers=1)
    assert len(ds) == data_lib.steps_per_epoch(40, 16) == 2  # the partial batch is dropped
    labels = []
    for images, lab in _batches(ds):
        assert images.shape == (16, 32, 32, 3) and lab.dtype == np.int32
        np.testing.assert_array_equal(images, x[lab].astype(np.float32) / 255.0 - mean)
        labels.extend(lab.tolist())
    assert len(set(labels)) == 32


def test_numpy_batches_depend_only_on_seed_and_epoch():
    x, y = _data(40)
    kw = {"batch_size": 8, "mean": data_lib.per_pixel_mean(x), "workers": 1}
    ds = data_lib.NumpyTrainBatches(x, y, seed=5, **kw)
    epoch0 = _batches(ds)
    ds.on_epoch_end()
    epoch1 = _batches(ds)
    started_at_1 = _batches(data_lib.NumpyTrainBatches(x, y, seed=5, initial_epoch=1, **kw))
    for (xa, ya), (xb, yb) in zip(epoch1, started_at_1, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert len({i for _, lab in epoch1 for i in lab.tolist()}) == 40
    assert not np.array_equal(epoch0[0][1], epoch1[0][1])
    other_seed = _batches(data_lib.NumpyTrainBatches(x, y, seed=6, **kw))
    assert not np.array_equal(epoch0[0][0], other_seed[0][0])


@pytest.mark.parametrize("change", [{"batch_size": 0}, {"batch_size": 41}, {"float_x": True},
                                    {"y": np.arange(39)}])
def test_numpy_batches_reject_bad_inputs(change):
    x, y = _data(40)
    if change.pop("float_x", False):
        x = x.astype(np.float32)
    kw = {"x": x, "y": y, "batch_size": 8, "mean": None, "seed": 0} | change
    with pytest.raises(ValueError, match="Received:"):
        data_lib.NumpyTrainBatches(**kw)


def test_eval_arrays_scale_and_cast():
    x, y = _data(6)
    mean = data_lib.per_pixel_mean(x)
    xe, ye = data_lib.eval_arrays(x, y.astype(np.int64), mean=mean)
    assert xe.dtype == np.float32 and ye.dtype == np.int32
    np.testing.assert_array_equal(xe, x.astype(np.float32) / 255.0 - mean)
    np.testing.assert_array_equal(ye, y)


@pytest.fixture(scope="module")
def tiny():
    return data_lib.synthetic_dataset(64, 32, seed=0)


@pytest.fixture(scope="module")
def full_run(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("numpy-full")
    return out, training.train(data=tiny, out_dir=out, engine=NUMPY, **TINY)


def test_train_with_numpy_pipeline_finishes(full_run):
    out, rows = full_run
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(np.isfinite(r["loss"]) for r in rows)
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "finished" and info["input_pipeline"] == "numpy"


def test_numpy_pipeline_resume_matches_uninterrupted_run(full_run, tiny, tmp_path):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        training.train(data=tiny, out_dir=tmp_path, engine=NUMPY, callbacks=[Interrupt()],
                       **TINY)
    assert len(training.read_history_csv(tmp_path / "history.csv")) == 1
    resumed = training.train(data=tiny, out_dir=tmp_path, engine=NUMPY, **TINY)
    assert [r["epoch"] for r in resumed] == [1, 2]
    np.testing.assert_allclose(resumed[1]["loss"], full_run[1][1]["loss"], rtol=1e-5)
    assert json.loads((tmp_path / "run.json").read_text())["resumed"][0]["at_epoch"] == 1


@pytest.mark.parametrize("arg", [{"pipeline": "bogus"}, {"dtype_policy": "float16"}])
def test_train_rejects_unknown_pipeline_and_dtype_policy(arg, tiny, tmp_path):
    name = next(iter(arg))
    with pytest.raises(ValueError, match=f"`{name}`.*Received: {name}="):
        training.train(data=tiny, out_dir=tmp_path, engine=training.Engine(**arg), **TINY)
    assert not (tmp_path / "run.json").exists()


def test_mixed_bfloat16_trains_and_restores_the_global_policy(tiny, tmp_path):
    assert keras.config.dtype_policy().name == "float32"
    seen = {}

    class Policies(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.update((layer.dtype_policy.name, 1) for layer in self.model.layers)

    recipe = training.scaled_recipe(1, batch_size=16)
    rows = training.train(data=tiny, out_dir=tmp_path, callbacks=[Policies()],
                          engine=training.Engine(pipeline="numpy", dtype_policy="mixed_bfloat16"),
                          **TINY | {"recipe": recipe, "model_name": "alexnet_fig1"})
    assert len(rows) == 1 and np.isfinite(rows[0]["loss"])
    assert "mixed_bfloat16" in seen  # the model was built under the mixed policy
    assert keras.config.dtype_policy().name == "float32"
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["config"]["dtype_policy"] == "mixed_bfloat16"
