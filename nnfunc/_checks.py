"""Validation at the public boundary: every user error is caught here.

Each check raises ``TypeError`` (wrong kind of thing) or ``ValueError``
(right kind, wrong value) with a message that names the argument, what was
expected and what was given. Nothing here writes to its inputs: arrays are
converted with ``np.asarray`` (a copy only when the dtype must change) and
only ever read.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping, Sequence
from typing import Any, cast, get_args

import numpy as np

from nnfunc._types import (
    ActivationName,
    Array,
    Frozen,
    Hidden,
    Net,
    OutputName,
)

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ACTIVATIONS: tuple[str, ...] = get_args(ActivationName)


class NonFiniteError(ValueError):
    """A result would hold NaN or infinite values; the message says why."""


def as_array(value: object, name: str) -> np.ndarray[Any, Any]:
    """``value`` as a plain ndarray (never copied when it already is one).

    The rule for ndarray subclasses: masked arrays and ``np.matrix`` are
    refused (``np.asarray`` would silently drop a mask, and a matrix changes
    what ``*`` and indexing mean); any other subclass (``np.memmap``, ...) is
    read as the plain array it holds. Ragged sequences are a TypeError.
    """
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array; nnfunc does not read masks. Drop the "
            f"masked rows, or fill them ({name}.filled(value)), first"
        )
    if isinstance(value, np.matrix):
        raise TypeError(f"{name} is an np.matrix; pass np.asarray({name}) instead")
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as e:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of real numbers: {e}") from None


def check_params(params: object, name: str = "params") -> Net:
    """Check keys ``W1, b1, ..., WL, bL``, shapes that chain, one float dtype.

    Returns the weights and biases in layer order (the caller's arrays,
    never copied, never written) and their common dtype. A ``Frozen`` value
    was checked when it was built: its structure is read, not checked again.
    """
    if isinstance(params, Frozen) and params._net is not None:
        return params._net
    if not isinstance(params, Mapping):
        raise TypeError(
            f"{name} must be a mapping of 'W1', 'b1', ... to arrays "
            f"(as returned by init_params), got {type(params).__name__}"
        )
    n_layers = sum(1 for k in params if isinstance(k, str) and k.startswith("W"))
    expected = [f"{p}{l}" for l in range(1, n_layers + 1) for p in "Wb"]
    if n_layers == 0 or sorted(map(str, params.keys())) != sorted(expected):
        got = sorted(map(repr, params.keys()))
        raise ValueError(
            f"{name} must have keys {expected or ['W1', 'b1']} exactly, "
            f"got [{', '.join(got)}]"
        )
    Ws: list[Array] = []
    bs: list[Array] = []
    dtype: np.dtype[Any] | None = None
    for l in range(1, n_layers + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        for key, arr, ndim in ((f"W{l}", W, 2), (f"b{l}", b, 1)):
            if not isinstance(arr, np.ndarray):
                raise TypeError(
                    f"{name}[{key!r}] must be a NumPy array, got {type(arr).__name__}"
                )
            as_array(arr, f"{name}[{key!r}]")  # refuses masked arrays, matrices
            if arr.dtype not in _FLOAT_DTYPES:
                raise TypeError(
                    f"{name}[{key!r}] must be float32 or float64, got {arr.dtype}"
                )
            if dtype is None:
                dtype = arr.dtype
            elif arr.dtype != dtype:
                raise TypeError(
                    f"{name} must all share one dtype: W1 is {dtype} "
                    f"but {key} is {arr.dtype}"
                )
            if arr.ndim != ndim:
                raise ValueError(
                    f"{name}[{key!r}] must be {ndim}-D, got shape {arr.shape}"
                )
            if 0 in arr.shape:
                raise ValueError(f"{name}[{key!r}] must not be empty, got {arr.shape}")
        if b.shape[0] != W.shape[1]:
            raise ValueError(
                f"{name}['b{l}'] has shape {b.shape} but W{l} has {W.shape[1]} "
                f"columns; expected ({W.shape[1]},)"
            )
        if Ws and W.shape[0] != Ws[-1].shape[1]:
            raise ValueError(
                f"{name}['W{l}'] has shape {W.shape} but W{l - 1} outputs "
                f"{Ws[-1].shape[1]} units; expected ({Ws[-1].shape[1]}, n_{l})"
            )
        Ws.append(W)
        bs.append(b)
    assert dtype is not None  # n_layers >= 1 was checked above
    sizes = (Ws[0].shape[0], *(W.shape[1] for W in Ws))
    net = Net(tuple(Ws), tuple(bs), dtype, sizes)
    for key, arr in net.items():
        if not all_finite(arr):
            raise ValueError(f"{name}[{key!r}] has NaN or infinite values")
    return net


def check_same_structure(net: Net, other: object, name: str) -> Net:
    """Check that ``other`` has exactly the keys and shapes of ``net``.

    Returns ``other`` as a Net whose arrays are cast to ``net.dtype``. A
    ``Frozen`` value of the same sizes and dtype is read, not checked again.
    """
    if isinstance(other, Frozen) and other._net is not None:
        o = other._net
        if o.sizes == net.sizes and o.dtype == net.dtype:
            return o
    if not isinstance(other, Mapping):
        raise TypeError(
            f"{name} must be a mapping with the keys of params, "
            f"got {type(other).__name__}"
        )
    refs = net.items()
    keys = [k for k, _ in refs]
    if len(other) != len(keys) or not all(k in other for k in keys):
        got = sorted(map(repr, other.keys()))
        raise ValueError(
            f"{name} must have keys {keys} exactly, got [{', '.join(got)}]"
        )
    arrays: list[Array] = []
    for key, ref in refs:
        value = other[key]
        if not isinstance(value, np.ndarray):
            raise TypeError(
                f"{name}[{key!r}] must be a NumPy array, got {type(value).__name__}"
            )
        value = as_array(value, f"{name}[{key!r}]")
        if value.dtype.kind not in "fiub":
            raise TypeError(f"{name}[{key!r}] must be a real array, got {value.dtype}")
        if value.shape != ref.shape:
            raise ValueError(
                f"{name}[{key!r}] has shape {value.shape} but params[{key!r}] "
                f"has {ref.shape}"
            )
        with np.errstate(over="ignore"):  # too large for the dtype: said below
            arr = value.astype(net.dtype, copy=False)
        if not all_finite(arr):
            bad = arr is value or not np.isfinite(value).all()
            what = (
                "NaN or infinite values" if bad else f"values too large for {arr.dtype}"
            )
            raise ValueError(f"{name}[{key!r}] has {what}")
        arrays.append(arr)
    return Net(tuple(arrays[0::2]), tuple(arrays[1::2]), net.dtype, net.sizes)


def check_x(x: object, net: Net, name: str = "x") -> Array:
    """Return ``x`` as a 2-D finite array of ``net.dtype`` with ``n_0`` columns.

    ``x`` itself when it already is one (never written), else a new array:
    a cast, or a copy when ``x`` is not aligned for its dtype (a buffer
    received from another process may start at an odd address, where
    NumPy and BLAS run several times slower).
    """
    arr = as_real_array(x, name)
    n_in = net.Ws[0].shape[0]
    if arr.ndim != 2:
        hint = f"; for one sample use {name}.reshape(1, -1)" if arr.ndim == 1 else ""
        raise ValueError(
            f"{name} must be 2-D of shape (batch, {n_in}), got shape {arr.shape}{hint}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got shape {arr.shape}")
    if arr.shape[1] != n_in:
        raise ValueError(f"{name} has {arr.shape[1]} features but W1 expects {n_in}")
    return _cast_finite(arr, net.dtype, name)


def check_y(
    y: object,
    output: OutputName,
    batch: int,
    k: int,
    dtype: np.dtype[Any],
    name: str = "y",
) -> Array:
    """Return the targets as a dense ``(batch, k)`` array of ``dtype``.

    Integer class labels for ``softmax`` become one-hot rows; ``(batch,)``
    targets for a single output unit become one column.
    """
    arr = as_real_array(y, name)
    if arr.ndim == 0 or arr.ndim > 2:
        raise ValueError(
            f"{name} must be of shape (batch,) or (batch, {k}), got shape {arr.shape}"
        )
    if arr.shape[0] != batch:
        raise ValueError(f"{name} has {arr.shape[0]} rows but x has {batch}")
    if output == "softmax" and arr.ndim == 1:
        return one_hot_labels(arr, k, dtype, name)
    if arr.ndim == 1:
        if k != 1:
            raise ValueError(
                f"{name} has shape {arr.shape} but the network has {k} outputs; "
                f"expected shape ({batch}, {k})"
                + (
                    " or integer class labels with output='softmax'"
                    if output != "softmax"
                    else ""
                )
            )
        arr = arr.reshape(batch, 1)
    if arr.shape[1] != k:
        raise ValueError(
            f"{name} has {arr.shape[1]} columns but the network has {k} outputs"
        )
    if output == "identity":
        return _cast_finite(arr, dtype, name)
    Y: Array = arr
    if arr.dtype != dtype:
        with np.errstate(over="ignore"):  # a value too large is out of range below
            Y = arr.astype(dtype)
    lo, hi = float(Y.min()), float(Y.max())
    if not (lo >= 0.0 and hi <= 1.0):  # also false for NaN: min/max propagate it
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} has NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        what = (
            "must lie in [0, 1] for output='sigmoid' (binary cross-entropy)"
            if output == "sigmoid"
            else "rows must be probabilities in [0, 1] for output='softmax'"
        )
        raise ValueError(f"{name} {what}, got values in [{lo}, {hi}]")
    if output == "softmax":
        row_sums = Y.sum(axis=1, dtype=np.float64)
        tol = math.sqrt(float(np.finfo(dtype).eps)) * k
        worst = float(np.abs(row_sums - 1.0).max())
        if worst > tol:
            raise ValueError(
                f"{name} rows must sum to 1 for output='softmax' (one-hot or "
                f"probabilities), got a row off by {worst:.3g}"
            )
    return Y


def one_hot_labels(
    labels: Array, k: int, dtype: np.dtype[Any], name: str = "y"
) -> Array:
    """Check integer class labels in ``[0, k)`` and return one-hot rows."""
    if labels.dtype.kind == "f":
        if not np.isfinite(labels).all():
            raise ValueError(f"{name} has NaN or infinite values")
        fractional = labels[labels != np.round(labels)]
        if fractional.size:
            raise ValueError(
                f"{name} must hold integer class labels for output='softmax', "
                f"got fractional values such as {float(fractional[0])}"
            )
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(
            f"{name} class labels must lie in [0, {k - 1}] for {k} outputs, "
            f"got values in [{labels.min()}, {labels.max()}]"
        )
    idx = labels.astype(np.intp, copy=False)
    Y = np.zeros((labels.shape[0], k), dtype=dtype)
    Y[np.arange(labels.shape[0]), idx] = 1.0  # Y was just allocated here
    return Y


def check_record(
    params: object, hidden: object, output: object, n_hidden: int, k: int
) -> tuple[Hidden, tuple[ActivationName, ...], OutputName]:
    """The architecture to run: the arguments, else the params' record.

    ``hidden``/``output`` None means the record of a ``Frozen`` value, and
    for a plain mapping (or a value without a record) ``"relu"`` and
    ``"sigmoid"``. An argument that contradicts the record is a ValueError.
    Returns the hidden names as recorded, one name per hidden layer, and
    the output name.
    """
    h, o = merge_record(params, hidden, output, n_hidden, k)
    h = "relu" if h is None else h
    return h, check_hidden(h, n_hidden), "sigmoid" if o is None else o


def merge_record(
    params: object, hidden: object, output: object, n_hidden: int, k: int
) -> tuple[Hidden | None, OutputName | None]:
    """The arguments checked against the params' record, else the record.

    Either part is None when neither the argument nor the record gives it.
    A hidden sequence comes back as a tuple, one name per hidden layer.
    """
    rec_h = params.hidden if isinstance(params, Frozen) else None
    rec_o = params.output if isinstance(params, Frozen) else None
    if _is(hidden, rec_h) and _is(output, rec_o):
        return rec_h, rec_o  # the record itself, checked when it was made
    h: Hidden | None = rec_h
    if hidden is not None:
        names = check_hidden(hidden, n_hidden)
        if rec_h is not None and check_hidden(rec_h, n_hidden) != names:
            raise ValueError(
                f"hidden={hidden!r} contradicts the params, which record "
                f"hidden={rec_h!r}; leave hidden out to use the record"
            )
        if rec_h is None:  # an agreeing argument keeps the record as it is
            h = cast(ActivationName, hidden) if isinstance(hidden, str) else names
    o: OutputName | None = rec_o
    if output is not None:
        o = check_output(output, k)
        if rec_o is not None and rec_o != o:
            raise ValueError(
                f"output={output!r} contradicts the params, which record "
                f"output={rec_o!r}; leave output out to use the record"
            )
    if o is not None:
        check_output(o, k)
    return h, o


def _is(arg: object, record: object) -> bool:
    """Whether an argument is None or the record itself (names compared).

    Only strings and tuples of strings are compared: ``==`` on anything
    else (an array, say) need not give a bool.
    """
    if arg is None:
        return True
    if isinstance(arg, tuple) and all(isinstance(n, str) for n in arg):
        return arg == record
    return isinstance(arg, str) and arg == record


def check_hidden(hidden: object, n_hidden: int) -> tuple[ActivationName, ...]:
    """One valid activation name per hidden layer."""
    if isinstance(hidden, str):
        return (check_name(hidden, "hidden", _ACTIVATIONS),) * n_hidden
    if not isinstance(hidden, Sequence):
        raise TypeError(
            f"hidden must be an activation name or a sequence of them, "
            f"got {type(hidden).__name__}"
        )
    if len(hidden) != n_hidden:
        raise ValueError(
            f"hidden has {len(hidden)} names but the network has {n_hidden} "
            f"hidden layers; pass one name, or one per hidden layer"
        )
    return tuple(check_name(h, "hidden", _ACTIVATIONS) for h in hidden)


def check_output(output: object, k: int | None = None) -> OutputName:
    """A valid output name (and, for softmax, at least two output units)."""
    name: OutputName = check_name(output, "output", get_args(OutputName))
    if name == "softmax" and k is not None and k < 2:
        raise ValueError(
            f"output='softmax' needs at least 2 output units, the network has {k}; "
            f"use output='sigmoid' for one unit"
        )
    return name


def check_name(value: object, arg: str, valid: tuple[Any, ...]) -> Any:
    """``value`` if it is one of ``valid``, else an error that lists them."""
    if not isinstance(value, str):
        raise TypeError(f"{arg} must be a string, one of {list(valid)}, got {value!r}")
    if value not in valid:
        raise ValueError(f"unknown {arg} {value!r}; valid names are {list(valid)}")
    return value


def check_float(
    value: object,
    arg: str,
    *,
    lo: float = 0.0,
    hi: float = math.inf,
    hi_open: bool = False,
) -> float:
    """A finite real number in ``[lo, hi]`` (or ``[lo, hi)``), returned as float."""
    if type(value) is float:  # the common case, without the ABC check below
        v = value
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{arg} must be a real number, got {type(value).__name__}")
    else:
        try:
            v = float(value)
        except OverflowError:  # an int beyond the float range
            v = math.inf
    bad = not math.isfinite(v) or v < lo or v > hi or (hi_open and v >= hi)
    if bad:
        interval = f"[{lo}, {hi}{')' if hi_open else ']'}"
        raise ValueError(f"{arg} must be finite and in {interval}, got {value!r:.60}")
    return v


def check_float_dtype(dtype: object) -> np.dtype[Any]:
    """``np.float32`` or ``np.float64`` as a dtype, else a TypeError naming dtype."""
    try:
        dt: np.dtype[Any] = np.dtype(dtype)  # type: ignore[call-overload]
    except Exception:  # np.dtype raises TypeError, ValueError, KeyError, ...
        raise TypeError(
            f"dtype must be np.float32 or np.float64, got {dtype!r}"
        ) from None
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be np.float32 or np.float64, got {dt}")
    return dt


def check_flag(value: object, name: str) -> bool:
    """``value`` if it is a bool, else a TypeError naming ``name``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_beta(value: object, name: str) -> float:
    """A decay rate in ``[0, 1)``."""
    return check_float(value, name, lo=0.0, hi=1.0, hi_open=True)


def check_positive(value: object, name: str) -> float:
    """A finite real number ``> 0``."""
    v = check_float(value, name)
    if v == 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def check_int(value: object, arg: str, *, lo: int = 0) -> int:
    """An ``int`` (not ``bool``) that is at least ``lo``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{arg} must be an int, got {type(value).__name__}")
    v = operator.index(value)
    if v < lo:
        raise ValueError(f"{arg} must be >= {lo}, got {v}")
    return v


def check_seed(seed: object, arg: str = "seed") -> int | np.random.SeedSequence:
    """A non-negative ``int`` or a ``np.random.SeedSequence``."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{arg} must be a non-negative int or a np.random.SeedSequence, "
            f"got {type(seed).__name__}"
        )
    return check_int(seed, arg)


def as_real_array(x: object, name: str) -> Array:
    """``x`` as a plain ndarray of real numbers (see ``as_array``)."""
    arr = as_array(x, name)
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"{name} must be an array of real numbers, got dtype {arr.dtype}"
        )
    return arr


def sum_of_squares(a: np.ndarray[Any, Any]) -> float:
    """``sum(a * a)`` in a fixed order, the same for any BLAS thread count.

    ``np.vdot`` hands long products to BLAS, which splits them across its
    threads, so its last bits depend on how many there are. ``einsum``'s
    own loop (no BLAS without ``optimize``) always adds in one order, so
    every number that feeds the params or the reports is reproducible.
    """
    return float(np.einsum("i,i->", a.ravel(), a.ravel()))


def all_finite(a: np.ndarray[Any, Any]) -> bool:
    """Whether a real array is free of NaN and infinities, in one fast pass.

    A sum is finite only if every term is (NaN and inf propagate through
    it), so a finite ``a . a`` (one BLAS dot, the fastest pass NumPy makes
    over memory) proves every entry finite; only when that sum itself
    overflows, or ``a`` is not contiguous, are the extremes looked at
    (NaN propagates through ``min`` and ``max`` too). Neither way allocates
    a temporary the size of ``a``, as ``np.isfinite(a).all()`` would (47 MB
    for a data set of 60,000 x 784).
    """
    if a.dtype.kind != "f" or a.size == 0:
        return True
    # np.vdot goes straight to BLAS and raises no floating-point warnings
    # (an overflow is just inf here; the fuzz tests would catch a warning).
    if a.flags.c_contiguous and math.isfinite(float(np.vdot(a, a))):
        return True
    lo, hi = np.minimum.reduce(a, axis=None), np.maximum.reduce(a, axis=None)
    return bool(np.isfinite(lo) and np.isfinite(hi))


def _cast_finite(arr: Array, dtype: np.dtype[Any], name: str) -> Array:
    if not all_finite(arr):
        raise ValueError(f"{name} has NaN or infinite values")
    if arr.dtype == dtype:
        return arr if arr.flags.aligned else arr.copy()
    with np.errstate(over="ignore"):  # overflow is reported below, in words
        out: Array = arr.astype(dtype)
    if not all_finite(out):
        raise ValueError(
            f"{name} has values too large for {dtype} (largest magnitude "
            f"{float(np.abs(arr).max()):.3g}); scale the inputs"
        )
    return out
