"""VGG's scale jittering (Sec. 3.1) on CIFAR: the tf.data pipeline's `scale_jitter`, the recipe
setting that asks for it, and the study variant that measures it (notebook 02)."""

import json

import numpy as np
import pytest

from cnn_keras import data as data_lib
from cnn_keras import training
from cnn_keras.experiments import runner, studies

from tiny import SMALL, tiny_data

# a mean no pixel equals (127.83 / 255): after normalisation only the padding is exactly 0
MEAN = np.full((32, 32, 3), 0.5013, np.float32)


def _batches(x, **kw):
    y = np.zeros(len(x), np.int32)
    ds = data_lib.train_dataset(x, y, batch_size=16, mean=MEAN, seed=3, epochs=2, **kw)
    return np.concatenate([b.numpy() for b, _ in ds])


def _images(n=32, side=32):
    return np.random.default_rng(0).integers(0, 256, (n, side, side, 3), dtype=np.uint8)


def test_jittered_batches_are_rescaled_crops_under_the_same_pad_crop_flip():
    x = _images()
    plain, same_scale = _batches(x), _batches(x, scale_jitter=(32, 32))
    np.testing.assert_array_equal(same_scale, plain)  # S = 32: the images as they are
    jittered = _batches(x, scale_jitter=(32, 64))
    np.testing.assert_array_equal(jittered, _batches(x, scale_jitter=(32, 64)))  # seeded
    # the rescaling draws from a seed of its own: every image has the plain run's window
    np.testing.assert_array_equal(jittered == 0, plain == 0)
    assert (plain == 0).any()
    inside = plain != 0
    changed = np.abs(jittered - plain).max(axis=(1, 2, 3)) > 1e-3
    assert 0.8 < changed.mean() < 1  # S = 32 of the 33 sides leaves an image as it is
    # enlarged: neighbouring pixels closer than in the random originals
    step = np.abs(np.diff(jittered, axis=2))[inside[:, :, 1:]].mean()
    assert step < 0.8 * np.abs(np.diff(plain, axis=2))[inside[:, :, 1:]].mean()


@pytest.mark.parametrize("kw,match", [
    ({"scale_jitter": (64, 32)}, r"`scale_jitter` must be None or a pair of integers.*"
                                 r"Received: scale_jitter=\(64, 32\)"),
    ({"scale_jitter": 48}, r"Received: scale_jitter=48"),
    ({"scale_jitter": (24, 64)}, r"S_min must be at least the side of the images \(32\)"),
    ({"scale_jitter": (32, 64), "augment": False},
     r"`augment` must be True with scale_jitter=\(32, 64\).*Received: augment=False"),
])
def test_bad_jitter_arguments_say_what_they_got(kw, match):
    with pytest.raises(ValueError, match=match):
        _batches(_images(), **kw)


def test_jittering_needs_square_images():
    x = np.zeros((8, 32, 24, 3), np.uint8)
    with pytest.raises(ValueError, match=r"must be square.*image_size=\(32, 24\)"):
        data_lib.train_dataset(x, np.zeros(8, np.int32), batch_size=4, mean=0.5, seed=0,
                               epochs=1, scale_jitter=(32, 64))


def test_the_recipe_keeps_the_range_as_a_tuple_and_records_it_only_when_set():
    jitter = training.Recipe(name="j", epochs=2, scale_jitter=[32, 64])
    assert jitter.scale_jitter == (32, 64)
    assert jitter.to_dict()["scale_jitter"] == (32, 64)
    plain = training.scaled_recipe(2).to_dict(10)
    assert "scale_jitter" not in plain  # the runs recorded before it still resume
    same = training.RunFolder.comparable
    assert same({"recipe": plain}) != same({"recipe": training.Recipe(
        name=plain["name"], epochs=2, scale_jitter=(32, 64)).to_dict(10)})
    with pytest.raises(ValueError, match=r"`augment` must be True.*Received: augment=False"):
        training.Recipe(name="j", epochs=2, scale_jitter=(32, 64), augment=False)
    with pytest.raises(ValueError, match=r"Received: scale_jitter='big'"):
        training.Recipe(name="j", epochs=2, scale_jitter="big")


def test_train_jitters_in_the_tf_data_pipeline_only(tmp_path):
    data = tiny_data(n_train=64)
    recipe = training.Recipe(name="j", epochs=1, batch_size=32, lr=0.01,
                             scale_jitter=(32, 48))
    [jittered] = training.train(SMALL, data, tmp_path / "tf", recipe=recipe, verbose=0)
    # read back from run.json, where the range is a list: the same settings, not a new run
    assert training.train(SMALL, data, tmp_path / "tf", recipe=recipe, verbose=0) == [jittered]
    [plain] = training.train(SMALL, data, tmp_path / "plain", verbose=0,
                             recipe=training.Recipe(name="j", epochs=1, batch_size=32, lr=0.01))
    assert jittered["loss"] != plain["loss"]  # the same seed, other images
    with pytest.raises(ValueError, match=r"S_min must be at least the side of the images"):
        training.train(SMALL, data, tmp_path / "small", verbose=0, recipe=training.Recipe(
            name="j", epochs=1, batch_size=32, scale_jitter=(24, 48)))
    assert not (tmp_path / "small").exists()  # refused before any work
    for pipeline in ("numpy", "layer"):
        with pytest.raises(ValueError, match=rf"Scale jittering .* Received: "
                                             rf"pipeline='{pipeline}'"):
            training.train(SMALL, data, tmp_path / pipeline, recipe=recipe, verbose=0,
                           engine=training.Engine(pipeline=pipeline))


def test_vgg_d_with_jittering_is_d_with_the_papers_range_scaled_to_32_px():
    study = studies.get("vgg_depth")
    variants = {v.key: v for v in study.variants}
    jitter, d = variants["D_jitter"], variants["D"]
    assert (jitter.model, jitter.kwargs) == (d.model, d.kwargs)
    assert runner.recipe(study, "record", variant=jitter).scale_jitter == (32, 64)
    assert runner.recipe(study, "record", variant=d).scale_jitter is None
    assert runner.recipe(study, "record", variant=jitter).name == \
        "scaled-20ep-scale_jitter32-64"


def test_dense_evaluation_averages_the_windows_of_the_enlarged_images():
    import keras

    from cnn_keras import evaluation

    x = _images(n=6)
    inp = keras.Input((32, 32, 3))
    net = keras.Model(inp, keras.layers.Dense(4, activation="softmax")(keras.layers.Flatten()(inp)))
    at_32 = evaluation.predict_dense(net, x, MEAN, scale=32)  # no enlargement: the plain test
    np.testing.assert_allclose(at_32, net.predict(x / 255.0 - MEAN, verbose=0), atol=1e-6)
    big = np.asarray(keras.ops.image.resize(x.astype("float32"), (48, 48)))
    corners = [net.predict(big[:, r:r + 32, c:c + 32] / 255.0 - MEAN, verbose=0)
               for r in (0, 8, 16) for c in (0, 8, 16)]
    np.testing.assert_allclose(evaluation.predict_dense(net, x, MEAN, scale=48),
                               np.mean(corners, axis=0), atol=1e-5)
    with pytest.raises(ValueError, match=r"`scale` must be an integer >= 32.*scale=24"):
        evaluation.predict_dense(net, x, MEAN, scale=24)


def test_a_jittered_record_is_tested_at_the_middle_of_its_range(tmp_path, capsys):
    from cnn_keras.experiments import ablation

    data = data_lib.synthetic_dataset(256, 32, seed=0)
    [row] = ablation.run("vgg_depth", "quick", tmp_path, variants=["D_jitter"], data=data,
                         verbose=0, epochs=1)
    assert row["test_scale"] == 48 and row["final_test_error_q"] is not None
    kept = json.loads((tmp_path / "D_jitter" / "run.json").read_text())["scaled_test_error"]
    assert kept == {"scale": 48, "error": row["final_test_error_q"], "images": 32}
    runner.print_summary([row], None)
    assert f"{row['final_test_error_q']:.2f} % test error at Q = 48 px" in capsys.readouterr().out
    plain = runner._at_test_scale({"final_test_error": 24.3}, "D", {})
    assert plain == {"test_scale": None, "final_test_error_q": 24.3}  # tested as trained
