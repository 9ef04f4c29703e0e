"""Argument checks shared by the whole package: each raises a one-line `ValueError` that says
what was wrong, what is allowed and what was received (``... Received: arg=value``), as
keras.applications' errors do. Keras-free, so recipes and the command line can use them before
TensorFlow is imported."""

from __future__ import annotations

import math
import numbers


def fail(message: str, **received):
    """Raise ``ValueError(f"{message} Received: arg=value")`` for the one keyword given."""
    arg, value = next(iter(received.items()))
    raise ValueError(f"{message} Received: {arg}={value!r}")


def is_int(value) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(arg: str, value, minimum: int = 1) -> int:
    """`value` as an int, or a ValueError unless it is an integer >= `minimum`."""
    if not is_int(value) or value < minimum:
        allowed = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        fail(f"`{arg}` must be {allowed}.", **{arg: value})
    return int(value)


def check_bool(arg: str, value) -> None:
    """ValueError unless `value` is True or False (a string such as "no" would be truthy)."""
    if not isinstance(value, bool):
        fail(f"`{arg}` must be True or False.", **{arg: value})


def check_choice(arg: str, value, allowed) -> None:
    """ValueError unless `value` is one of `allowed`."""
    if value not in allowed:
        fail(f"`{arg}` must be one of {list(allowed)}.", **{arg: value})


def check_number(arg: str, value, *, low=None, high=None, low_open=False,
                 high_open=False) -> float:
    """`value` as a float, or a ValueError unless it is a finite real number in the interval
    [low, high] (an open end with `low_open` / `high_open`; None: unbounded). Rejects NaN and
    infinities, which would otherwise train for hours on NaN weights."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and math.isfinite(value)
          and (low is None or (value > low if low_open else value >= low))
          and (high is None or (value < high if high_open else value <= high)))
    if not ok:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
        bounds = " and ".join(b for b in (lo, hi) if b)
        fail(f"`{arg}` must be a finite number{' ' + bounds if bounds else ''}.", **{arg: value})
    return float(value)


def check_rate(arg: str, value) -> float:
    """A rate in [0, 1): dropout, batch-norm momentum, label smoothing."""
    return check_number(arg, value, low=0, high=1, high_open=True)


def check_scale_jitter(scale_jitter) -> tuple[int, int] | None:
    """None, or VGG's training-scale range (S_min, S_max) as a tuple of integers,
    1 <= S_min <= S_max."""
    if scale_jitter is None:
        return None
    if (not isinstance(scale_jitter, (tuple, list)) or len(scale_jitter) != 2
            or not all(is_int(s) and s >= 1 for s in scale_jitter)
            or scale_jitter[0] > scale_jitter[1]):
        fail("`scale_jitter` must be None or a pair of integers (S_min, S_max), "
             "1 <= S_min <= S_max.", scale_jitter=scale_jitter)
    return int(scale_jitter[0]), int(scale_jitter[1])


def check_jitter_size(scale_jitter, image_size) -> None:
    """ValueError unless images of `image_size` (height, width) can be scale-jittered by
    `scale_jitter`: square (the crop is a square of their side), and no larger than S_min."""
    scale_jitter = check_scale_jitter(scale_jitter)
    if scale_jitter is None:
        return
    height, width = (int(s) for s in image_size)
    if height != width:
        fail("`scale_jitter` crops squares: the images must be square.",
             image_size=(height, width))
    if scale_jitter[0] < height:
        fail(f"`scale_jitter`'s S_min must be at least the side of the images ({height}): "
             "the crop of the rescaled image has the images' size.", scale_jitter=scale_jitter)


def check_low_res(low_res_size, low_res_epochs, image_size=None) -> None:
    """ValueError unless (`low_res_size`, `low_res_epochs`) is (0, 0) or a size from 8 up to
    below `image_size` (height, width) with at least one epoch."""
    check_int("low_res_size", low_res_size, minimum=0)
    check_int("low_res_epochs", low_res_epochs, minimum=0)
    if bool(low_res_size) != bool(low_res_epochs):
        raise ValueError(f"`low_res_size` and `low_res_epochs` must both be 0 (no progressive "
                         f"resizing) or both positive. Received: low_res_size={low_res_size}, "
                         f"low_res_epochs={low_res_epochs}")
    if low_res_size and (low_res_size < 8 or (image_size is not None
                                              and low_res_size >= min(image_size))):
        than = "" if image_size is None else (f" and smaller than the images "
                                              f"({'x'.join(map(str, image_size))})")
        fail(f"`low_res_size` must be at least 8{than}.", low_res_size=low_res_size)
