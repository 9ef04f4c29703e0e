"""The one runner of every study: train its variants with `training.train` (same data, recipe,
seed and engine), then write ``OUT/summary.csv``, the figure(s) and ``OUT/run.json``.

Each variant is a run folder of its own (``OUT/<variant>/``), so a study is resumable like any
run: finished variants are not trained again, an interrupted one resumes after its last
finished epoch, and separate processes can train separate variants at once (one per GPU); the
summary and the figure show every finished variant in ``OUT``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

from cnn_keras import plots, runinfo, training
from cnn_keras.checks import check_choice
from cnn_keras.experiments.studies import MODES, Study, Variant, get
from cnn_keras.registry import model_info
from cnn_keras.training.folder import comparable_dataset

SUMMARY_FIELDS = ("variant", "label", "model", "series", "trainable_params", "macs", "epochs",
                  "final_train_error", "final_test_error", "final_train_error_clean",
                  "clean_train_images", "epochs_to_threshold", "train_seconds",
                  "test_scale", "final_test_error_q")
# The training error that fit reports is on augmented batches with dropout active, so it is
# not the error a net overfits to: the decisive modes also evaluate the final model on all its
# training images as the test images are evaluated (no augmentation, inference mode). All of
# them, not a prefix: the JPEG copy of CIFAR-10 is sorted by class (docs/claims.md).
CLEAN_MODES = ("record", "full")
CLEAN_CHUNK = 10_000  # images converted to float32 at a time (50,000 would take 600 MB)


def check_mode(mode) -> None:
    check_choice("mode", mode, MODES)


def recipe(study: Study, mode: str, epochs: int | None = None, *, model: str | None = None,
           warmup_epochs: float | None = None, variant: Variant | None = None
           ) -> training.Recipe:
    """The study's recipe in `mode`: the paper's SGD (momentum 0.9, its weight decay and lr),
    lr /10 at the study's milestones, scaled to the mode's (or `epochs`) epochs, with the
    study's and then `variant`'s own settings over it. A study whose "full" mode has no epochs
    trains `model` with the paper's own recipe."""
    base = _study_recipe(study, mode, epochs, model, warmup_epochs)
    overrides = {**study.recipe, **(variant.recipe if variant else {})}
    if not overrides:
        return base
    suffix = "-".join(_setting_name(k, v) for k, v in overrides.items())
    return dataclasses.replace(base, **overrides, name=f"{base.name}-{suffix}")


def _setting_name(key: str, value) -> str:
    """A recipe setting in a recipe's name: "augment" / "no-augment", "lr0.03",
    "scale_jitter32-64"."""
    if isinstance(value, bool):
        return key if value else f"no-{key}"
    if isinstance(value, (tuple, list)):
        return key + "-".join(f"{v:g}" for v in value)
    return f"{key}{value:g}"


def _study_recipe(study, mode, epochs, model, warmup_epochs) -> training.Recipe:
    check_mode(mode)
    study.check_mode(mode)
    epochs = epochs or study.epochs[mode]
    warm = study.warmup(mode) if warmup_epochs is None else warmup_epochs
    if epochs is None:
        if warmup_epochs:
            raise ValueError("`warmup_epochs` in mode 'full' needs `epochs` (the paper's "
                             "recipe has its own warm-up rule). "
                             f"Received: warmup_epochs={warmup_epochs!r}")
        return training.paper_recipe(model_info(model).get("depth") if model else None)
    base = training.scaled_recipe(epochs, batch_size=study.batch_size.get(mode, 128),
                                  lr=study.lr, weight_decay=study.weight_decay,
                                  warmup_epochs=warm)
    if tuple(study.milestones) == base.milestones:
        return base
    return dataclasses.replace(base, milestones=tuple(study.milestones),
                               name=f"{base.name}-constant-lr" if not study.milestones
                               else f"{base.name}-drops{list(study.milestones)}")


def load_data(study: Study, mode: str, data_dir=None, seed: int = 0, verbose=True):
    """CIFAR-10 at the mode's size; in quick mode a synthetic stand-in where none is found
    (said so), so the smoke run works on any clone."""
    from cnn_keras import data as data_lib

    check_mode(mode)
    study.check_mode(mode)
    num_train, num_test = study.sizes[mode]
    return data_lib.cifar10_subset(num_train, num_test, data_dir=data_dir, seed=seed,
                                   verbose=verbose, synthetic_fallback=mode == "quick")


def epochs_to_error(history: list[dict], threshold: float | None) -> int | None:
    """The first epoch whose training error (%) is at or below `threshold`; None if never."""
    if threshold is None:
        return None
    for row in history:
        if 100 * (1 - row["accuracy"]) <= threshold:
            return int(row["epoch"])
    return None


def _chosen(study: Study, variants) -> list:
    """The variants to train, those others are initialised from first."""
    keys = variants or [v.key for v in study.variants]
    chosen = [study.variant(k) for k in dict.fromkeys(keys)]
    for v in list(chosen):
        if v.init_from and study.variant(v.init_from) not in chosen:
            chosen.insert(0, study.variant(v.init_from))
    chosen.sort(key=lambda v: v.init_from is not None)
    return chosen


def run(study: str | Study, mode: str = "demo", out_dir=None, *, data_dir=None, seed: int = 0,
        epochs: int | None = None, warmup_epochs: float | None = None, variants=None,
        engine: training.Engine | None = None, verbose="auto", data=None) -> list[dict]:
    """Train the variants of `study` (a name of `studies.STUDIES` or your own `Study`, e.g.
    ``dataclasses.replace(studies.get("fig1"), name="fig1-lr0.02", lr=0.02)``) and write their
    run folders, summary.csv, the figure and run.json in `out_dir` (default
    runs/<experiment>-NAME-MODE). `variants` picks variant keys (default all); `epochs` and
    `warmup_epochs` override the mode's. Returns the summary rows."""
    study = study if isinstance(study, Study) else get(study)
    check_mode(mode)
    engine = training.Engine() if engine is None else engine
    if not isinstance(engine, training.Engine):
        raise ValueError(f"`engine` must be a training.Engine. Received: engine={engine!r}")
    chosen = _chosen(study, variants)
    # every argument checked before any data is loaded
    recipes = {v.key: recipe(study, mode, epochs, model=v.model, warmup_epochs=warmup_epochs,
                             variant=v) for v in chosen}
    out_dir = Path(out_dir or default_out_dir(study, mode))
    started = time.time()
    meta = runinfo.run_metadata()
    if data is None:
        data = load_data(study, mode, data_dir, seed=seed, verbose=bool(verbose))
    histories = _train_chosen(study, chosen, recipes, data, out_dir, mode=mode, seed=seed,
                              engine=engine, verbose=verbose)
    histories.update(_finished_elsewhere(study, out_dir, histories))
    shown = [v for v in study.variants if v.key in histories]
    clean = ({v.key: clean_train_error(out_dir / v.key, data) for v in shown}
             if mode in CLEAN_MODES else {})
    shown_recipes = [recipe(study, mode, epochs, model=v.model, warmup_epochs=warmup_epochs,
                            variant=v) for v in shown]
    scaled = {v.key: scaled_test_error(out_dir / v.key, data, r.scale_jitter)
              for v, r in zip(shown, shown_recipes) if r.scale_jitter}
    rows = summary(study, mode, out_dir, [v.key for v in shown], histories, clean,
                   clean_images=len(data.x_train), scaled=scaled)
    hw = json.loads((out_dir / chosen[0].key / "run.json").read_text())["hardware"]
    machines = _machines(out_dir, shown)
    study_recipe = recipe(study, mode, epochs, model=chosen[0].model, warmup_epochs=warmup_epochs)
    caption = _caption(data.describe(), rows, study_recipe, shown_recipes, seed,
                       engine.dtype_policy, machines)
    _figures(study, shown, histories, rows, out_dir, caption, study.threshold[mode])
    meta.update({"experiment": _kind(study), "mode": mode, "seed": seed,
                 "dataset": data.describe(), "recipe": study_recipe.to_dict(),
                 "dtype_policy": engine.dtype_policy, "training_hardware": hw,
                 "machines": machines,
                 "threshold_train_error": study.threshold[mode], "paper": study.paper,
                 "models": [v.model for v in chosen], "summary": rows,
                 "finished": runinfo.now(),
                 "wall_seconds_this_session": round(time.time() - started, 1)})
    if study.figure == "degradation":
        meta["degradation_shown"] = degradation_shown(rows)
    (out_dir / "run.json").write_text(json.dumps(meta, indent=1))
    if verbose:
        print_summary(rows, study.threshold[mode])
        if study.figure == "degradation":
            print_verdict(rows)
        print(f"Figure: {out_dir / (study.figure + '.png')}")
    return rows


def _train_chosen(study, chosen, recipes, data, out_dir, *, mode, seed, engine, verbose):
    """Train (or resume) each chosen variant in its folder of `out_dir`; their histories."""
    histories = {}
    for v in study.variants:  # those not chosen too: the summary shows every finished one
        _remove_quick_run_on_other_data(out_dir / v.key, data, verbose)
    for i, v in enumerate(chosen, 1):
        rec = recipes[v.key]
        if verbose:
            print(f"[{i}/{len(chosen)}] {v.label}: {v.model}({v.kwargs}), "
                  f"{len(data.x_train)} training images, recipe {rec.name}", flush=True)
        histories[v.key] = training.train(
            v.model, data, out_dir / v.key, recipe=rec, seed=seed, model_kwargs=v.kwargs,
            verbose=verbose, engine=engine,
            init_from=out_dir / v.init_from if v.init_from else None,
            meta={"experiment": f"{_kind(study)}/{mode}", "variant": v.label})
    return histories


def redraw(out_dir) -> None:
    """Draw a finished study run folder's figures again from what it recorded, training and
    evaluating nothing (a record under results/, after a change to the figures): its run.json's
    summary, data and seed, and each shown variant's history.csv, recipe and machines. run.json
    is left as it is."""
    out_dir = Path(out_dir)
    info = json.loads((out_dir / "run.json").read_text())
    study = get(info["experiment"].removeprefix("ablation/"))
    rows = info["summary"]
    keys = {r.get("variant") or r["model"] for r in rows}
    shown = [v for v in study.variants if v.key in keys]
    histories = {v.key: training.read_history_csv(out_dir / v.key / "history.csv")
                 for v in shown}
    recipes = [SimpleNamespace(**json.loads((out_dir / v.key / "run.json").read_text())
                               ["config"]["recipe"]) for v in shown]
    # records made before run.json kept the study's recipe: the first variant's has its name
    study_recipe = SimpleNamespace(**info["recipe"]) if "recipe" in info else recipes[0]
    caption = _caption(info["dataset"], rows, study_recipe, recipes,
                       info["seed"], info.get("dtype_policy", "float32"),
                       _machines(out_dir, shown))
    _figures(study, shown, histories, rows, out_dir, caption, study.threshold[info["mode"]])


def _machines(out_dir: Path, shown) -> str:
    """Every machine the shown variants trained on, in words: a seed split over sessions with
    --variants, or a run resumed elsewhere, may have run on several."""
    from cnn_keras.claims import evidence  # not at import: the claims package imports Keras

    return " + ".join(dict.fromkeys(
        d for v in shown for d in evidence.run_devices(out_dir / v.key / "run.json")))


def _remove_quick_run_on_other_data(folder: Path, data, verbose) -> None:
    """A quick run is a smoke run of seconds. One left in `folder` from other data (a notebook
    run first where no CIFAR-10 was found, on generated data, then again with the data) is
    removed, said so, and trained again if chosen, where any other run would refuse to resume.
    Only quick runs: a folder of another mode is left for `training.train` to refuse."""
    info = training.RunFolder(folder).info()
    if not str(info.get("experiment", "")).endswith("/quick"):
        return
    was = comparable_dataset(info.get("config", {}).get("dataset") or {})
    now = comparable_dataset(data.describe())
    if was != now:
        if verbose:
            print(f"{folder}: a quick run on {was['name']} ({was['num_train']} training "
                  f"images) is there; this one is on {now['name']} ({now['num_train']}): "
                  "removed, to be trained again if chosen", flush=True)
        shutil.rmtree(folder)


def _kind(study: Study) -> str:
    """The experiment's name in run.json: "degradation", or "ablation/NAME"."""
    return "degradation" if study.figure == "degradation" else f"ablation/{study.name}"


def default_out_dir(study: Study, mode: str) -> Path:
    return Path("runs") / (f"degradation-{mode}" if study.figure == "degradation"
                           else f"ablation-{study.name}-{mode}")


def _finished_elsewhere(study: Study, out_dir: Path, histories: dict) -> dict:
    """The histories of variants finished in `out_dir` but not trained by this call (a run of
    one variant must not hide the others)."""
    found = {}
    for v in study.variants:
        folder = training.RunFolder(out_dir / v.key)
        if v.key not in histories and folder.info().get("status") == "finished":
            found[v.key] = training.read_history_csv(folder.history_csv)
    return found


def _caption(ds: dict, rows, study_recipe, recipes, seed, dtype_policy: str,
             machines: str) -> str:
    precision = "" if dtype_policy == "float32" else f", {dtype_policy}"

    def setting(name, values):  # one value, or each variant's where they differ (a sweep)
        values = sorted(set(values))
        return f"{name} {values[0]:g}" if len(values) == 1 else \
            f"{name} {'/'.join(f'{v:g}' for v in values)} (per variant)"

    # the recipe's name, not the mode's: "full" would pass a 10-epoch run off as the paper's
    return (f"CIFAR-10 ({ds['num_train']} train / {ds['num_test']} test images), "
            f"{rows[0]['epochs']} epochs ({study_recipe.name}), "
            f"{setting('lr', [r.lr for r in recipes])}, "
            f"{setting('weight decay', [r.weight_decay for r in recipes])}, "
            f"one seed ({seed}){precision}; {machines}")


def _figures(study, shown, histories, rows, out_dir, caption, threshold) -> None:
    if study.figure == "degradation":
        curves = {v.model: histories[v.key] for v in shown}
        plots.plt.close(plots.degradation_figure(curves, out_dir / "degradation.png",
                                                 caption=caption))
        # the paper's 0-20 % axes too, for each panel whose final errors fit in them (where
        # none does, a short run's, the figure would show empty panels)
        paper_axes = out_dir / "degradation-paper-axes.png"
        if plots.papers_axes_fit(curves):
            plots.plt.close(plots.degradation_figure(curves, paper_axes, caption=caption,
                                                     ylim=plots.PAPER_FIG6_YLIM))
        else:
            paper_axes.unlink(missing_ok=True)
    else:
        fig = plots.ablation_figure({v.label: histories[v.key] for v in shown},
                                    out_dir / "ablation.png", title=figure_title(study, shown),
                                    caption=caption, threshold=threshold)
        plots.plt.close(fig)
    if study.tradeoff:
        fig = plots.tradeoff_figure(rows, out_dir / "tradeoff.png", caption=caption,
                                    title=f"{figure_title(study, shown)}: accuracy vs cost")
        plots.plt.close(fig)


def figure_title(study, shown) -> str:
    """The study's title, and how many of its variants a run trained where --variants left some
    out: the title names them all, a seed repeat may hold two."""
    if len(shown) == len(study.variants):
        return study.title
    return f"{study.title} ({len(shown)} of the study's {len(study.variants)} variants)"


def clean_train_error(run_dir: Path, data) -> float | None:
    """The error (%) of a finished variant's final model on all the training images of `data`,
    evaluated as the test images are; computed once, kept in its run.json (a value kept from
    fewer images is measured again)."""
    folder = training.RunFolder(run_dir)
    info = folder.info()
    n = len(data.x_train)
    kept = info.get("clean_train_error", {})
    if kept.get("images") == n:
        return kept["error"]
    if info.get("status") != "finished" or folder.progress() is None:
        return None  # unfinished, or a record whose weights were not kept
    import numpy as np

    from cnn_keras import data as data_lib

    model, mean, wrong = folder.load_model(), data_lib.per_pixel_mean(data.x_train), 0
    for start in range(0, n, CLEAN_CHUNK):
        x, y = data_lib.eval_arrays(data.x_train[start:start + CLEAN_CHUNK],
                                    data.y_train[start:start + CLEAN_CHUNK], mean=mean)
        probs = model.predict(x, batch_size=256, verbose=0)
        if isinstance(probs, (list, tuple)):  # auxiliary heads: the main output comes first
            probs = probs[0]
        wrong += int(np.sum(np.argmax(probs, axis=-1) != y))
    error = round(100 * wrong / n, 2)
    info["clean_train_error"] = {"error": error, "images": n}
    folder.write_info(info)
    return error


def scaled_test_error(run_dir: Path, data, scale_jitter) -> dict | None:
    """Table 3's test of a net trained with scale jittering in [S_min, S_max]: at Q = the middle
    of the range, by dense evaluation (`evaluation.predict_dense`, 3 x 3 windows), on all the
    test images: {"scale": Q, "error": %}; computed once from the final model, kept in its
    run.json. None for an unfinished run."""
    folder = training.RunFolder(run_dir)
    info = folder.info()
    q = (scale_jitter[0] + scale_jitter[1]) // 2
    kept = info.get("scaled_test_error", {})
    if kept.get("scale") == q and kept.get("images") == len(data.x_test):
        return kept
    if info.get("status") != "finished" or folder.progress() is None:
        return None
    import numpy as np

    from cnn_keras import data as data_lib, evaluation

    probs = evaluation.predict_dense(folder.load_model(), data.x_test,
                                     data_lib.per_pixel_mean(data.x_train), scale=q)
    error = round(100 * float(np.mean(np.argmax(probs, axis=-1) != data.y_test)), 2)
    info["scaled_test_error"] = {"scale": q, "error": error, "images": len(data.x_test)}
    folder.write_info(info)
    return info["scaled_test_error"]


def summary(study: Study, mode: str, out_dir: Path, keys, histories,
            clean: dict | None = None, clean_images: int | None = None,
            scaled: dict | None = None) -> list[dict]:
    """One row per variant (final-epoch errors, epochs to the threshold, cost), also written
    to out_dir/summary.csv. `clean`: variant -> `clean_train_error`, where it was measured (on
    `clean_images` training images). `scaled`: variant -> `scaled_test_error` for the nets
    trained with scale jittering; the others are tested at their training scale, the images'
    own size (`test_scale`), so their `final_test_error_q` is their final test error."""
    rows = []
    for key in keys:
        v, history = study.variant(key), histories[key]
        info = training.RunFolder(out_dir / key).info()
        last = history[-1]
        rows.append({
            "variant": key, "label": v.label, "model": v.model, "series": v.series,
            "trainable_params": info.get("params", {}).get("trainable"),
            "macs": info.get("macs"),
            "epochs": len(history),
            "final_train_error": round(100 * (1 - last["accuracy"]), 2),
            "final_test_error": round(100 * (1 - last["val_accuracy"]), 2),
            "final_train_error_clean": (clean or {}).get(key),
            "clean_train_images": clean_images if (clean or {}).get(key) is not None else None,
            "epochs_to_threshold": epochs_to_error(history, study.threshold[mode]),
            "train_seconds": round(sum(r["seconds"] for r in history), 1),
        })
        rows[-1].update(_at_test_scale(rows[-1], key, scaled or {}))
    with open(out_dir / "summary.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SUMMARY_FIELDS)
        w.writeheader()
        w.writerows(rows)
    return rows


def _at_test_scale(row: dict, key: str, scaled: dict) -> dict:
    """The row's `test_scale` and `final_test_error_q` (Table 3's single-scale test): a net
    trained at the images' own scale is tested there (its final test error); a jittered one at
    its `scaled_test_error` (none until its run has finished)."""
    if key not in scaled:
        return {"test_scale": None, "final_test_error_q": row["final_test_error"]}
    kept = scaled[key] or {}
    return {"test_scale": kept.get("scale"), "final_test_error_q": kept.get("error")}


def print_summary(rows: list[dict], threshold: float | None) -> None:
    reach = f"ep to {threshold:g}%" if threshold is not None else ""
    width = 14 if any(r.get("final_train_error_clean") is not None for r in rows) else 0
    print(f"{'variant':<48}{'params':>11}{'MMACs':>8}{'ep':>4}{'train err %':>12}"
          f"{'clean train %' if width else '':>{width}}{'test err %':>11}{reach:>10}{'s':>7}")
    for r in rows:
        reached = (r["epochs_to_threshold"] or "-") if threshold is not None else ""
        macs = f"{r['macs'] / 1e6:.1f}" if r.get("macs") else "-"
        c = r.get("final_train_error_clean")
        print(f"{r['label']:<48}{r['trainable_params']:>11,}{macs:>8}{r['epochs']:>4}"
              f"{r['final_train_error']:>12.2f}{'' if c is None else f'{c:.2f}':>{width}}"
              f"{r['final_test_error']:>11.2f}{reached:>10}{r['train_seconds']:>7.0f}")
    for r in rows:  # the nets trained with scale jittering, tested as Table 3 tests them
        if r.get("test_scale") and r.get("final_test_error_q") is not None:
            print(f"{r['label']}: {r['final_test_error_q']:.2f} % test error at Q = "
                  f"{r['test_scale']} px (dense, 3 x 3 windows)")


def degradation_shown(rows: list[dict]) -> bool | None:
    """True when plain-56's final training error is above plain-20's (the paper's Fig. 6 left)."""
    by = {r["model"]: r for r in rows}
    if "plain20" not in by or "plain56" not in by:
        return None
    return by["plain56"]["final_train_error"] > by["plain20"]["final_train_error"]


def print_verdict(rows: list[dict]) -> None:
    shown = degradation_shown(rows)
    if shown is not None:
        print("Degradation (plain-56 trains worse than plain-20): "
              + ("shown" if shown else "NOT shown in this run"))


def load(out_dir) -> dict:
    """A finished study run: its run.json (with the summary rows) and each variant's history,
    keyed by the variant's label."""
    out_dir = Path(out_dir)
    info = json.loads((out_dir / "run.json").read_text())
    info["histories"] = {r.get("label", r["model"]): training.read_history_csv(
        out_dir / r.get("variant", r["model"]) / "history.csv") for r in info["summary"]}
    return info
