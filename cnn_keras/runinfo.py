"""What a recorded result says about where it came from: versions, hardware, commit, command."""

from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import subprocess
import sys
from pathlib import Path


@functools.cache
def _cpuinfo_lines() -> tuple[str, ...]:
    try:
        return tuple(Path("/proc/cpuinfo").read_text().splitlines())
    except OSError:
        return ()


def cpuinfo(field: str) -> str | None:
    """The first value of `field` in /proc/cpuinfo ("model name", "flags", "cpu MHz"...); None
    where there is none, or not on Linux."""
    return next((line.split(":", 1)[1].strip() for line in _cpuinfo_lines()
                 if line.split(":", 1)[0].strip() == field), None)


# the widest vector instructions first: what decides a CPU's training speed here
SIMD_LEVELS = ("amx_bf16", "avx512_bf16", "avx512f", "avx2", "avx", "sse4_2")


def cpu_simd() -> str | None:
    """The widest of `SIMD_LEVELS` this CPU has (e.g. "avx512_bf16", "avx2"), or None."""
    flags = set((cpuinfo("flags") or "").split())
    return next((level for level in SIMD_LEVELS if level in flags), None)


def _cpu_model() -> str:
    return cpuinfo("model name") or platform.processor() or platform.machine()


def hardware() -> dict:
    """CPU model and cores available to this process, memory, and accelerators Keras sees."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    info = {"cpu": _cpu_model(), "cores": cores, "machine": platform.machine()}
    if cpuinfo("cpu family") is not None:  # the model name alone may not tell the generation
        info["cpu_family_model"] = f"{cpuinfo('cpu family')}/{cpuinfo('model')}"
    info["cpu_simd"] = cpu_simd()
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        info["memory_gib"] = round(pages * size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    gpus = []
    try:
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
        elif keras.backend.backend() == "jax":
            import jax

            gpus = [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    except Exception:
        gpus = []
    info["accelerators"] = gpus
    info["device"] = f"GPU x{len(gpus)} ({gpus[0]})" if gpus else f"CPU ({cores} cores)"
    return info


def versions() -> dict:
    out = {"python": platform.python_version()}
    for mod in ("keras", "tensorflow", "numpy", "tensorflow_datasets", "jax"):
        module = sys.modules.get(mod)
        if module is not None:
            out[mod] = getattr(module, "__version__", "?")
    import keras

    out["keras_backend"] = keras.backend.backend()
    return out


def git_commit() -> str | None:
    """The commit of the cnn_keras checkout (with '+dirty' for uncommitted changes), if any."""
    if os.environ.get("CNN_KERAS_GIT_COMMIT"):  # a copy of the tree without .git (a GPU box)
        return os.environ["CNN_KERAS_GIT_COMMIT"]
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def machines(info: dict) -> list[dict]:
    """Every machine a run folder's run.json says its epochs ran on, in order: the first
    session's `hardware`, then each resumed session's: a run resumed on another machine type is
    timed and rounded there too."""
    found = [info.get("hardware"), *(r.get("hardware") for r in info.get("resumed", []))]
    unique = []
    for hw in found:
        if hw and hw not in unique:
            unique.append(hw)
    return unique


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def run_metadata(command: list[str] | None = None) -> dict:
    return {
        "command": " ".join(command if command is not None else sys.argv),
        "versions": versions(),
        "hardware": hardware(),
        "git_commit": git_commit(),
        "started": now(),
    }
