r"""Data to learn from: toy problems, MNIST's IDX files, splits and scaling.

Every generator is a pure function of its ``seed`` (an ``int`` or a
``np.random.SeedSequence``): the same seed gives the same bits. Generators
return ``(x, y)`` with float64 features ``x`` of shape ``(n, 2)`` and int64
labels ``y`` of shape ``(n,)``, classes balanced (class 0 gets the odd
sample). Every function returns new arrays and never writes to its inputs.

=========== ==================================================================
name        the two classes
=========== ==================================================================
``xor``     the corners of the unit square, label ``x1 XOR x2``
``spirals`` two interleaved spirals, one the other turned by half a turn
``moons``   two interleaving half circles
``circles`` a circle of radius 1 around one of radius ``factor``
=========== ==================================================================

Reference for the IDX format and MNIST: LeCun, Bottou, Bengio & Haffner,
*Gradient-based learning applied to document recognition* (Proc. IEEE 1998).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar, overload

import numpy as np
import numpy.typing as npt

from nnfunc._checks import as_array, check_float, check_int, check_seed
from nnfunc._idx import IDX_TYPES, MNIST, MNIST_FILES, load_mnist, read_idx
from nnfunc._types import Seed

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
#: Element types kept from an argument to a result, for the type checker.
_X = TypeVar("_X", bound=np.generic)
_Y = TypeVar("_Y", bound=np.generic)


def _balanced_labels(n: int, rng: np.random.Generator) -> I64:
    """``n`` labels, ``ceil(n/2)`` zeros and ``floor(n/2)`` ones, shuffled."""
    y: I64 = rng.permutation(np.arange(n, dtype=np.int64) % 2)
    return y


def xor(n: int = 4, *, noise: float = 0.0, seed: Seed = 0) -> tuple[F64, I64]:
    """The XOR problem: corners of the unit square, ``y = x1 XOR x2``.

    Sample ``i`` sits at corner ``i % 4`` of ``(0,0), (0,1), (1,0), (1,1)``
    plus Gaussian noise of standard deviation ``noise``; so ``xor()`` is the
    truth table itself, and no straight line separates the classes.

    Examples:
        >>> x, y = xor()
        >>> x.tolist(), y.tolist()
        ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    n = check_int(n, "n", lo=1)
    noise = check_float(noise, "noise")
    rng = np.random.default_rng(check_seed(seed))
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    i = np.arange(n) % 4
    with np.errstate(all="ignore"):  # an overflow is reported below, in words
        x: F64 = corners[i] + noise * rng.standard_normal((n, 2))
    y: I64 = np.array([0, 1, 1, 0], dtype=np.int64)[i]
    return _finite_points(x, "noise"), y


def spirals(
    n: int, *, noise: float = 0.2, turns: float = 1.5, seed: Seed = 0
) -> tuple[F64, I64]:
    r"""Two interleaved spirals of ``turns`` turns each, radius from 0 to 1.

    .. math:: s \sim U(0, 1),\quad θ = 2π\,\mathrm{turns}\, s + π y + ε,
       \quad x = s\,(\cos θ, \sin θ),\quad ε \sim N(0, \mathrm{noise}^2)

    The noise is an angle (radians): it moves points along their arm.

    Examples:
        >>> x, y = spirals(100, seed=1)
        >>> x.shape, int(y.sum()), bool(np.abs(x).max() <= 1)
        ((100, 2), 50, True)
    """
    n = check_int(n, "n", lo=1)
    noise = check_float(noise, "noise")
    turns = check_float(turns, "turns")
    rng = np.random.default_rng(check_seed(seed))
    y = _balanced_labels(n, rng)
    s = rng.uniform(0.0, 1.0, n)
    with np.errstate(all="ignore"):  # an overflow is reported below, in words
        theta = 2 * np.pi * turns * s + np.pi * y + noise * rng.standard_normal(n)
        x: F64 = s[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    return _finite_points(x, "noise or turns"), y


def moons(n: int, *, noise: float = 0.1, seed: Seed = 0) -> tuple[F64, I64]:
    r"""Two interleaving half circles, as in scikit-learn's ``make_moons``.

    .. math:: t \sim U(0, π);\quad y=0: (\cos t, \sin t);
       \quad y=1: (1 - \cos t, \tfrac12 - \sin t)

    plus Gaussian noise of standard deviation ``noise`` on each coordinate.

    Examples:
        >>> x, y = moons(7, noise=0.0)
        >>> x.shape, y.tolist().count(0)
        ((7, 2), 4)
    """
    n = check_int(n, "n", lo=1)
    noise = check_float(noise, "noise")
    rng = np.random.default_rng(check_seed(seed))
    y = _balanced_labels(n, rng)
    t = rng.uniform(0.0, np.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    x: F64 = np.where(y[:, None] == 0, upper, lower)
    with np.errstate(all="ignore"):  # an overflow is reported below, in words
        x = x + noise * rng.standard_normal((n, 2))
    return _finite_points(x, "noise"), y


def circles(
    n: int, *, noise: float = 0.05, factor: float = 0.5, seed: Seed = 0
) -> tuple[F64, I64]:
    r"""Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``.

    .. math:: t \sim U(0, 2π),\quad x = r_y (\cos t, \sin t) + ε

    with ``r_0 = 1``, ``r_1 = factor`` in ``[0, 1)`` and Gaussian noise ``ε``.

    Examples:
        >>> x, y = circles(6, noise=0.0, factor=0.5)
        >>> np.round(np.hypot(x[:, 0], x[:, 1]), 6)[y == 1].tolist()
        [0.5, 0.5, 0.5]
    """
    n = check_int(n, "n", lo=1)
    noise = check_float(noise, "noise")
    factor = check_float(factor, "factor", hi=1.0, hi_open=True)
    rng = np.random.default_rng(check_seed(seed))
    y = _balanced_labels(n, rng)
    t = rng.uniform(0.0, 2 * np.pi, n)
    r = np.where(y == 0, 1.0, factor)
    x: F64 = r[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)
    with np.errstate(all="ignore"):  # an overflow is reported below, in words
        x = x + noise * rng.standard_normal((n, 2))
    return _finite_points(x, "noise"), y


def _finite_points(x: F64, args: str) -> F64:
    """``x`` if every coordinate is finite, else a ValueError naming ``args``."""
    if not np.isfinite(x).all():
        raise ValueError(f"{args} too large: the points overflow float64")
    return x


# ---------------------------------------------------------------- splits


def _counts(n: int, fractions: tuple[float, ...]) -> npt.NDArray[np.intp]:
    """Split ``n`` at rounded cumulative fractions: each count within 1 of f*n."""
    cuts = np.rint(np.cumsum(fractions) / sum(fractions) * n).astype(np.intp)
    cuts[-1] = n  # cuts was just allocated; this removes any rounding drift
    counts: npt.NDArray[np.intp] = np.diff(cuts, prepend=0)
    return counts


@overload
def split(
    x: npt.NDArray[_X],
    y: npt.NDArray[_Y],
    fractions: Sequence[float] | npt.NDArray[np.floating[Any]] = ...,
    *,
    seed: Seed = ...,
    stratify: bool = ...,
) -> tuple[tuple[npt.NDArray[_X], npt.NDArray[_Y]], ...]: ...
@overload
def split(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    fractions: Sequence[float] | npt.NDArray[np.floating[Any]] = ...,
    *,
    seed: Seed = ...,
    stratify: bool = ...,
) -> tuple[tuple[npt.NDArray[Any], npt.NDArray[Any]], ...]: ...
def split(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    fractions: Sequence[float] | npt.NDArray[np.floating[Any]] = (0.8, 0.2),
    *,
    seed: Seed = 0,
    stratify: bool = False,
) -> tuple[tuple[npt.NDArray[Any], npt.NDArray[Any]], ...]:
    """Shuffle and split ``(x, y)`` into parts of the given ``fractions``.

    Every sample lands in exactly one part, and part ``i`` holds
    ``fractions[i] * n`` samples to within one. With ``stratify=True`` the
    split is done class by class (each distinct value of ``y`` is a class),
    so every part holds each class's share to within one sample.

    Returns:
        One ``(x_part, y_part)`` pair per fraction, rows in a seeded random
        order, e.g. ``(train, val, test)`` for ``fractions=(0.7, 0.15, 0.15)``.

    Examples:
        >>> (xa, ya), (xb, yb) = split(np.arange(10.0)[:, None], np.arange(10) % 2)
        >>> len(ya), len(yb), sorted(np.concatenate([xa, xb])[:, 0]) == list(range(10))
        (8, 2, True)
    """
    xs, ys = _array(x, "x"), _array(y, "y")
    if xs.ndim == 0 or ys.ndim == 0:
        raise ValueError("x and y must have one row per sample, got a scalar")
    if len(xs) != len(ys):
        raise ValueError(f"x has {len(xs)} rows but y has {len(ys)}")
    if isinstance(fractions, np.ndarray):
        fractions = fractions.tolist()
    if isinstance(fractions, str) or not isinstance(fractions, Sequence):
        raise TypeError(f"fractions must be a sequence of floats, got {fractions!r}")
    fr = tuple(check_float(f, f"fractions[{i}]") for i, f in enumerate(fractions))
    if not fr or not math.isclose(sum(fr), 1.0, abs_tol=1e-9):
        raise ValueError(f"fractions must sum to 1, got {list(fractions)}")
    if stratify and ys.ndim != 1:
        raise ValueError(f"stratify needs 1-D class labels y, got shape {ys.shape}")
    rng = np.random.default_rng(check_seed(seed))
    perm = rng.permutation(len(ys))
    parts = np.arange(len(fr))
    part_of = np.repeat(parts, _counts(len(ys), fr))
    if stratify:
        y_perm = ys[perm]
        try:
            classes = np.unique(ys)
        except TypeError as e:  # objects that do not sort
            raise TypeError(f"y must hold sortable class labels: {e}") from None
        for c in classes:
            at = np.flatnonzero(y_perm == c)
            part_of[at] = np.repeat(parts, _counts(len(at), fr))  # ours
    return tuple(
        (xs[perm[part_of == i]], ys[perm[part_of == i]]) for i in range(len(fr))
    )


# ---------------------------------------------------------------- scaling


def _array(x: object, arg: str) -> npt.NDArray[Any]:
    """``x`` as a plain array (see ``nnfunc._checks.as_array``)."""
    return as_array(x, arg)


def _real(x: npt.ArrayLike, arg: str) -> npt.NDArray[np.floating[Any]]:
    a = _array(x, arg)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{arg} must be an array of real numbers, got {a.dtype}")
    f = a if a.dtype.kind == "f" else a.astype(np.float64)
    if f.ndim == 0:
        raise ValueError(f"{arg} must have one row per sample, got a scalar")
    if not np.isfinite(f).all():
        raise ValueError(f"{arg} has NaN or infinite values")
    return f


def fit_standardize(
    x_train: npt.ArrayLike,
) -> tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.floating[Any]]]:
    """Per-feature ``(mean, std)`` of the training rows, for ``standardize``.

    A constant feature gets ``mean`` = its value and ``std = 1``, so it
    standardizes to exactly 0, never NaN. Float dtypes are kept.

    Examples:
        >>> fit_standardize([[1.0, 5.0], [3.0, 5.0]])
        (array([2., 5.]), array([1., 1.]))
    """
    x = _real(x_train, "x_train")
    if len(x) == 0:
        raise ValueError("x_train must have at least one row")
    constant = (x == x[0]).all(axis=0)
    with np.errstate(over="ignore", invalid="ignore"):  # retried below if so
        mu, sd = x.mean(axis=0), x.std(axis=0)
    finite = np.isfinite(mu).all() and np.isfinite(sd).all()
    if not finite or ((sd == 0) & ~constant).any():
        # Values near the float max (squares overflow) or min (squares
        # underflow to a std of 0): scale each feature by a power of two, in
        # float64, so that max |x| is about 1, and scale the results back.
        top = np.abs(x).max(axis=0).astype(np.float64)
        s = np.ldexp(1.0, np.minimum(-np.frexp(top)[1], 1000))  # 2**1000 at most
        x64 = x.astype(np.float64) * s
        mu = (x64.mean(axis=0) / s).astype(x.dtype)
        sd = (x64.std(axis=0) / s).astype(x.dtype)
        # a spread below the dtype's smallest number: keep std > 0 anyway
        sd = np.where(
            constant, sd, np.maximum(sd, np.finfo(x.dtype).smallest_subnormal)
        )
    mean = np.where(constant, x[0], mu)
    std = np.where(constant, 1.0, sd).astype(x.dtype)
    return mean, std


def standardize(
    x: npt.ArrayLike, mean: npt.ArrayLike, std: npt.ArrayLike
) -> npt.NDArray[np.floating[Any]]:
    r"""Standardize with training statistics: :math:`(x - μ) / σ` per feature.

    Use ``fit_standardize`` on the training set only and apply the same
    ``(mean, std)`` to validation and test sets, so no test statistic leaks.

    Examples:
        >>> standardize([[3.0, 5.0]], *fit_standardize([[1.0, 5.0], [3.0, 5.0]]))
        array([[1., 0.]])
    """
    a, mu, sigma = _real(x, "x"), _array(mean, "mean"), _array(std, "std")
    for arg, s in (("mean", mu), ("std", sigma)):
        if s.dtype.kind not in "fiub":
            raise TypeError(f"{arg} must be an array of real numbers, got {s.dtype}")
        if s.shape != a.shape[1:]:
            raise ValueError(
                f"{arg} has shape {s.shape} but x has features of shape {a.shape[1:]}"
            )
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all() and (sigma > 0).all()):
        raise ValueError("mean must be finite and std finite and positive")
    with np.errstate(all="ignore"):  # an overflow is retried, then reported
        out: npt.NDArray[np.floating[Any]] = ((a - mu) / sigma).astype(
            a.dtype, copy=False
        )
        if not np.isfinite(out).all():  # a - mu overflowed? divide first
            out = (a / sigma - mu / sigma).astype(a.dtype, copy=False)
    if not np.isfinite(out).all():
        raise ValueError(
            f"(x - mean) / std overflows {out.dtype}: x is far outside the range "
            "that mean and std describe, or std is tiny"
        )
    return out


@overload
def one_hot(labels: npt.ArrayLike, k: int | None = None) -> F64: ...
@overload
def one_hot(
    labels: npt.ArrayLike, k: int | None = None, *, dtype: type[_X] | np.dtype[_X]
) -> npt.NDArray[_X]: ...
@overload
def one_hot(
    labels: npt.ArrayLike, k: int | None = None, *, dtype: npt.DTypeLike
) -> npt.NDArray[Any]: ...
def one_hot(
    labels: npt.ArrayLike, k: int | None = None, *, dtype: npt.DTypeLike = np.float64
) -> npt.NDArray[Any]:
    """Rows ``Y[i] = e_{labels[i]}``: ``(n,)`` labels in ``[0, k)`` to ``(n, k)``.

    ``k`` defaults to ``labels.max() + 1``.

    Examples:
        >>> one_hot([2, 0], 3)
        array([[0., 0., 1.],
               [1., 0., 0.]])
    """
    y = _array(labels, "labels")
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D of shape (n,), got shape {y.shape}")
    if y.size and y.min() < 0:
        raise ValueError(f"labels must be non-negative, got {y.min()}")
    if k is None:
        if y.size == 0:
            raise ValueError("k is needed when labels is empty")
        k = int(y.max()) + 1
    k = check_int(k, "k", lo=1)
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(
            f"labels must lie in [0, {k - 1}] for k={k}, got [{y.min()}, {y.max()}]"
        )
    try:
        dt = np.dtype(dtype)
    except Exception:  # np.dtype raises TypeError, ValueError, KeyError, ...
        raise TypeError(f"dtype must be a numeric dtype, got {dtype!r}") from None
    if dt.kind not in "fiu":
        raise TypeError(f"dtype must be a numeric dtype, got {dt}")
    try:
        Y = np.zeros((len(y), k), dtype=dt)
    except (MemoryError, ValueError):  # ValueError: "array is too big"
        raise ValueError(
            f"one_hot of {len(y)} labels into k={k} classes does not fit in "
            "memory; is k (or the largest label) right?"
        ) from None
    Y[np.arange(len(y)), y] = 1  # Y was just allocated here
    return Y


__all__ = [
    "IDX_TYPES",
    "MNIST",
    "MNIST_FILES",
    "circles",
    "fit_standardize",
    "load_mnist",
    "moons",
    "one_hot",
    "read_idx",
    "spirals",
    "split",
    "standardize",
    "xor",
]
