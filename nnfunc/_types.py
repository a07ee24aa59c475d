"""The shared vocabulary of nnfunc: one place for every type name.

A network is data: ``Params`` maps ``"W1", "b1", ..., "WL", "bL"`` to arrays.
``W{l}`` has shape ``(n_{l-1}, n_l)`` and ``b{l}`` has shape ``(n_l,)``, so a
batch of row vectors ``x`` of shape ``(batch, n_0)`` flows through
``z = a_prev @ W + b``. (The textbook writes ``z = W x + b`` for one column
vector ``x``; stacking samples as rows transposes it.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

#: A NumPy floating array (``float64`` by default, ``float32`` supported).
Array: TypeAlias = npt.NDArray[np.floating[Any]]

#: Network parameters: a read-only mapping ``"W1", "b1", ...`` to arrays.
Params: TypeAlias = Mapping[str, Array]

#: Gradients have exactly the keys and shapes of the params they belong to.
Grads: TypeAlias = Params

#: Optimizer state: a read-only mapping of read-only arrays. ``"count"`` is a
#: 0-d int64 array (steps taken so far); slots are keyed ``"{slot}.{param}"``,
#: e.g. ``"m.W1"``, so a state saves to one flat ``.npz``.
OptState: TypeAlias = Mapping[str, npt.NDArray[Any]]

#: A learning-rate schedule: step number (0, 1, 2, ...) to learning rate.
Schedule: TypeAlias = Callable[[int], float]

#: A learning rate: a constant or a schedule.
LearningRate: TypeAlias = float | Schedule

#: Anything ``np.random.default_rng`` turns into the same stream every time.
Seed: TypeAlias = int | np.random.SeedSequence

#: A batch of inputs, one sample per row (anything ``np.asarray`` turns into
#: a real 2-D array; cast once to the params' dtype).
Batch: TypeAlias = Annotated[npt.ArrayLike, "batch n_0"]

#: Targets: ``(batch, k)`` values or probability rows, ``(batch,)`` when
#: ``k == 1``, or ``(batch,)`` integer class labels for a softmax output.
Targets: TypeAlias = Annotated[npt.ArrayLike, "batch k"]

#: The network's output for a batch, one sample per row.
Output: TypeAlias = Annotated[Array, "batch n_L"]

#: Hidden-layer activation names; every one has a derivative in the registry.
ActivationName: TypeAlias = Literal[
    "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "identity"
]

#: One activation for every hidden layer, or one name per hidden layer.
Hidden: TypeAlias = ActivationName | Sequence[ActivationName]

#: Output activations, each paired with its canonical loss.
OutputName: TypeAlias = Literal["sigmoid", "softmax", "identity"]

#: Weight initialization schemes.
InitName: TypeAlias = Literal[
    "xavier",
    "xavier_uniform",
    "xavier_normal",
    "he",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "lecun_uniform",
    "small_normal",
]

#: Floating dtypes the library computes in.
FloatDType: TypeAlias = type[np.floating[Any]] | np.dtype[Any]

__all__ = [
    "ActivationName",
    "Array",
    "Batch",
    "FloatDType",
    "Grads",
    "Hidden",
    "InitName",
    "LearningRate",
    "OptState",
    "Output",
    "OutputName",
    "Params",
    "Schedule",
    "Seed",
    "Targets",
]
