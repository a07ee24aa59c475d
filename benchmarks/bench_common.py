"""What every benchmarked system shares: configurations, data, the system record.

A configuration fixes the MLP (layer widths), the batch size, the dtype and
the number of samples of one epoch. The data is synthetic and learnable:
Gaussian inputs labelled by a random teacher network (ReLU, 32 hidden units),
drawn from a fixed seed, so every system (and every worker process) trains on
the same bits. Softmax outputs get integer class labels; a single output unit
gets 0/1 labels split at the teacher's median logit (balanced classes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

LR = 0.01  # plain SGD, every system
SEED = 0  # data, initial weights and shuffles
TEACHER_WIDTH = 32

Data = npt.NDArray[Any]


@dataclass(frozen=True)
class Config:
    """One benchmark configuration: ``sizes`` input first, e.g. (784, 256, 128, 10)."""

    name: str
    sizes: tuple[int, ...]
    batch: int
    dtype: str
    samples: int

    @property
    def np_dtype(self) -> np.dtype[Any]:
        """The NumPy dtype of data and weights."""
        return np.dtype(self.dtype)

    @property
    def output(self) -> Literal["sigmoid", "softmax"]:
        """``"sigmoid"`` (binary cross-entropy) for one unit, else ``"softmax"``."""
        return "sigmoid" if self.sizes[-1] == 1 else "softmax"

    @property
    def label(self) -> str:
        """``"i: 784-256-128-10, batch 128, float32"``."""
        widths = "-".join(map(str, self.sizes))
        return f"{self.name}: {widths}, batch {self.batch}, {self.dtype}"

    @property
    def spec(self) -> str:
        """All but the samples as one word, ``"i:784-256-128-10:128:float32"``."""
        widths = "-".join(map(str, self.sizes))
        return f"{self.name}:{widths}:{self.batch}:{self.dtype}"


CONFIGS: dict[str, Config] = {
    c.name: c
    for c in (
        Config("i", (784, 256, 128, 10), 128, "float32", 8192),
        Config("ii", (784, 256, 128, 10), 128, "float64", 8192),
        Config("iii", (784, 256, 128, 10), 32, "float32", 8192),
        Config("iv", (64, 64, 10), 32, "float64", 16384),
        Config("v", (2, 16, 16, 1), 64, "float64", 32768),
    )
}


def config_from(word: str, samples: int) -> Config:
    """A config of ``samples`` samples from a name in ``CONFIGS`` or a ``spec``.

    A spec lets a harness run configurations the worker does not know by name.
    """
    if word in CONFIGS:
        return replace(CONFIGS[word], samples=samples)
    name, widths, batch, dtype = word.split(":")
    sizes = tuple(int(w) for w in widths.split("-"))
    return Config(name, sizes, int(batch), dtype, samples)


def quick(cfg: Config) -> Config:
    """A tiny version of ``cfg`` for smoke tests: four batches per epoch."""
    return replace(cfg, samples=4 * cfg.batch)


def make_data(cfg: Config, seed: int = SEED) -> tuple[Data, Data]:
    """Inputs ``(n, n_0)`` in ``cfg.dtype`` and labels from a random teacher.

    ``x`` is drawn directly in its dtype and the teacher runs over chunks, so
    the peak memory of making the data is the data itself (the memory
    baselines taken right after rely on this).
    """
    n, d, k = cfg.samples, cfg.sizes[0], cfg.sizes[-1]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d), dtype=cfg.np_dtype)
    W1 = rng.standard_normal((d, TEACHER_WIDTH)) / np.sqrt(d)
    W2 = rng.standard_normal((TEACHER_WIDTH, k)) / np.sqrt(TEACHER_WIDTH)
    logits = np.empty((n, k))
    for s in range(0, n, 4096):
        logits[s : s + 4096] = np.maximum(x[s : s + 4096] @ W1, 0.0) @ W2
    if k == 1:
        y: Data = (logits[:, 0] > np.median(logits[:, 0])).astype(cfg.np_dtype)
    else:
        y = logits.argmax(axis=1)
    return x, y


def init_weights(cfg: Config, seed: int = SEED) -> list[tuple[Data, Data]]:
    """He-normal weights and zero biases, ``[(W1, b1), ...]``, in ``cfg.dtype``.

    The from-scratch systems (floor, plain NumPy, PyTorch, JAX) all start here.
    """
    rng = np.random.default_rng(seed)
    return [
        (
            (rng.standard_normal((m, n)) * np.sqrt(2.0 / m)).astype(cfg.np_dtype),
            np.zeros(n, cfg.np_dtype),
        )
        for m, n in zip(cfg.sizes[:-1], cfg.sizes[1:], strict=True)
    ]


def accuracy(scores: Data, y: Data) -> float:
    """Training accuracy from output logits or probabilities ``(n, k)``.

    One unit: logits are thresholded at 0 and probabilities at 0.5; pass
    ``scores - 0.5`` for probabilities.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1 or s.shape[1] == 1:
        pred = (s.reshape(-1) > 0).astype(np.int64)
    else:
        pred = s.argmax(axis=1)
    return float(np.mean(pred == np.asarray(y).astype(np.int64)))


#: Samples on which the final training accuracy is measured (a sanity check
#: that every system trains the same task, not a score).
EVAL_SAMPLES = 2048


class System(NamedTuple):
    """A system set up on one configuration's data.

    ``epoch(e)`` trains one whole epoch (shuffled with epoch number ``e``);
    ``accuracy()`` is the training accuracy on the first ``EVAL_SAMPLES``
    samples, or None when the system does not really train (the floor).
    """

    epoch: Callable[[int], None]
    accuracy: Callable[[], float | None]


#: Builds a system on data; made by a loader, after its library is imported.
Builder = Callable[[Config, Data, Data], System]

#: Imports a system's library (ImportError when missing), returns its builder.
Loader = Callable[[], Builder]
