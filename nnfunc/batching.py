r"""Mini-batches: one epoch of shuffled batches, drawn from an explicit seed.

An epoch visits every sample once, in the order of a random permutation
:math:`\pi` of ``0..n-1``; batch ``j`` holds the samples
:math:`\pi[jB], \dots, \pi[(j+1)B - 1]` for batch size ``B``. The last batch
has ``n mod B`` samples when ``B`` does not divide ``n``; ``drop_last`` skips
it (then every step averages over exactly ``B`` samples).

Seeds for a sequence of epochs come from :func:`derive_seed`, a pure function
of ``(seed, epoch, ...)``: epoch ``e`` of a run seeded with ``s`` uses
``SeedSequence(s, spawn_key=(e,))``, which is exactly the ``e``-th child that
``SeedSequence(s).spawn`` would hand out, but with no spawn counter to keep.
So a run resumed at epoch ``e`` shuffles as the uninterrupted run did.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any, TypeVar, overload

import numpy as np
import numpy.typing as npt

from nnfunc._checks import as_array, check_int, check_seed
from nnfunc._types import Seed

#: Indices into the data set, one array per batch.
Indices = npt.NDArray[np.intp]


def derive_seed(seed: Seed, *keys: int) -> np.random.SeedSequence:
    """The seed of a sub-stream: ``seed`` extended by the path ``keys``.

    ``derive_seed(s, e)`` is the ``e``-th child of ``SeedSequence(s)`` and
    ``derive_seed(s, e, t)`` the ``t``-th child of that, computed directly
    (no spawn counter): the same arguments give the same stream, different
    paths give independent streams. ``nnfunc.train`` shuffles epoch ``e``
    with ``derive_seed(seed, e)`` and draws the dropout masks of its step
    ``t`` from ``derive_seed(seed, e, t)``.

    Args:
        seed: an ``int >= 0`` or a ``np.random.SeedSequence``.
        *keys: non-negative ints, e.g. the epoch and the step.

    Returns:
        A new ``np.random.SeedSequence``.

    Examples:
        >>> a = derive_seed(7, 2).generate_state(2)
        >>> b = np.random.SeedSequence(7).spawn(3)[2].generate_state(2)
        >>> bool((a == b).all())
        True
    """
    seed = check_seed(seed)
    path = tuple(check_int(k, "keys") for k in keys)
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(
            seed.entropy,
            spawn_key=(*seed.spawn_key, *path),
            pool_size=seed.pool_size,
        )
    return np.random.SeedSequence(seed, spawn_key=path)


def epoch_seed(seed: Seed, epoch: int) -> np.random.SeedSequence:
    """The seed of epoch ``epoch`` (0 for the first): ``derive_seed(seed, epoch)``.

    Examples:
        >>> s = epoch_seed(0, 3)
        >>> s.spawn_key
        (3,)
    """
    return derive_seed(seed, epoch)


def batch_indices(
    n: int, batch_size: int, seed: Seed, drop_last: bool = False
) -> Iterator[Indices]:
    """The sample indices of each batch of one epoch (inputs trusted).

    ``n`` samples in a permutation drawn from ``seed``, cut into runs of
    ``batch_size``; each yielded array is a view into that permutation.
    """
    perm = np.random.default_rng(seed).permutation(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield perm[start : start + batch_size]


#: Element types kept from an argument to a result, for the type checker.
_X = TypeVar("_X", bound=np.generic)
_Y = TypeVar("_Y", bound=np.generic)


@overload
def batches(
    x: npt.NDArray[_X],
    y: npt.NDArray[_Y],
    *,
    batch_size: int,
    seed: Seed,
    drop_last: bool = ...,
) -> Iterator[tuple[npt.NDArray[_X], npt.NDArray[_Y]]]: ...
@overload
def batches(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    batch_size: int,
    seed: Seed,
    drop_last: bool = ...,
) -> Iterator[tuple[npt.NDArray[Any], npt.NDArray[Any]]]: ...
def batches(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    batch_size: int,
    seed: Seed,
    drop_last: bool = False,
) -> Iterator[tuple[npt.NDArray[Any], npt.NDArray[Any]]]:
    """One epoch of shuffled mini-batches ``(x_batch, y_batch)``.

    The permutation is drawn from ``seed`` alone: the same seed gives the
    same batches. For a sequence of epochs pass ``epoch_seed(seed, e)``.
    Each batch is gathered from the data by its indices (the data set itself
    is never copied); ``x`` and ``y`` are only read.

    Shapes: ``x`` is ``(n, ...)`` and ``y`` is ``(n, ...)``; each batch is
    ``(B, ...)`` with ``B = batch_size``, except the last one, which has
    ``n mod B`` rows when ``B`` does not divide ``n`` (dropped when
    ``drop_last``).

    Args:
        x: inputs, one sample per row (any array with ``n`` rows).
        y: targets with the same number of rows.
        batch_size: the number of samples per batch, ``>= 1``.
        seed: an ``int >= 0`` or a ``np.random.SeedSequence``.
        drop_last: skip the final partial batch.

    Returns:
        An iterator over ``ceil(n / B)`` (or ``floor(n / B)`` with
        ``drop_last``) pairs of new arrays.

    Raises:
        ValueError: ``x`` and ``y`` differ in length, either is empty or 0-d,
            or ``batch_size < 1``.
        TypeError: ``batch_size`` is not an int or ``seed`` is not a seed.

    Examples:
        >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
        >>> [yb.tolist() for _, yb in batches(x, y, batch_size=2, seed=0)]
        [[2, 4], [3, 0], [1]]
        >>> [len(yb) for _, yb in batches(x, y, batch_size=2, seed=0, drop_last=True)]
        [2, 2]
    """
    xs, ys = _array(x, "x"), _array(y, "y")
    n = _length(xs, "x")
    if _length(ys, "y") != n:
        raise ValueError(f"x has {n} samples but y has {ys.shape[0]}; expected equal")
    size = check_int(batch_size, "batch_size", lo=1)
    seed = check_seed(seed)
    if not isinstance(drop_last, bool):
        raise TypeError(f"drop_last must be a bool, got {type(drop_last).__name__}")
    return ((xs[i], ys[i]) for i in batch_indices(n, size, seed, drop_last))


def n_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    """The number of batches in one epoch of ``n`` samples.

    Examples:
        >>> n_batches(5, 2), n_batches(5, 2, drop_last=True)
        (3, 2)
    """
    n, b = operator.index(n), operator.index(batch_size)
    return n // b if drop_last else -(-n // b)


def _array(a: object, name: str) -> npt.NDArray[Any]:
    """``a`` as a plain array (see ``nnfunc._checks.as_array``)."""
    return as_array(a, name)


def _length(a: npt.NDArray[Any], name: str) -> int:
    if a.ndim == 0:
        raise ValueError(f"{name} must have one sample per row, got a 0-d array")
    if a.shape[0] == 0:
        raise ValueError(f"{name} must have at least one sample, got shape {a.shape}")
    return int(a.shape[0])
