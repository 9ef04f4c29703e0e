"""Lookahead (Zhang et al. 2019) as hlb-CIFAR10 and airbench do it: every `every` steps the
moving average of the weights moves toward the current weights by ``1 - decay`` and the
weights are set to it. ``decay = base · (step / total)^power``: nothing early on, a pull back
to the average of ~0.77 per update at the end; the last update sets the weights to the
average. Every float weight takes part, the batch norms' moving statistics too.

Kept outside the optimizer so that it sees the batch-norm statistics, and applied between
`train_on_batch` calls so that it works the same on every backend.
"""

from __future__ import annotations

import numpy as np


class Lookahead:
    def __init__(self, model, total_steps: int, every: int = 5, base: float = 0.95 ** 5,
                 power: float = 3.0):
        self.weights = list(model.weights)
        self.total_steps, self.every, self.base, self.power = (int(total_steps), int(every),
                                                               float(base), float(power))
        self.average = [np.array(w.numpy(), dtype="float32") for w in self.weights]

    def decay(self, step: int) -> float:
        return self.base * (step / self.total_steps) ** self.power

    def after_step(self, step: int) -> None:
        """Call after training step `step` (counted from 1)."""
        if step % self.every == 0:
            self.update(self.decay(step))

    def update(self, decay: float) -> None:
        for w, avg in zip(self.weights, self.average):
            avg += (1.0 - decay) * (np.asarray(w.numpy(), dtype="float32") - avg)
            w.assign(avg.astype(w.dtype))

    def finish(self) -> None:
        """The end of training: the weights become the average."""
        self.update(1.0)

    def state(self) -> dict[str, np.ndarray]:
        return {f"w{i}": a for i, a in enumerate(self.average)}

    def load(self, state) -> None:
        if len(state.files) != len(self.average):
            raise ValueError(f"The saved lookahead state has {len(state.files)} arrays, the "
                             f"model {len(self.average)} weights.")
        self.average = [np.array(state[f"w{i}"], dtype="float32")
                        for i in range(len(self.average))]
