"""Figures: training curves, the ResNet paper's Fig. 6 (degradation), accuracy against cost
(EfficientNet's Fig. 1), grids of images (filters, feature maps, Grad-CAM, neighbours)."""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt

_COLORS = {20: "#e8a33d", 32: "#3d85c6", 44: "#6aa84f", 56: "#cc0000", 110: "#674ea7"}


def _finish(fig, path, *, tight: bool = True):
    """Lay out `fig` (unless it lays itself out: `tight=False` for constrained layout), save it
    to `path` (its folder created) unless None, and return it."""
    if tight:
        fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig


def _caption(fig, caption: str, fontsize: float, **kwargs):
    """`caption` above the panels, wrapped to the figure's width (one line of a long caption
    would run off both edges of the saved image)."""
    if caption:
        chars = int(fig.get_figwidth() * 72 / (0.6 * fontsize))  # ~0.6 em a character
        text = "\n".join(textwrap.fill(line, chars) for line in caption.split("\n"))
        fig.suptitle(text, fontsize=fontsize, **kwargs)


def _info(name: str) -> dict:
    """The registry's metadata of a curve named after a model ({} for other names)."""
    from cnn_keras.registry import model_info

    try:
        return model_info(name)
    except ValueError:
        return {}


CHANCE_ERROR = 90.0  # 10 classes


def _error_axis(ax, ylim=None, top: float = 100.0):
    """Errors from 0 (no zoom that makes noise look like an effect), chance drawn where the
    range reaches it; `ylim` (low, high) sets the range instead (e.g. the paper's 0-20 %)."""
    if ylim is not None:
        ax.set_ylim(*ylim)
        return
    if top <= 60:
        ax.set_ylim(0, top + 5)
    else:  # curves that start near chance: the whole range, chance drawn
        ax.set_ylim(0, 100)
        ax.axhline(CHANCE_ERROR, color="gray", linestyle=":", linewidth=1)
        ax.annotate("chance (10 classes)", (0.01, CHANCE_ERROR), xycoords=("axes fraction",
                    "data"), fontsize=7, color="gray", va="bottom")


def _epoch_axis(ax, label: str = "epoch"):
    """Whole epochs on the x axis (matplotlib's default ticks of a 10-epoch run are 2.5, 7.5)."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _legend(ax, entries: int, fontsize: float = 8):
    """The legend inside the axes, or beside them where more than five entries would cover
    curves."""
    if entries > 5:
        ax.legend(fontsize=fontsize, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0)
    else:
        ax.legend(fontsize=fontsize)


def _top(histories: dict) -> float:
    return max((100 * (1 - r[k]) for rows in histories.values() for r in rows
                for k in ("accuracy", "val_accuracy")), default=100.0)


def _error_curves(ax, histories: dict, title: str, ylim=None, top=None):
    for name, rows in histories.items():
        color = _COLORS.get(_info(name).get("depth"))
        epochs = [r["epoch"] for r in rows]
        train_err = [100 * (1 - r["accuracy"]) for r in rows]
        test_err = [100 * (1 - r["val_accuracy"]) for r in rows]
        ax.plot(epochs, train_err, "--", color=color, linewidth=1.2, label=f"{name} train")
        ax.plot(epochs, test_err, "-", color=color, linewidth=2.4, label=f"{name} test")
    ax.set_title(title)
    _epoch_axis(ax)
    ax.set_ylabel("error (%)")
    _error_axis(ax, ylim, _top(histories) if top is None else top)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


PAPER_FIG6_YLIM = (0, 20)  # He et al. 2015, Fig. 6: error (%) from 0 to 20


def degradation_figure(histories: dict, path=None, *, caption: str = "", ylim=None):
    """The ResNet paper's Fig. 6, its left and middle panels: plain nets on the left, ResNets on
    the right (a run that trained only one kind has one panel); training error dashed, test
    error bold. `histories` maps model names ('plain20', 'resnet56', ...) to history rows.
    `ylim`: None for the full range from 0, or `PAPER_FIG6_YLIM` (the paper's axes) for each
    panel whose final errors fit in them (the other keeps the full range)."""
    panels = _degradation_panels(histories)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    top = _top(histories)
    for ax, (h, title) in zip(axes[0], panels):
        fits = ylim is not None and _final_top(h) < ylim[1]
        _error_curves(ax, h, title, ylim if fits else None, top)
    _caption(fig, caption, 9)
    return _finish(fig, path)


def _degradation_panels(histories: dict) -> list[tuple[dict, str]]:
    """(histories, title) of Fig. 6's panels that have nets: plain nets, then ResNets."""
    from cnn_keras.checks import fail

    histories = {k: v for k, v in histories.items() if v}  # a net with no finished epoch
    if not histories:
        fail("`histories` must hold at least one net with a finished epoch.",
             histories=histories)
    plain = {k: v for k, v in histories.items() if _info(k).get("residual") is False}
    res = {k: v for k, v in histories.items() if k not in plain}
    return [(h, title) for h, title in ((plain, "plain networks"),
                                        (res, "ResNets (option A shortcuts)")) if h]


def papers_axes_fit(histories: dict, ylim=PAPER_FIG6_YLIM) -> bool:
    """Whether `degradation_figure(..., ylim=ylim)` draws any panel on those axes (a figure
    where none fits would repeat the full-range one)."""
    return any(_final_top(h) < ylim[1] for h, _ in _degradation_panels(histories))


def _final_top(histories: dict) -> float:
    """The largest final-epoch error (%), training or test, of `histories`."""
    return max(100 * (1 - rows[-1][k]) for rows in histories.values() if rows
               for k in ("accuracy", "val_accuracy"))


def training_curves(histories: dict, path=None, *, caption: str = ""):
    """Loss and error per epoch for one or more runs."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, rows in histories.items():
        e = [r["epoch"] for r in rows]
        axes[0].plot(e, [r["loss"] for r in rows], "--", label=f"{name} train")
        axes[0].plot(e, [r["val_loss"] for r in rows], "-", label=f"{name} test")
    axes[0].set_title("loss")
    _epoch_axis(axes[0])
    axes[0].set_ylabel("loss (the recipe's)")  # e.g. label-smoothed cross-entropy
    axes[0].legend(fontsize=8)
    _error_curves(axes[1], histories, "error")
    _caption(fig, caption, 9)
    return _finish(fig, path)


def ablation_figure(histories: dict, path=None, *, title: str = "", caption: str = "",
                    threshold: float | None = None):
    """Variants of one net side by side: training error (left) and test error (right) per epoch.
    `histories` maps a variant's label to its history rows; `threshold` (a training error, %)
    is drawn where the study counts the epochs to reach it (AlexNet's Fig. 1: 25 %). The
    legend gives each variant's final test error."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for i, (label, rows) in enumerate(histories.items()):
        color = f"C{i}"
        epochs = [r["epoch"] for r in rows]
        for ax, key in zip(axes, ("accuracy", "val_accuracy")):
            errors = [100 * (1 - r[key]) for r in rows]
            # the final error in the legend: curves a point apart on 0-100 % are hard to read
            final = f": {errors[-1]:.1f} %" if errors else ""
            ax.plot(epochs, errors, "-o", color=color, markersize=3, linewidth=1.8,
                    label=f"{label}{final}")
    for ax, what in zip(axes, ("training error", "test error")):
        ax.set_title(what, fontsize=10)
        _epoch_axis(ax)
        _error_axis(ax, top=_top(histories))
        ax.grid(alpha=0.3)
    if threshold is not None:
        axes[0].axhline(threshold, color="black", linestyle="--", linewidth=1)
        axes[0].annotate(f"{threshold:g} % threshold", (0.99, threshold), ha="right",
                         va="bottom", xycoords=("axes fraction", "data"), fontsize=7)
    axes[0].set_ylabel("error (%)")
    _legend(axes[1], len(histories))
    # the title above both panels, with the caption: over the left panel alone a study's long
    # title would run off the image's left edge
    _caption(fig, "\n".join(t for t in (title, caption) if t), 8, y=0.995)
    return _finish(fig, path)


def tradeoff_figure(rows: list[dict], path=None, *, title: str = "", caption: str = "",
                    error_key: str = "final_test_error"):
    """Test error against multiply-adds (left) and parameters (right), one point per net
    (named in the legend): the accuracy/cost trade-off of MobileNet's Tables 6-7 and
    EfficientNet's Fig. 1. Each row needs 'label', 'macs', 'trainable_params' and `error_key`
    (the final epoch's error: the best epoch would select on the test set); rows of one
    'series' (e.g. the width multiplier's nets; "alpha+rho" for a row of two) are joined by
    a line, in the rows' order."""
    from matplotlib.ticker import FuncFormatter

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    for i, r in enumerate(rows):  # named in the legend: labels beside close points overlap
        for ax, key in zip(axes, ("macs", "trainable_params")):
            ax.plot(r[key] / 1e6, r[error_key], linestyle="none", color=f"C{i % 10}",
                    marker="os^Dv"[i // 10 % 5], markersize=7, label=r["label"])

    def series(r):
        return (r.get("series") or "").split("+")

    for name in dict.fromkeys(n for r in rows for n in series(r) if n):
        members = [r for r in rows if name in series(r)]
        for ax, key in zip(axes, ("macs", "trainable_params")):
            ax.plot([r[key] / 1e6 for r in members], [r[error_key] for r in members], "-",
                    color="gray", linewidth=1, zorder=0)
            ax.annotate(name, (members[-1][key] / 1e6, members[-1][error_key]), fontsize=8,
                        xytext=(4, -10), textcoords="offset points", color="gray")
    for ax, key, what in zip(axes, ("macs", "trainable_params"),
                             ("multiply-adds per image (millions)",
                              "trainable parameters (millions)")):
        ax.set_xlabel(what)
        ax.set_xlim(0, 1.25 * max(r[key] for r in rows) / 1e6)  # room for the series' names
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        _error_axis(ax, top=max(r[error_key] for r in rows))  # from 0: no zoomed-in noise
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"{error_key.replace('_', ' ')} (%)")
    _legend(axes[1], 6, fontsize=7)  # beside the panels, however few
    _caption(fig, "\n".join(t for t in (title, caption) if t), 8, y=0.995)
    return _finish(fig, path)


def _family(model: str) -> str:
    """A net's family: its registry name without the depth (resnet20, resnet56 -> resnet)."""
    return re.sub(r"\d+$", "", model)


def accuracy_vs_macs_figure(rows: list[dict], path=None, *, title: str = "",
                            caption: str = "", columns: int = 4):
    """EfficientNet's Fig. 5 for recorded CIFAR-10 runs: test accuracy against multiply-adds per
    image (log scale), one panel per record (small multiples: within a record the comparison is
    fair, across records the training budget differs), every record's points in grey behind
    each panel for context. In a panel, one labelled point per row, its error bar the
    seed-to-seed spread, and the nets of one family (resnet20, resnet56) joined by a line, as
    the paper joins the EfficientNets (a second family dashed). Each row needs 'record',
    'model', 'variant', 'macs', 'test_accuracy' and 'spread' (`comparison.recorded_accuracy`,
    or its `headline` rows for one point per net and record)."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    from cnn_keras.checks import fail

    if not rows:
        fail("`rows` must hold at least one recorded run (comparison.recorded_accuracy).",
             rows=rows)
    records = list(dict.fromkeys(r["record"] for r in rows))
    ncols = min(columns, len(records))
    nrows = -(-len(records) // ncols)
    panel = 3.3  # inches a panel is wide
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel * ncols, 2.7 * nrows + 1.0),
                             sharex=True, sharey=True, squeeze=False)
    everyone = ([r["macs"] / 1e6 for r in rows], [r["test_accuracy"] for r in rows])
    low, high = min(everyone[0]) / 1.5, max(everyone[0]) * 3  # room for labels on the right
    # a label's height in accuracy points and a character's width in decades (6.5 pt text
    # on axes ~75 % of a panel's width), for placing labels clear of each other
    bottom, top = min(everyone[1]) - 3, max(everyone[1]) + 3
    spacing = (0.06 * (top - bottom), 6.5 * 0.6 / 72 / (0.75 * panel) * math.log10(high / low),
               (bottom, top))
    for i, (ax, record) in enumerate(zip(axes.flat, records)):
        ax.scatter(*everyone, s=10, color="0.85", zorder=0)
        _record_panel(ax, [r for r in rows if r["record"] == record], f"C{i % 10}", spacing)
        ax.set_title(record, fontsize=8)
    for i, ax in enumerate(axes.flat):
        if i >= len(records):
            ax.set_visible(False)
        elif i + ncols >= len(records):  # the lowest panel of its column: its x labels show
            ax.xaxis.set_tick_params(labelbottom=True)
    ax = axes.flat[0]
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1, 3)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlim(low, high)
    ax.set_ylim(bottom, top)
    fig.supxlabel("multiply-adds per 32x32 image (millions, log scale)", fontsize=9)
    fig.supylabel("CIFAR-10 test accuracy (%), final epoch", fontsize=9)
    _caption(fig, "\n".join(t for t in (title, caption) if t), 8, y=0.998)
    return _finish(fig, path)


def _record_panel(ax, mine: list[dict], color: str, spacing: tuple):
    """One record's points on `ax`: a line per family of nets, each point labelled with its variant
    (or its net where the variant is the net or the paper's recipe); a label that would cover
    another label or point is moved (`spacing`: one label's height in accuracy points, one
    character's width in decades of multiply-adds, the y limits) and joined to its point."""
    labels = []
    for j, family in enumerate(dict.fromkeys(_family(r["model"]) for r in mine)):
        members = sorted((r for r in mine if _family(r["model"]) == family),
                         key=lambda r: r["macs"])
        x = [r["macs"] / 1e6 for r in members]
        y = [r["test_accuracy"] for r in members]
        # a line joins nets of one family (resnet20 -> resnet56), not variants of one net: a
        # record's width and resolution sweeps of one net would zigzag into one curve
        joined = len(members) > 1 and len({r["model"] for r in members}) == len(members)
        ax.errorbar(x, y, yerr=[r["spread"] or 0 for r in members], fmt="o", color=color,
                    linestyle=("-" if j % 2 == 0 else "--") if joined else "none",
                    markersize=4, linewidth=1.2, capsize=2)
        labels += [(xi, yi, r["model"] if r["variant"] in (r["model"], "paper")
                    else r["variant"]) for r, xi, yi in zip(members, x, y)]
    for (xi, yi, text), (lx, ly) in zip(*_place_labels(labels, *spacing)):
        moved = (lx, ly) != (xi * _LABEL_GAP, yi)
        ax.annotate(text, (xi, yi), xytext=(lx, ly), textcoords="data", fontsize=6.5,
                    color=color, va="center", arrowprops={"arrowstyle": "-", "color": color,
                                                          "linewidth": 0.6} if moved else None)
    ax.grid(alpha=0.3, which="both")


_LABEL_GAP, _LABEL_ASIDE = 1.15, 2.3  # a label's x over its point's: beside it, or moved aside


def _place_labels(labels: list[tuple], height: float, char_decades: float, limits: tuple):
    """`labels` (x, y, text) from the highest y down, each with the place (x, y) of its text:
    the first of beside its point, a `height` lower or higher, then moved aside to the right
    and lowered or raised a `height` at a time, where it covers neither a label placed before
    it nor another point (widths: `char_decades` per character on a log axis), inside the
    y `limits`."""
    order = sorted(labels, key=lambda t: -t[1])
    dot = char_decades  # a point's half width, in decades
    taken = [(math.log10(x) - dot, math.log10(x) + dot, y) for x, y, _ in labels]
    places = []
    for x, y, text in order:
        own = (math.log10(x) - dot, math.log10(x) + dot, y)
        width = (len(text) + 1) * char_decades
        inside = (p for p in _candidates(x, y, height)
                  if limits[0] + height / 2 <= p[1] <= limits[1] - height / 2)
        # where every place is taken, beside its point after all
        place = next((p for p in inside if not any(
            o != own and _overlap(_box(p, width), o, height) for o in taken)), (x * _LABEL_GAP, y))
        taken.append(_box(place, width))
        places.append(place)
    return order, places


def _candidates(x: float, y: float, height: float):
    """Where a label may go, nearest first: beside its point, then aside, up to 8 rows off."""
    for lx in (x * _LABEL_GAP, x * _LABEL_ASIDE):
        yield lx, y
        for k in range(1, 9):
            yield lx, y - k * height
            yield lx, y + k * height


def _box(place: tuple, width: float) -> tuple:
    """A label's (x from, x to in decades, y centre) from its place (x, y) and width."""
    return math.log10(place[0]), math.log10(place[0]) + width, place[1]


def _overlap(box: tuple, other: tuple, height: float) -> bool:
    """Whether two (x from, x to, y centre) boxes of one `height` overlap."""
    return box[0] < other[1] and other[0] < box[1] and abs(box[2] - other[2]) < height


def latency_figure(rows: list[dict], path=None, *, title: str = "", caption: str = ""):
    """Measured time per image against multiply-adds per image (log-log), one colour per batch
    size (the second one's labels below its points), one labelled point per net: how far
    multiply-adds predict latency. Each row needs 'model', 'batch_size', 'macs' and
    'ms_per_image' (`comparison.latency_table` rows with the nets' multiply-adds added)."""
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(7, 4.3))
    for i, batch in enumerate(dict.fromkeys(r["batch_size"] for r in rows)):
        mine = [r for r in rows if r["batch_size"] == batch]
        x = [r["macs"] / 1e9 for r in mine]
        y = [r["ms_per_image"] for r in mine]
        ax.loglog(x, y, "o", color=f"C{i}", label=f"batch {batch}")
        for r, xi, yi in zip(mine, x, y):
            ax.annotate(r["model"], (xi, yi), fontsize=7, color=f"C{i}",  # odd sizes below
                        xytext=(4, 2) if i % 2 == 0 else (4, -9), textcoords="offset points")
    # 0.2, 0.5, 1, 2, 5, 10 ... written out, rather than powers of ten
    plain = FuncFormatter(lambda v, _: f"{v:g}" if f"{v:e}"[0] in "125" else "")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(plain)
    ax.tick_params(which="both", labelsize=8)
    low, high = (f(r["macs"] / 1e9 for r in rows) for f in (min, max))
    ax.set_xlim(low / 1.5, high * 2.5)  # room for the labels on the right
    ax.set_xlabel("multiply-adds per image (billions)")
    ax.set_ylabel("ms per image (median)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    _caption(fig, "\n".join(t for t in (title, caption) if t), 8, y=0.995)
    return _finish(fig, path)


def architecture_diagram(model, path, **kwargs):
    """Draw `model` with `keras.utils.plot_model(show_shapes=True)` where pydot and graphviz's
    `dot` are installed; otherwise print how to get them and return None (no exception)."""
    import importlib.util
    import shutil

    import keras

    if shutil.which("dot") is None or importlib.util.find_spec("pydot") is None:
        print("Architecture diagram skipped: needs `pip install pydot` and graphviz's `dot` "
              "(apt-get install graphviz / conda install graphviz).")
        return None
    try:
        keras.utils.plot_model(model, to_file=str(path), show_shapes=True, **kwargs)
    except (ImportError, OSError) as exc:
        print(f"Architecture diagram skipped: {exc}")
        return None
    return Path(path)


def connection_heatmap(matrix, path=None, *, title: str = "", caption: str = ""):
    """DenseNet's Fig. 5: a heat map of `analysis.dense_connection_strength` (rows: target
    layers, last = transition; columns: source layers, 0 = the block's input)."""
    return connection_heatmaps({title: matrix}, path, caption=caption)


def connection_heatmaps(blocks: dict, path=None, *, caption: str = "",
                        last_rows: dict | None = None):
    """`connection_heatmap` of several dense blocks side by side, as the paper's Fig. 5 draws
    its three: `blocks` maps a panel's title to its `analysis.dense_connection_strength`.
    A square matrix's last row is labelled "trans" (the transition after the block), or as
    `last_rows` says for that title ("classifier" for the last block's
    `classifier=True` row)."""
    # constrained layout places the one colorbar beside all panels (tight_layout cannot)
    fig, axes = plt.subplots(1, len(blocks), figsize=(4.2 * len(blocks) + 1.0, 4.4),
                             squeeze=False, layout="constrained")
    for ax, (title, matrix) in zip(axes[0], blocks.items()):
        im = _heatmap_panel(ax, matrix, title, (last_rows or {}).get(title, "trans"))
    axes[0][0].set_ylabel("target layer")
    fig.colorbar(im, ax=list(axes[0]), label="mean |w|, relative to the row's max", shrink=0.8)
    _caption(fig, caption, 7)
    return _finish(fig, path, tight=False)


def _heatmap_panel(ax, matrix, title: str, last_row: str = "trans"):
    """One block's heat map on `ax`, each target layer's row scaled to its strongest = 1."""
    import numpy as np

    norm = matrix / np.nanmax(matrix, axis=1, keepdims=True)
    im = ax.imshow(norm, cmap="viridis", vmin=0, vmax=1)
    n_t, n_s = matrix.shape
    ax.set_xticks(range(n_s))
    ax.set_yticks(range(n_t))
    labels = [str(t + 1) for t in range(n_t)]
    if n_t == n_s:  # the last row reads the whole block: the transition (or the classifier)
        labels[-1] = last_row
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xticklabels([str(s) for s in range(n_s)], fontsize=7)
    ax.set_xlabel("source layer s (0 = block input)")
    ax.set_title(title, fontsize=10)
    return im


def image_grid(rows, path=None, *, titles=None, row_labels=None, cmap=None, title: str = "",
               caption: str = "", cell: float = 1.1):
    """Images in a grid, one list of images per row (rows may differ in length), drawn pixel by
    pixel (no smoothing), without axes: first-layer filters (AlexNet's Fig. 3), feature maps,
    Grad-CAM overlays, nearest neighbours (AlexNet's Fig. 4). An image is (H, W, 3) uint8 or
    float in [0, 1], or (H, W) drawn with `cmap` (scaled to its own range). `titles`: a list
    of strings per row (or None); `row_labels`: one string per row, left of it."""
    from cnn_keras.checks import fail

    n_rows, n_cols = len(rows), max((len(r) for r in rows), default=0)
    if not n_cols:
        fail("`rows` must hold at least one image.", rows=rows)
    width = cell * n_cols + (1.2 if row_labels else 0)  # room for the row labels
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(width, cell * n_rows), squeeze=False)
    for i, row in enumerate(rows):
        for j, ax in enumerate(axes[i]):
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(row):
                ax.axis("off")
                continue
            ax.imshow(row[j], cmap=cmap, interpolation="nearest")
            for spine in ax.spines.values():
                spine.set_visible(False)
            if titles and titles[i] and j < len(titles[i]):
                ax.set_title(titles[i][j], fontsize=7)
        if row_labels:
            axes[i][0].set_ylabel(row_labels[i], fontsize=8, rotation=0, ha="right",
                                  va="center")
    _caption(fig, "\n".join(t for t in (title, caption) if t), 8, y=0.995)
    return _finish(fig, path)


def heatmap_overlay(image, heatmap, *, alpha: float = 0.45, cmap: str = "jet"):
    """`image` (H, W, 3; uint8 or [0, 1]) with `heatmap` (H, W, in [0, 1], e.g. a Grad-CAM map)
    blended over it in colour `cmap`: an (H, W, 3) float array in [0, 1] for `image_grid`."""
    import numpy as np

    img = np.asarray(image, dtype=np.float32)
    img = img / 255.0 if img.max() > 1 else img
    colours = plt.get_cmap(cmap)(np.clip(np.asarray(heatmap), 0, 1))[..., :3]
    return np.clip((1 - alpha) * img + alpha * colours, 0, 1)


def speedrun_figure(runs: dict, path=None, *, target: float = 91.0, minutes: float = 30.0,
                    caption: str = "", emphasis: str | None = None):
    """Test accuracy (without test-time augmentation) of speedruns against wall minutes, set-up
    included (left), and against epochs (right); `runs` maps a label to history rows with
    ``elapsed`` seconds; the curve labelled `emphasis` (e.g. the reader's own run) is drawn
    black and thicker. The target accuracy and the time budget are drawn."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    for i, (label, rows) in enumerate(runs.items()):
        acc = [100 * r["val_accuracy"] for r in rows]
        # ten colours, then another marker and line: no two curves look alike
        style = ({"color": "black", "linewidth": 2.2, "zorder": 5} if label == emphasis else
                 {"color": f"C{i % 10}", "marker": "osD^v"[i // 10 % 5],
                  "linestyle": "-" if i // 10 % 2 == 0 else "--"})
        axes[0].plot([r["elapsed"] / 60 for r in rows], acc, markersize=3, label=label,
                     **{"marker": "o", **style})
        axes[1].plot([r["steps"] / rows[0]["steps"] for r in rows], acc, markersize=3,
                     label=label, **{"marker": "o", **style})
    for ax, xlabel in zip(axes, ("wall minutes (set-up included)", "epochs")):
        ax.axhline(target, color="black", linestyle="--", linewidth=1)
        ax.annotate(f"{target:g} %", (0.01, target), xycoords=("axes fraction", "data"),
                    fontsize=7, va="bottom")
        ax.set_xlabel(xlabel)
        ax.set_ylim(0, 100)  # the whole range: chance (10 %) to 100 %
        ax.grid(alpha=0.3)
    axes[0].axvline(minutes, color="gray", linestyle=":", linewidth=1)
    axes[0].annotate(f"{minutes:g}-minute budget", (minutes, 0.02), xycoords=("data",
                     "axes fraction"), rotation=90, fontsize=7, color="gray", ha="right",
                     va="bottom")
    _epoch_axis(axes[1], "epochs")
    axes[0].set_ylabel("test accuracy (%), no TTA")
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))  # beside the curves
    _caption(fig, caption, 8, y=0.995)
    return _finish(fig, path)


def speedrun_ablation_figure(rows: list[dict], path=None, *, reference: dict | None = None,
                             caption: str = ""):
    """What each trick buys: the change in final test accuracy (points) when one trick is
    removed from the full recipe (`speedrun.ablation.table` rows), with the full recipe's
    seed-to-seed spread (±1 and ±2 standard deviations) shaded around zero; `reference` maps a
    variant to the reference repository's epochs saved, written beside its bar."""
    full = next((r for r in rows if r["variant"] == "full"), None)
    rows = [r for r in rows if r["variant"] != "full"]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(rows) + 1.6))
    y = range(len(rows))
    changes = [r["change"] for r in rows]
    ax.barh(list(y), changes, color=["C3" if c < 0 else "C2" for c in changes],
            xerr=[r["spread"] or 0 for r in rows], capsize=3, zorder=3)
    spread = full and full.get("spread")
    if spread:
        ax.axvspan(-2 * spread, 2 * spread, color="gray", alpha=0.12, label="full recipe ±2 sd")
        ax.axvspan(-spread, spread, color="gray", alpha=0.25, label="full recipe ±1 sd")
        ax.legend(fontsize=7, loc="upper left")  # the labels run left of the bars
    ax.axvline(0, color="black", linewidth=1)
    for i, r in enumerate(rows):  # the label beyond the bar's end (and its error bar)
        note = f"{r['change']:+.2f}  ({r['accuracy']:.2f} %, {r['seeds']} seed"
        note += "s)" if r["seeds"] > 1 else ")"
        if reference and r["variant"] in reference:
            note += f"  ref.: {reference[r['variant']]}"
        end = r["change"] + (r["spread"] or 0) * (1 if r["change"] >= 0 else -1)
        ax.annotate(note, (end, i), xytext=(6 if r["change"] >= 0 else -6, 0),
                    textcoords="offset points", va="center", fontsize=7,
                    ha="left" if r["change"] >= 0 else "right")
    ax.set_yticks(list(y), [r["variant"] for r in rows])
    ax.invert_yaxis()
    low = min(changes + [-(2 * spread if spread else 0.5)])
    ax.set_xlim(min(low * 3.2, -1.0), max(max(changes) * 3.2, 2 * (spread or 0.5), 0.5))
    title = "removing one trick from the full recipe"
    if full:
        title += f" ({full['accuracy']:.2f} %, {full['epochs']:g} epochs)"
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("change in final test accuracy (points)")
    ax.grid(axis="x", alpha=0.3)
    _caption(fig, caption, 7, y=0.995)
    return _finish(fig, path)
