"""`training.train` on a streamed image folder with a paper's ImageNet recipe: it trains,
records, exports and resumes like the in-memory CIFAR path (the same seed giving the same
batches is the pipeline's test, tests/data/test_streaming.py)."""

import json

import numpy as np
import pytest
import tensorflow as tf

from cnn_keras import training
from cnn_keras.data import streaming
from cnn_keras.training import imagenet_recipes


def _folder(root):
    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("val", 2)):
        for c, colour in enumerate(((200, 30, 30), (30, 200, 30), (30, 30, 200))):
            for i in range(n):
                image = np.clip(rng.normal(colour, 40, (40, 48, 3)), 0, 255).astype(np.uint8)
                path = root / split / f"class{c}" / f"{i}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(tf.io.encode_jpeg(image).numpy())
    return root


def _run(data, out, epochs=2):
    recipe = imagenet_recipes.rescaled(imagenet_recipes.get("mobilenet"), batch_size=8,
                                       epochs=epochs)
    return training.train("mobilenet", data, out, recipe=recipe, seed=0, verbose=0,
                          model_kwargs={"alpha": 0.25})


@pytest.mark.slow
def test_a_streamed_run_trains_records_and_resumes(tmp_path):
    data = streaming.open_folder(_folder(tmp_path / "images"), size=32)
    history = _run(data, tmp_path / "run")
    assert [r["epoch"] for r in history] == [1, 2] and all(np.isfinite(r["loss"])
                                                          for r in history)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == "finished" and info["config"]["recipe"]["name"] == \
        "mobilenet-batch8-2ep"
    assert info["config"]["dataset"]["test_split"] == "val"
    assert info["config"]["dataset"]["std"] == list(streaming.IMAGENET_STD)
    # model.keras takes raw [0, 255] crops: its normalisation is the pipeline's
    import keras

    import cnn_keras  # noqa: F401  (registers the custom objects)

    saved = keras.models.load_model(tmp_path / "run" / "model.keras")
    x, y = next(iter(streaming.eval_dataset(data.test, batch_size=6, size=32,
                                            resize=round(256 * 32 / 224))))
    raw = (x.numpy() * np.array(streaming.IMAGENET_STD) + np.array(streaming.IMAGENET_MEAN))
    trained = keras.models.load_model(tmp_path / "run" / "model.keras").layers[-1]
    np.testing.assert_allclose(saved.predict(raw * 255, verbose=0),
                               trained.predict(x, verbose=0), atol=1e-4)
    again = _run(data, tmp_path / "run")  # finished: returned at once, nothing retrained
    assert again == history


def test_streamed_data_needs_an_imagenet_recipe(tmp_path):
    data = streaming.open_folder(_folder(tmp_path / "images"), size=32)
    with pytest.raises(ValueError, match="ImageNet recipe.*Received: recipe=Recipe"):
        training.train("mobilenet", data, tmp_path / "run", recipe=training.scaled_recipe(1))
    with pytest.raises(ValueError, match="`pipeline` must be 'tf.data'.*Received: pipeline="):
        training.train("mobilenet", data, tmp_path / "run",
                       recipe=imagenet_recipes.get("mobilenet"),
                       engine=training.Engine(pipeline="numpy"))
