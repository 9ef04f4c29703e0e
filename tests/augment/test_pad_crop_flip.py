"""The ResNet paper's pad-crop-flip (cnn_keras.augment.cifar), three ways: tf.data ops, numpy,
and the Keras layer `PadCropFlip` (on the device)."""

import numpy as np
import pytest
import tensorflow as tf

import keras

from cnn_keras import augment, data
from cnn_keras.augment import cifar

from built import infer


def _images(n=6, size=12, seed=0):
    return np.random.default_rng(seed).normal(size=(n, size, size, 3)).astype("float32")


def _candidates(image, pad):
    """Every pad-crop-flip view of one image: (2 pad + 1)^2 offsets, flipped or not."""
    h, w, _ = image.shape
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)))
    views = []
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            view = padded[dy:dy + h, dx:dx + w]
            views += [view, view[:, ::-1]]
    return views


# --- tf.data ---------------------------------------------------------------------------------


def test_pad_crop_flip_windows_and_flips():
    rng = np.random.default_rng(0)
    images = rng.random((400, 6, 5, 2)).astype(np.float32) + 1.0  # nonzero, unlike padding
    out = augment.pad_crop_flip(tf.constant(images), tf.constant([1, 2]), pad=2).numpy()
    assert out.shape == images.shape and out.dtype == np.float32
    padded = np.pad(images, [(0, 0), (2, 2), (2, 2), (0, 0)])
    flips, offsets = 0, set()
    for i in range(len(images)):
        found = [
            (dy, dx, flip)
            for dy in range(5)
            for dx in range(5)
            for flip in (False, True)
            if np.array_equal(
                out[i],
                (lambda w: w[:, ::-1] if flip else w)(padded[i, dy : dy + 6, dx : dx + 5]),
            )
        ]
        assert found, f"output {i} is not a window of the padded image"
        flips += found[0][2]
        offsets.add(found[0][:2])
    assert 0.4 < flips / len(images) < 0.6
    assert len(offsets) == 25  # every offset in [0, 2 pad] on both axes occurs
    again = augment.pad_crop_flip(images, [1, 2], pad=2).numpy()
    assert np.array_equal(out, again)
    assert not np.array_equal(out, augment.pad_crop_flip(images, [1, 3], pad=2).numpy())


def test_pad_crop_flip_default_pad_and_int64_seed():
    images = tf.random.stateless_uniform([8, 32, 32, 3], seed=[0, 0])
    out = augment.pad_crop_flip(images, tf.constant([5, 6], tf.int64))
    assert out.shape == (8, 32, 32, 3)
    # A crop that is not the identity shows the zero padding somewhere.
    fn = tf.function(lambda x, s: augment.pad_crop_flip(x, s))
    assert fn(images, tf.constant([5, 6], tf.int64)).shape == (8, 32, 32, 3)


# --- numpy ---------------------------------------------------------------------------------


def test_pad_crop_flip_numpy_is_a_zero_padded_window_maybe_flipped():
    image = np.arange(1, 32 * 32 * 3 + 1, dtype=np.float32).reshape(32, 32, 3)  # all distinct
    images = np.repeat(image[None], 256, axis=0)
    out = augment.pad_crop_flip_numpy(images, np.random.default_rng(0))
    assert out.shape == images.shape and out.dtype == images.dtype
    padded = np.pad(image, ((4, 4), (4, 4), (0, 0)))
    windows = {}
    for oy in range(9):
        for ox in range(9):
            win = padded[oy:oy + 32, ox:ox + 32]
            windows[win.tobytes()] = (oy, ox, False)
            windows[win[:, ::-1].tobytes()] = (oy, ox, True)
    assert len(windows) == 162
    found = [windows.get(o.tobytes()) for o in out]
    assert None not in found
    oys, oxs, flips = zip(*found)
    assert set(flips) == {False, True}
    assert len(set(oys)) > 1 and len(set(oxs)) > 1
    again = augment.pad_crop_flip_numpy(images, np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)


# --- the Keras layer -----------------------------------------------------------------------


def test_gather_is_the_numpy_pipelines_augmentation():
    x = _images(8, 32)
    rows, cols = cifar._crop_windows(8, 32, 32, np.random.default_rng(5), 4)
    expected = augment.pad_crop_flip_numpy(x, np.random.default_rng(5))
    got = keras.ops.convert_to_numpy(cifar._gather_windows(x, rows, cols))
    np.testing.assert_array_equal(got, expected)


def test_identity_at_inference_a_view_of_each_image_in_training():
    x = _images(16, 10)
    layer = augment.PadCropFlip(pad=2, seed=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    assert out.shape == x.shape and not np.array_equal(out, x)
    picked = []
    for image, view in zip(x, out):  # each output is one of its own image's 50 views
        matches = [i for i, c in enumerate(_candidates(image, 2)) if np.array_equal(c, view)]
        assert matches, "an output image is not a pad-crop-flip of its input"
        picked.append(matches[0])
    assert len(set(picked)) > 1  # one draw per image, not one per batch


def test_seeded_layers_draw_the_same_augmentations():
    x = _images()
    a, b = augment.PadCropFlip(seed=3), augment.PadCropFlip(seed=3)
    first = keras.ops.convert_to_numpy(a(x, training=True))
    np.testing.assert_array_equal(first, keras.ops.convert_to_numpy(b(x, training=True)))
    assert not np.array_equal(first, keras.ops.convert_to_numpy(a(x, training=True)))


def test_trains_inside_a_model_and_saves(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10, 10, 3)), augment.PadCropFlip(pad=2, seed=0),
                              keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3)])
    model.compile(optimizer="sgd",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _images(16, 10), np.arange(16) % 3
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].get_config()["pad"] == 2 and loaded.layers[0].seed == 0
    np.testing.assert_allclose(infer(loaded, x), infer(model, x),
                               rtol=1e-6)


@pytest.mark.parametrize("kw,match", [({"pad": -1}, "Received: pad=-1"),
                                      ({"pad": 1.5}, "Received: pad=1.5"),
                                      ({"seed": "a"}, "Received: seed='a'")])
def test_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        augment.PadCropFlip(**kw)


def test_augment_in_model_rewires_the_same_layers():
    from cnn_keras import resnet20, training
    from cnn_keras.analysis import count_params

    net = resnet20(input_shape=(32, 32, 3))
    model = training.augment_in_model(net, seed=1)
    assert model.name == net.name and model.layers[1].name == "pad_crop_flip"
    assert [layer.name for layer in model.layers[2:]] == [layer.name for layer in net.layers[1:]]
    assert model.get_layer("conv1_conv") is net.get_layer("conv1_conv")  # shared
    assert count_params(model) == count_params(net)
    x = _images(4, 32)
    np.testing.assert_allclose(infer(model, x), infer(net, x),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="Received: model="):
        training.augment_in_model("resnet20")


@pytest.fixture(scope="module")
def layer_run(tmp_path_factory):
    from cnn_keras import training

    out = tmp_path_factory.mktemp("layer-full")
    tiny = data.synthetic_dataset(64, 32, seed=0)
    # the four-layer CNN of AlexNet's Fig. 1: what is tested is the layer's saved random state
    kw = {"model_name": "alexnet_fig1", "seed": 2, "verbose": 0, "data": tiny,
          "recipe": training.scaled_recipe(2, batch_size=16),
          "engine": training.Engine(pipeline="layer")}
    return out, kw, training.train(out_dir=out, **kw)


def test_train_with_the_augmentation_in_the_model(layer_run):
    import json

    from cnn_keras import training

    out, _, rows = layer_run
    assert [r["epoch"] for r in rows] == [1, 2] and all(np.isfinite(r["loss"]) for r in rows)
    info = json.loads((out / "run.json").read_text())
    assert info["input_pipeline"] == "layer" and info["config"]["augment_in_model"] is True
    model = training.load_checkpoint_model(out)
    assert isinstance(model.get_layer("pad_crop_flip"), data.PadCropFlip)


def test_layer_pipeline_resumes_like_an_uninterrupted_run(layer_run, tmp_path):
    from cnn_keras import training

    _, kw, full = layer_run

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        training.train(out_dir=tmp_path, callbacks=[Interrupt()], **kw)
    resumed = training.train(out_dir=tmp_path, **kw)
    np.testing.assert_allclose([r["loss"] for r in resumed], [r["loss"] for r in full],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="other settings"):  # would augment twice
        training.train(out_dir=tmp_path, **kw | {"engine": training.Engine(pipeline="numpy")})


def test_saved_layer_continues_its_random_draws(tmp_path):
    x = _images(4, 10)
    model = keras.Sequential([keras.Input((10, 10, 3)), augment.PadCropFlip(pad=2, seed=4)])
    model(x, training=True)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x, training=True)),
                                  keras.ops.convert_to_numpy(model(x, training=True)))
