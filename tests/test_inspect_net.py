"""cnn_keras.inspect_net: recording a trained net's weights and loading them back; first-layer
filters, feature maps, Grad-CAM and nearest neighbours on small nets built here (no data);
plots.image_grid and plots.heatmap_overlay."""

import csv
import json
import warnings

import keras
import numpy as np
import pytest
from tiny import SMALL, tiny_data

import cnn_keras
from cnn_keras import data as data_lib
from cnn_keras import inspect_net, plots
from cnn_keras.saving import load_model
from cnn_keras.training.export import save_with_preprocessing, with_preprocessing

KWARGS = {"lrn": True}  # alexnet_fig1 with LRN: a non-default argument the sidecar must carry
CLASSES = ["r", "g", "b"]  # tiny_data's

def _fake_run(run_dir, net, mean, *, val_accuracy=0.75, status="finished"):
    """A finished run folder as `training.train` leaves it: run.json, history.csv, model.keras."""
    run_dir.mkdir(parents=True)
    save_with_preprocessing(net, mean, run_dir)
    info = {"status": status, "variant": "test", "command": "pytest", "git_commit": "abc",
            "hardware": {"device": "CPU (2 cores)", "cores": 2, "cpu": "Test CPU"},
            "config": {"model": SMALL, "model_kwargs": KWARGS, "seed": 3,
                       "dataset": {"name": "tiny", "num_train": 96, "num_test": 40,
                                   "classes": CLASSES}}}
    (run_dir / "run.json").write_text(json.dumps(info))
    with (run_dir / "history.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", "loss", "accuracy", "val_loss", "val_accuracy"])
        writer.writerow([1, 1.0, 0.5, 1.0, 0.5])
        writer.writerow([2, 0.9, 0.6, 0.9, val_accuracy])
    return run_dir


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A tiny trained-like net recorded under a results folder: (results, run_dir, data)."""
    keras.utils.set_random_seed(0)
    data = tiny_data()
    net = cnn_keras.build(SMALL, classes=3, **KWARGS)
    root = tmp_path_factory.mktemp("inspect")
    run_dir = _fake_run(root / "runs" / "paper", net, data_lib.per_pixel_mean(data.x_train))
    inspect_net.export_run(run_dir, root / "results", "tiny-seed3", record="results/tiny")
    return root / "results", run_dir, data


def test_export_writes_float16_weights_and_provenance(recorded):
    results, run_dir, data = recorded
    assert inspect_net.recorded_names(results) == ["tiny-seed3"]
    info = inspect_net.recorded_info("tiny-seed3", results)
    assert info["model"] == SMALL and info["model_kwargs"] == {**KWARGS, "classes": 3}
    assert info["record"] == "results/tiny" and info["seed"] == 3 and info["epochs"] == 2
    assert info["variant"] == "paper" and info["variant_label"] == "test"
    assert info["final_test_error"] == 25.0 and info["final_train_error"] == 40.0
    assert info["hardware"] == "2 cores Test CPU" and "float16" in info["precision"]
    with np.load(results / "weights" / "tiny-seed3.npz") as npz:
        assert npz["conv1/kernel"].dtype == np.float16
        np.testing.assert_array_equal(npz[inspect_net.MEAN_KEY],
                                      data_lib.per_pixel_mean(data.x_train))  # float32, exact
    assert info["variables"] == len(cnn_keras.build(SMALL, classes=3).weights)


def test_loaded_net_predicts_as_the_float32_original(recorded):
    results, run_dir, data = recorded
    loaded = inspect_net.load_recorded("tiny-seed3", results)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one input tensor, not the builder's list of it
        loaded(data.x_test[:2])
    assert [layer.name for layer in loaded.layers[:4]] == [
        "images_0_255", "scale_to_unit", "subtract_pixel_mean", "conv1"]  # one flat model
    assert not any(isinstance(layer, keras.Model) for layer in loaded.layers)
    original = load_model(run_dir / "model.keras")
    p32 = original.predict(data.x_test, verbose=0)
    p16 = loaded.predict(data.x_test, verbose=0)
    np.testing.assert_allclose(p16, p32, atol=2e-3)
    accuracy = [100 * np.mean(p.argmax(1) == data.y_test) for p in (p32, p16)]
    assert abs(accuracy[0] - accuracy[1]) <= 100 / len(data.y_test)  # at most one image


def test_export_and_load_errors(recorded, tmp_path):
    results, run_dir, _ = recorded
    with pytest.raises(ValueError, match=r"`name` must be a net recorded under .*Received: "
                                         r"name='nope'"):
        inspect_net.load_recorded("nope", results)
    bad = tmp_path / "results" / "weights"
    bad.mkdir(parents=True)
    for suffix in (".npz", ".json"):
        (bad / f"wrong{suffix}").write_bytes(
            (results / "weights" / f"tiny-seed3{suffix}").read_bytes())
    info = json.loads((bad / "wrong.json").read_text())
    (bad / "wrong.json").write_text(json.dumps({**info, "model_kwargs": {"classes": 10}}))
    with pytest.raises(ValueError, match=r"predictions/kernel is \(576, 10\) there, \(576, 3\) "
                                         r"in the file. Received: name='wrong'"):
        inspect_net.load_recorded("wrong", tmp_path / "results")
    (bad / "wrong.json").write_text(json.dumps({**info, "model": "alexnet_cifar"}))
    with pytest.raises(ValueError, match=r"variables differ \(missing \['conv4/bias'.*"
                                         r"Received: name='wrong'"):
        inspect_net.load_recorded("wrong", tmp_path / "results")
    net = cnn_keras.build(SMALL, classes=3)
    with pytest.raises(ValueError, match=r"`info` must give the builder.*Received: info="):
        inspect_net.export_weights(net, np.zeros((32, 32, 3)), tmp_path / "x", {"model": SMALL})
    with pytest.raises(ValueError, match=r"`net` must be what alexnet_fig1\(\*\*\{\}\) builds; "
                                         r"they differ at \['predictions/bias', 'predictions/"
                                         r"kernel'\]. Received: net='alexnet_fig1'"):
        inspect_net.export_weights(net, np.zeros((32, 32, 3)), tmp_path / "x",
                                   {"model": SMALL, "model_kwargs": {}})
    with pytest.raises(ValueError, match=r"`pixel_mean` must have the shape"):
        inspect_net.export_weights(net, np.zeros(3), tmp_path / "x",
                                   {"model": SMALL, "model_kwargs": {"classes": 3}})
    unfinished = _fake_run(tmp_path / "run", net, np.zeros((32, 32, 3)), status="running")
    with pytest.raises(ValueError, match=r"finished run.*Received: run_dir="):
        inspect_net.run_provenance(unfinished)
    with pytest.raises(ValueError, match=r"`run_dir` must be a run folder"):
        inspect_net.run_provenance(tmp_path)
    with pytest.raises(ValueError, match=r"must be a run's model.keras"):
        inspect_net._net_and_mean(net)


def test_first_layer_filters_are_the_kernels_scaled_around_grey():
    net = cnn_keras.build(SMALL)
    kernel = net.get_layer("conv1").kernel.numpy()  # (5, 5, 3, 32)
    filters = inspect_net.first_layer_filters(net)
    assert filters.shape == (32, 5, 5, 3)
    assert filters.min() >= 0 and filters.max() <= 1
    peaks = np.abs(filters - 0.5).max(axis=(1, 2, 3))
    np.testing.assert_allclose(peaks, 0.5, rtol=1e-6)  # each filter stretched to its own peak
    k7 = kernel[..., 7]
    np.testing.assert_allclose(filters[7], 0.5 + 0.5 * k7 / np.abs(k7).max(), rtol=1e-6)
    shared = inspect_net.first_layer_filters(net, scale="layer")
    np.testing.assert_allclose(shared - 0.5, 0.5 * np.moveaxis(kernel, -1, 0)
                               / np.abs(kernel).max(), atol=1e-7)
    assert inspect_net.first_layer_filters(net, "conv2").shape == (32, 5, 5, 32)
    np.testing.assert_array_equal(inspect_net.filters_as_images(kernel), filters)
    assert np.all(inspect_net.filters_as_images(np.zeros((3, 3, 3, 2))) == 0.5)
    with pytest.raises(ValueError, match=r"`kernel` must be a conv kernel"):
        inspect_net.filters_as_images(kernel[0])
    with pytest.raises(ValueError, match=r"`scale` must be one of \['filter', 'layer'\]"):
        inspect_net.first_layer_filters(net, scale="global")
    with pytest.raises(ValueError, match=r"must name a Conv2D layer.*Received: "
                                         r"layer_name='pool1 \(MaxPooling2D\)'"):
        inspect_net.first_layer_filters(net, "pool1")


def test_kernel_statistics_of_known_filters():
    rng = np.random.default_rng(0)
    ramp = np.linspace(-1, 1, 5)[None, :, None] * np.ones((5, 5, 3))  # grey, smooth edge
    opponent = ramp * np.array([1.0, -1.0, 0.0])  # red against green: no grey part
    random = rng.standard_normal((5, 5, 3, 400))
    stats = inspect_net.kernel_statistics(np.stack([ramp, opponent, -ramp], axis=-1))
    np.testing.assert_allclose(stats["colour"], [0, 1, 0], atol=1e-12)
    assert np.all(stats["smoothness"] > 0.5)
    noise = inspect_net.kernel_statistics(random)
    assert abs(noise["colour"].mean() - 2 / 3) < 0.02  # (C - 1) / C
    assert abs(noise["smoothness"].mean()) < 0.05
    checker = np.indices((5, 5)).sum(0) % 2 * 2.0 - 1
    assert inspect_net.kernel_statistics(checker[..., None, None])["smoothness"][0] < -0.9
    with pytest.raises(ValueError, match=r"`kernel` must be a conv kernel.*Received: "
                                         r"kernel='array of shape \(5, 5\)'"):
        inspect_net.kernel_statistics(np.zeros((5, 5)))


def test_feature_maps_shapes_and_errors():
    net = cnn_keras.build(SMALL)
    image = tiny_data().x_test[0]
    maps = inspect_net.feature_maps(net, image, ["conv1", "pool2", "conv3_relu"])
    assert {k: v.shape for k, v in maps.items()} == {
        "conv1": (32, 32, 32), "pool2": (7, 7, 32), "conv3_relu": (7, 7, 64)}
    assert list(inspect_net.feature_maps(net, image[None], "conv2")) == ["conv2"]
    with pytest.raises(ValueError, match=r"`layer_names` must name a layer of alexnet_fig1 .*"
                                         r"Received: layer_names='conv9'"):
        inspect_net.feature_maps(net, image, ["conv9"])
    with pytest.raises(ValueError, match=r"4-D \(feature map\) output.*Received: "
                                         r"layer_names='predictions'"):
        inspect_net.feature_maps(net, image, "predictions")
    with pytest.raises(ValueError, match=r"`image` must be one image"):
        inspect_net.feature_maps(net, tiny_data().x_test[:2], "conv1")
    with pytest.raises(ValueError, match=r"`image` must have the model's input shape"):
        inspect_net.feature_maps(net, np.zeros((16, 16, 3)), "conv1")
    with pytest.raises(ValueError, match=r"non-empty list.*Received: layer_names=\[\]"):
        inspect_net.feature_maps(net, image, [])


def _blob(size, row, col, width=1.5):
    r, c = np.mgrid[:size, :size]
    return np.exp(-((r - row) ** 2 + (c - col) ** 2) / (2 * width**2))


def _known_net():
    """Feature map = the input's two channels (a 1x1 identity conv); class 0's score is the
    mean of channel 0, class 1's the mean of channel 1, class 2's minus the mean of channel 0;
    then a softmax."""
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(2, 1, use_bias=False, name="features")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(3, use_bias=False, activation="softmax",
                                 name="predictions")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("features").set_weights([np.eye(2).reshape(1, 1, 2, 2)])
    model.get_layer("predictions").set_weights([np.array([[1.0, 0, -1], [0, 1, 0]])])
    return model


def test_grad_cam_finds_the_evidence_of_a_known_net():
    model = _known_net()
    # channel 0: a blob in the top-left quadrant; channel 1: one bottom-right, on a uniform
    # background (class 1 is predicted, and a gradient taken after the softmax would subtract
    # channel 1 from class 0's map)
    image = np.stack([_blob(8, 1, 1), _blob(8, 6, 6) + 0.5], axis=-1)
    cams = {c: inspect_net.grad_cam(model, image, class_index=c)[0] for c in (0, 1, 2)}
    np.testing.assert_allclose(cams[0], image[..., 0] / image[..., 0].max(), atol=1e-5)
    assert np.unravel_index(cams[0].argmax(), cams[0].shape) == (1, 1)  # top-left quadrant
    assert np.unravel_index(cams[1].argmax(), cams[1].shape) == (6, 6)
    np.testing.assert_array_equal(cams[2], 0)  # only negative evidence: ReLU leaves nothing
    predicted = inspect_net.grad_cam(model, image)[0]  # class 1 has the higher score
    np.testing.assert_allclose(predicted, cams[1], atol=1e-6)
    both = inspect_net.grad_cam(model, np.stack([image, image]), class_index=[0, 1])
    np.testing.assert_allclose(both, np.stack([cams[0], cams[1]]), atol=1e-6)
    # the softmax as a layer of its own (keras.applications' MobileNet) or left off (logits)
    pooled = model.get_layer("predictions").input
    for head in (keras.layers.Activation("softmax", name="probs"), None):
        dense = keras.layers.Dense(3, use_bias=False, name="scores")
        x = dense(pooled)
        other = keras.Model(model.inputs, x if head is None else head(x))
        dense.set_weights(model.get_layer("predictions").get_weights())
        np.testing.assert_allclose(inspect_net.grad_cam(other, image, class_index=0)[0],
                                   cams[0], atol=1e-6)


def test_grad_cam_on_a_cnn_upsamples_its_last_conv_map():
    net = cnn_keras.alexnet_cifar(width=0.25, groups=1)
    assert inspect_net.last_feature_map(net) == "conv5_relu"  # 7x7, not pool5's 3x3
    assert inspect_net.last_hidden_layer(net) == "fc7_dropout"
    images = tiny_data().x_test[:3]
    cams = inspect_net.grad_cam(net, images)
    assert cams.shape == (3, 32, 32) and cams.dtype == np.float32
    assert cams.min() >= 0 and cams.max() <= 1
    assert inspect_net.grad_cam(net, images, 4, layer_name="conv1").shape == (3, 32, 32)
    logits = cnn_keras.alexnet_cifar(width=0.25, groups=1, classifier_activation=None)
    assert inspect_net.grad_cam(logits, images).shape == (3, 32, 32)


@pytest.mark.parametrize("class_index", [10, -1, 1.5, [1, 2], "cat"])
def test_grad_cam_rejects_bad_classes(class_index):
    net = cnn_keras.build(SMALL)
    with pytest.raises(ValueError, match=r"`class_index` must be None, a class index in "
                                         r"\[0, 9\] or one per image \(3\).*Received"):
        inspect_net.grad_cam(net, tiny_data().x_test[:3], class_index=class_index)


def test_grad_cam_rejects_bad_layers_and_images():
    net = cnn_keras.build(SMALL)
    images = tiny_data().x_test[:2]
    with pytest.raises(ValueError, match=r"4-D \(feature map\) output.*layer_name='flatten'"):
        inspect_net.grad_cam(net, images, layer_name="flatten")
    with pytest.raises(ValueError, match=r"`images` must be one image \(H, W, C\) or a "
                                         r"non-empty batch"):
        inspect_net.grad_cam(net, np.zeros((32, 32)))
    wrapped = with_preprocessing(net, np.zeros((32, 32, 3)))  # nested, as in model.keras
    with pytest.raises(ValueError, match=r"nests a model.*load_recorded"):
        inspect_net.grad_cam(wrapped, images, layer_name="conv1")


def test_nearest_neighbours_find_a_pooled_image_itself():
    net = cnn_keras.build(SMALL)
    pool = tiny_data(n_test=30).x_test
    result = inspect_net.nearest_neighbours(net, pool[[3, 17]], pool, k=4)
    assert result.layer_name == "flatten"  # what feeds the classifier
    for got in (result.indices, result.distances, result.pixel_indices,
                result.pixel_distances):
        assert got.shape == (2, 4)
    assert result.indices[:, 0].tolist() == [3, 17]
    assert result.pixel_indices[:, 0].tolist() == [3, 17]
    assert np.all(result.distances[:, 0] == 0) and np.all(result.pixel_distances[:, 0] == 0)
    assert np.all(np.diff(result.distances, axis=1) >= 0)  # nearest first
    # against brute force, in feature space and in pixel space
    features = keras.Model(net.inputs, net.get_layer("flatten").output).predict(pool, verbose=0)
    for space, (idx, dist) in (("features", (result.indices, result.distances)),
                               ("pixels", (result.pixel_indices, result.pixel_distances))):
        vectors = features if space == "features" else pool.reshape(len(pool), -1)
        vectors = vectors.astype(np.float64)
        for row, q in enumerate((3, 17)):
            brute = np.linalg.norm(vectors - vectors[q], axis=1)
            assert idx[row].tolist() == np.argsort(brute, kind="stable")[:4].tolist(), space
            np.testing.assert_allclose(dist[row], np.sort(brute)[:4], rtol=1e-5)
    other = inspect_net.nearest_neighbours(net, pool[0], pool, "pool2", k=2)
    assert other.layer_name == "pool2" and other.indices.shape == (1, 2)


def test_nearest_neighbours_errors():
    net = cnn_keras.build(SMALL)
    pool = tiny_data(n_test=10).x_test
    with pytest.raises(ValueError, match=r"`k` must be at most the number of pool images "
                                         r"\(10\). Received: k=11"):
        inspect_net.nearest_neighbours(net, pool[:1], pool, k=11)
    with pytest.raises(ValueError, match=r"`k` must be a positive integer. Received: k=0"):
        inspect_net.nearest_neighbours(net, pool[:1], pool, k=0)
    with pytest.raises(ValueError, match=r"`pool_images` must have the model's input shape"):
        inspect_net.nearest_neighbours(net, pool[:1], pool[:, :16], k=1)
    with pytest.raises(ValueError, match=r"`layer_name` must name a layer.*layer_name='fc9'"):
        inspect_net.nearest_neighbours(net, pool[:1], pool, "fc9", k=1)


def test_image_grid_and_overlay(tmp_path):
    filters = inspect_net.first_layer_filters(cnn_keras.build(SMALL))
    overlay = plots.heatmap_overlay(tiny_data().x_test[0], np.linspace(0, 1, 32 * 32)
                                    .reshape(32, 32))
    assert overlay.shape == (32, 32, 3) and 0 <= overlay.min() and overlay.max() <= 1
    fig = plots.image_grid([list(filters[:8]), list(filters[8:11]), [overlay]],
                           tmp_path / "grid.png", titles=[None, ["a", "b", "c"], ["cam"]],
                           row_labels=["x", "y", "z"], title="filters")
    assert (tmp_path / "grid.png").stat().st_size > 0
    assert len(fig.axes) == 24 and fig.axes[8].get_title() == "a"
    with pytest.raises(ValueError, match=r"`rows` must hold at least one image"):
        plots.image_grid([[]])
