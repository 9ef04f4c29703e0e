"""cnn_keras.comparison: the side-by-side table, latency, the recorded CIFAR-10 accuracies, and
plots.accuracy_vs_macs_figure (notebook 08)."""

import csv
import json
import math

import keras
import pytest

import cnn_keras
from cnn_keras import comparison, plots

# exact counts pinned by the model tests (tests/models) and REFERENCE.md
STATIC = {
    "alexnet": {"input": "227x227", "params": 60_965_224, "trainable": 60_965_224,
                "macs": 724_406_816, "receptive_field": 195},  # pool5's classic field
    "resnet50": {"input": "224x224", "params": 25_636_712, "trainable": 25_583_592,
                 "macs": 3_857_973_248},
    "efficientnet_b0": {"input": "224x224", "params": 5_330_571, "trainable": 5_288_548,
                        "macs": 385_814_752},
}


def test_architectures_are_registered_one_per_paper():
    assert set(comparison.NAMES) <= set(cnn_keras.list_models())
    assert [a.notebook for a in comparison.ARCHITECTURES] == [f"0{i}" for i in range(1, 8)]


def test_static_table_counts_exactly():
    rows = comparison.static_table(list(STATIC))
    assert [r["model"] for r in rows] == list(STATIC)
    for row in rows:
        assert row.items() >= STATIC[row["model"]].items(), row
    assert rows[0]["paper"] == "AlexNet (Krizhevsky et al. 2012)"


def test_receptive_field_is_the_last_feature_maps():
    model = cnn_keras.resnet20()  # 81 px at its last 8x8 map (tests/test_analysis.py)
    assert model.get_layer(comparison.final_feature_map(model)).output.shape[1:3] == (8, 8)
    assert comparison.static_row(model)["receptive_field"] == 81


def test_latency_is_positive_and_ordered():
    result = comparison.latency(cnn_keras.build("resnet20"), 2, repeats=2, warmup=1)
    assert result["batch_size"] == 2 and result["repeats"] == 2
    assert 0 < result["min_ms"] <= result["median_ms"] <= result["max_ms"]
    assert result["ms_per_image"] == pytest.approx(result["median_ms"] / 2)
    assert result["images_per_sec"] == pytest.approx(2000 / result["median_ms"])


def test_latency_figure_is_saved(tmp_path):
    rows = [{"model": m, "batch_size": b, "macs": macs, "ms_per_image": ms}
            for m, macs in (("alexnet", 724_406_816), ("vgg16", 15_470_264_320))
            for b, ms in ((1, 50.0), (32, 20.0))]
    fig = plots.latency_figure(rows, tmp_path / "latency.png", caption="2 cores")
    assert (tmp_path / "latency.png").stat().st_size > 0
    assert len(fig.axes[0].get_legend().get_texts()) == 2  # one entry per batch size


def test_machine_names_the_cpu_and_keras():
    text = comparison.machine()
    assert f"Keras {keras.__version__}" in text and "load average" in text


# --- recorded runs: a tiny results/ folder ----------------------------------------------------

COLUMNS = ["variant", "model", "trainable_params", "macs", "epochs", "final_train_error",
           "final_test_error"]
HARDWARE = {"cpu": "Test CPU", "cores": 2, "cpu_simd": "avx2", "device": "CPU (2 cores)"}


def _run(folder, seed, rows, num_train=50_000, columns=COLUMNS):
    folder.mkdir(parents=True)
    summary = [dict(zip(columns, r)) for r in rows]
    (folder / "run.json").write_text(json.dumps({
        "seed": seed, "dataset": {"name": "cifar10", "num_train": num_train, "num_test": 10_000},
        "training_hardware": HARDWARE, "summary": summary}))
    with open(folder / "summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(summary)


@pytest.fixture
def results(tmp_path):
    _run(tmp_path / "rec", 0, [("paper", "alexnet_cifar", 100, 5_000, 15, 20.0, 22.0),
                               ("wide", "alexnet_cifar", 200, 9_000, 15, 18.0, 21.0)])
    _run(tmp_path / "rec-seed1", 1, [("paper", "alexnet_cifar", 100, 5_000, 15, 20.0, 24.0)])
    # a record from before summary.csv had variant and macs columns
    _run(tmp_path / "old", 0, [("resnet20", 269_722, 50, 6.8, 13.5)],
         columns=["model", "trainable_params", "epochs", "final_train_error",
                  "final_test_error"])
    _run(tmp_path / "demo", 0, [("x", "resnet20", 1, 1, 6, 40.0, 38.0)], num_train=10_000)
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "run.json").write_text("{}")
    return tmp_path


def test_record_names_fold_seed_repeats(results):
    (results / "rec-seed2-part").mkdir()  # not finished: no summary.csv
    transfer = results / "transfer-cpu"  # a transfer study's cells: no per-variant summary
    transfer.mkdir()
    (transfer / "run.json").write_text(json.dumps({"experiment": "transfer"}))
    (transfer / "summary.csv").write_text("shots,regime,seed,test_accuracy\n10,probe,0,0.7\n")
    assert comparison.record_names(results) == ["demo", "old", "rec"]


def test_recorded_accuracy_averages_seeds_and_skips_subsets(results):
    rows = {(r["record"], r["variant"]): r for r in comparison.recorded_accuracy(results)}
    assert sorted(rows) == [("old", "resnet20"), ("rec", "paper"), ("rec", "wide")]
    paper = rows["rec", "paper"]
    assert (paper["seeds"], paper["test_error"], paper["test_accuracy"]) == (2, 23.0, 77.0)
    assert paper["spread"] == pytest.approx(1.41, abs=0.01)  # sample std of 22 and 24
    assert (paper["params"], paper["macs"], paper["epochs"]) == (100, 5_000, "15")
    assert paper["hardware"] == "2 cores Test CPU (avx2)"
    assert "50000/10000 images, 15 epochs, seeds 0, 1" in paper["setup"]
    assert rows["rec", "wide"]["seeds"] == 1 and rows["rec", "wide"]["spread"] is None
    old = rows["old", "resnet20"]  # no macs column: counted from the registered net at 32x32
    assert (old["model"], old["macs"], old["epochs"]) == ("resnet20", 40_551_040, "50")
    assert [r["record"] for r in comparison.recorded_accuracy(results, num_train=10_000)] \
        == ["demo"]


def test_headline_prefers_the_paper_variant_then_the_most_seeds(results):
    rows = comparison.recorded_accuracy(results)
    paper = next(r for r in rows if r["variant"] == "paper")  # 2 seeds
    rows.append({**paper, "variant": "more_seeds", "seeds": 3})
    picked = {(r["record"], r["variant"]) for r in comparison.headline(rows)}
    assert picked == {("old", "resnet20"), ("rec", "paper"), ("rec", "wide")}
    rows = [r for r in rows if r["variant"] != "paper"]
    assert ("rec", "more_seeds") in {(r["record"], r["variant"])
                                     for r in comparison.headline(rows)}


def test_accuracy_vs_macs_figure_is_saved(results, tmp_path):
    rows = comparison.recorded_accuracy(results)
    caption = comparison.caption(rows)
    assert caption.splitlines()[0].startswith("old: CIFAR-10 50000/10000 images, 50 epochs")
    fig = plots.accuracy_vs_macs_figure(rows, tmp_path / "fig" / "acc.png", caption=caption)
    assert (tmp_path / "fig" / "acc.png").stat().st_size > 0
    assert fig.axes[0].get_xscale() == "log"
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == list(dict.fromkeys(r["record"] for r in rows))


def test_accuracy_vs_macs_labels_cover_no_other_label_or_point():
    # four nets at nearly one cost and accuracy, as a record's variants often are
    labels = [(28.0, 76.6, "resolution"), (28.5, 75.7, "width"), (28.0, 72.0, "compound"),
              (29.0, 63.3, "depth"), (5.0, 40.0, "alone")]
    order, places = plots._place_labels(labels, 3.9, 0.054, (27.0, 91.0))
    assert sorted(t for _, _, t in order) == sorted(t for _, _, t in labels)
    boxes = [(math.log10(x), math.log10(x) + (len(t) + 1) * 0.054, y)
             for (_, _, t), (x, y) in zip(order, places)]
    for i, box in enumerate(boxes):
        assert 27.0 + 3.9 / 2 <= box[2] <= 91.0 - 3.9 / 2
        assert not any(plots._overlap(box, other, 3.9) for other in boxes[:i])
        for x, y, _ in labels:  # no label over a point
            dot = (math.log10(x) - 0.054, math.log10(x) + 0.054, y)
            assert (x, y) == order[i][:2] or not plots._overlap(box, dot, 3.9)
    assert places[-1] == (5.0 * plots._LABEL_GAP, 40.0)  # a free label stays beside its point
    # no free place inside the limits: the last label goes beside its point after all
    crowded = [(10.0, 50.0, "first"), (10.2, 50.0, "second"), (10.4, 50.0, "third")]
    order, places = plots._place_labels(crowded, 3.9, 0.054, (48.0, 52.0))
    assert places[-1] == (order[-1][0] * plots._LABEL_GAP, 50.0)


# --- validation: one line, the argument, what is allowed, what was received ------------------


def _tiny(shape=(8, 8, 3)):
    inp = keras.Input(shape)
    return keras.Model(inp, keras.layers.Conv2D(2, 3)(inp))


@pytest.mark.parametrize("call,match", [
    (lambda: comparison.latency(_tiny(), 0), r"`batch_size` must be a positive integer\. "
                                             r"Received: batch_size=0"),
    (lambda: comparison.latency(_tiny(), repeats=2.5), r"`repeats` must be a positive integer\."
                                                       r" Received: repeats=2\.5"),
    (lambda: comparison.latency(_tiny(), warmup=-1), r"`warmup` must be an integer >= 0\. "
                                                     r"Received: warmup=-1"),
    (lambda: comparison.latency(_tiny((None, None, 3))), r"`model` must have a fixed input "
                                                          r"size.*Received: model="),
    (lambda: comparison.latency_table(["resnet20"], []), r"`batch_sizes` must be a non-empty "
                                                         r"list.*Received: batch_sizes=\[\]"),
    (lambda: comparison.latency_table(["resnet20"], [1, 0]), r"`batch_sizes` must be a "
                                                             r"positive.*Received: batch_sizes=0"),
    (lambda: comparison.static_table("resnet50"), r"`names` must be a non-empty list.*"
                                                  r"Received: names='resnet50'"),
    (lambda: comparison.static_table(["resnet5O"]), r"Unknown model name.*Received: "
                                                    r"name='resnet5O'"),
    (lambda: comparison.recorded_accuracy("/nonexistent"), r"`results_dir` must be an existing "
                                                           r"folder.*Received: results_dir="),
    (lambda: plots.accuracy_vs_macs_figure([]), r"`rows` must hold at least one.*Received: "
                                                r"rows=\[\]"),
])
def test_bad_arguments_are_one_line_value_errors(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value)

