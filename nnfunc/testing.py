"""Hypothesis strategies and assertions for code that builds on nnfunc.

Install with ``pip install 'nnfunc[testing]'`` (it adds hypothesis); ``import
nnfunc`` alone never imports hypothesis, only this module does.

Strategies draw *valid, tame* values: every public function accepts them and
gives finite results. ``architectures()`` draws layer widths and activation
names; ``params()`` a network of that architecture as the library's own
``Frozen`` value, recording ``hidden`` and ``output``; ``inputs(p)`` and
``targets(p)`` a batch ``x`` and targets ``y`` for the output that ``p``
records (integer labels or probability rows for a softmax). The numbers come
from NumPy generators seeded by hypothesis, so every example replays; the
structure (depth, widths, batch, names, dtype) is drawn by hypothesis itself
and shrinks to the smallest failing case. Weights are Xavier-normal and
biases ``0.5 N(0, 1)`` (non-zero, so ``x = 0`` is no special point), and
``inputs`` keeps every pre-activation of a ReLU-family layer at least
``kink_margin`` away from the kink, where a central difference is no
derivative.

Two assertions check what a user's own function must keep:
``assert_grads_close`` (a gradient agrees with central differences, naming the
worst coordinate when it does not) and ``assert_pure`` (inputs unchanged,
read-only results, same bits twice).

Examples:
    >>> import nnfunc as nf
    >>> from hypothesis import given, settings, strategies as st
    >>> @settings(max_examples=10, deadline=None, database=None)
    ... @given(st.data())
    ... def test_loss_is_finite(data):
    ...     p = data.draw(params())
    ...     x = data.draw(inputs(p))
    ...     y = data.draw(targets(p, batch=len(x)))
    ...     assert np.isfinite(nf.loss(p, x, y))
    >>> test_loss_is_finite()
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

try:
    from hypothesis import reject
    from hypothesis import strategies as st
except ImportError as e:  # the optional extra is not installed
    raise ImportError(
        "nnfunc.testing needs hypothesis: pip install 'nnfunc[testing]'"
    ) from e

from nnfunc._checks import check_float_dtype, check_int
from nnfunc._types import (
    ActivationName,
    Array,
    FloatDType,
    Frozen,
    Hidden,
    OutputName,
    Params,
    param_keys,
)
from nnfunc.activations import ACTIVATION_NAMES, ACTIVATIONS
from nnfunc.gradcheck import check_grads
from nnfunc.params import freeze, init_params, layer_sizes

P = ParamSpec("P")
R = TypeVar("R")

#: The output activations, each paired with its loss.
OUTPUT_NAMES: tuple[OutputName, ...] = ("sigmoid", "softmax", "identity")
#: Hidden activations with a kink at 0 (no derivative there).
KINKED: frozenset[ActivationName] = frozenset({"relu", "leaky_relu"})
#: The dtypes drawn when none is given, the one shrunk to first.
DTYPES: tuple[np.dtype[Any], ...] = (np.dtype(np.float64), np.dtype(np.float32))
_SEEDS = st.integers(0, 2**32 - 1)


class Architecture(NamedTuple):
    """Layer widths ``(n_0, ..., n_L)`` and the activations that run them.

    ``hidden`` is one name for every hidden layer or a tuple of one name per
    hidden layer; ``output`` names the output activation and its loss.
    ``init_params(arch.sizes, hidden=arch.hidden, output=arch.output)``
    builds a network of it.
    """

    sizes: tuple[int, ...]
    hidden: Hidden
    output: OutputName


# ----------------------------------------------------------- strategies


def activations(*, smooth: bool = False) -> st.SearchStrategy[ActivationName]:
    """A hidden activation name; ``smooth=True`` leaves out ReLU and leaky ReLU.

    Examples:
        >>> sorted(KINKED)
        ['leaky_relu', 'relu']
    """
    names = [n for n in ACTIVATION_NAMES if not (smooth and n in KINKED)]
    return st.sampled_from(names)


def outputs() -> st.SearchStrategy[OutputName]:
    """An output activation name: ``"sigmoid"``, ``"softmax"`` or ``"identity"``.

    Examples:
        >>> OUTPUT_NAMES
        ('sigmoid', 'softmax', 'identity')
    """
    return st.sampled_from(OUTPUT_NAMES)


def architectures(
    *,
    min_depth: int = 1,
    max_depth: int = 3,
    min_width: int = 1,
    max_width: int = 6,
    hidden: st.SearchStrategy[ActivationName] | None = None,
    output: st.SearchStrategy[OutputName] | None = None,
    per_layer: bool = True,
) -> st.SearchStrategy[Architecture]:
    """Network architectures: ``depth`` layers of widths in ``[min_width, max_width]``.

    ``depth`` counts weight matrices (``L``, so ``depth - 1`` hidden layers).
    A softmax output gets at least 2 units (even when ``max_width < 2``).

    Args:
        min_depth: the fewest layers, ``>= 1``.
        max_depth: the most layers.
        min_width: the narrowest layer, ``>= 1``.
        max_width: the widest layer.
        hidden: names to draw the hidden activation from (``activations()``).
        output: names to draw the output from (``outputs()``).
        per_layer: with two or more hidden layers, sometimes draw one name
            per hidden layer (a tuple) instead of one name for all.

    Returns:
        A strategy of ``Architecture(sizes, hidden, output)``.

    Examples:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, database=None)
        ... @given(architectures(max_depth=2, max_width=3))
        ... def check(arch):
        ...     assert 2 <= len(arch.sizes) <= 3 and max(arch.sizes) <= 3
        >>> check()
    """
    lo_d = check_int(min_depth, "min_depth", lo=1)
    hi_d = check_int(max_depth, "max_depth", lo=lo_d)
    lo_w = check_int(min_width, "min_width", lo=1)
    hi_w = check_int(max_width, "max_width", lo=lo_w)
    if not isinstance(per_layer, bool):
        raise TypeError(f"per_layer must be True or False, got {per_layer!r}")
    names = activations() if hidden is None else hidden
    outs = outputs() if output is None else output
    return _architectures(lo_d, hi_d, lo_w, hi_w, names, outs, per_layer)


@st.composite
def _architectures(
    draw: st.DrawFn,
    min_depth: int,
    max_depth: int,
    min_width: int,
    max_width: int,
    hidden: st.SearchStrategy[ActivationName],
    output: st.SearchStrategy[OutputName],
    per_layer: bool,
) -> Architecture:
    out = draw(output)
    depth = draw(st.integers(min_depth, max_depth))
    widths = draw(
        st.lists(st.integers(min_width, max_width), min_size=depth, max_size=depth)
    )
    lo = max(min_width, 2) if out == "softmax" else min_width
    last = draw(st.integers(lo, max(lo, max_width)))
    n_hidden = depth - 1
    names: Hidden
    if per_layer and n_hidden >= 2 and draw(st.booleans()):
        names = tuple(draw(hidden) for _ in range(n_hidden))
    else:
        names = draw(hidden)
    return Architecture((*widths, last), names, out)


def params(
    architecture: Architecture | st.SearchStrategy[Architecture] | None = None,
    *,
    dtype: FloatDType | None = None,
) -> st.SearchStrategy[Frozen[Array]]:
    """Valid networks: ``Frozen`` params recording ``hidden`` and ``output``.

    Weights are Xavier-normal (so activations stay about unit size at any
    depth) and biases ``0.5 N(0, 1)``, drawn from a seed hypothesis picks.

    Args:
        architecture: an ``Architecture``, a strategy of them, or None to
            draw one from ``architectures()``.
        dtype: ``np.float64`` or ``np.float32``; None draws either
            (``float64`` first, so a failure shrinks to it).

    Returns:
        A strategy of ``Frozen`` params in ``dtype``.

    Examples:
        >>> import nnfunc as nf
        >>> from hypothesis import given, settings
        >>> arch = Architecture((3, 4, 2), "tanh", "softmax")
        >>> @settings(max_examples=5, database=None)
        ... @given(params(arch, dtype=np.float32))
        ... def check(p):
        ...     assert nf.layer_sizes(p) == (3, 4, 2) and p.hidden == "tanh"
        ...     assert p["W1"].dtype == np.float32
        >>> check()
    """
    if architecture is None:
        archs: st.SearchStrategy[Architecture] = architectures()
    elif isinstance(architecture, Architecture):
        # checked now, so a bad one fails where it is written
        init_params(
            architecture.sizes, hidden=architecture.hidden, output=architecture.output
        )
        archs = st.just(architecture)
    elif isinstance(architecture, st.SearchStrategy):
        archs = architecture
    else:
        raise TypeError(
            "architecture must be an Architecture, a strategy of them or None, "
            f"got {type(architecture).__name__}"
        )
    dtypes = (
        st.sampled_from(DTYPES) if dtype is None else st.just(check_float_dtype(dtype))
    )
    return st.builds(network, archs, dtypes, _SEEDS)


def network(arch: Architecture, dtype: FloatDType, seed: int) -> Frozen[Array]:
    """The network ``params()`` draws for ``(arch, dtype, seed)`` (no hypothesis).

    Examples:
        >>> p = network(Architecture((2, 3, 1), "tanh", "sigmoid"), np.float64, 0)
        >>> p.hidden, bool((p["b1"] != 0).all())
        ('tanh', True)
    """
    base = init_params(
        arch.sizes,
        hidden=arch.hidden,
        output=arch.output,
        seed=seed,
        init="xavier_normal",
    )
    rng = np.random.default_rng(seed)
    dt = check_float_dtype(dtype)
    arrays = {
        k: (v + 0.5 * rng.standard_normal(v.shape) if k[0] == "b" else v).astype(dt)
        for k, v in base.items()
    }
    return freeze(arrays, hidden=base.hidden, output=base.output)


def _batches(batch: int | st.SearchStrategy[int] | None) -> st.SearchStrategy[int]:
    if batch is None:
        return st.integers(1, 8)
    if isinstance(batch, st.SearchStrategy):
        return batch
    return st.just(check_int(batch, "batch", lo=1))


def _record(p: Params) -> tuple[tuple[ActivationName, ...], OutputName]:
    """One hidden name per hidden layer and the output, as the params run."""
    n_hidden = len(layer_sizes(p)) - 2
    h = p.hidden if isinstance(p, Frozen) else None
    o = p.output if isinstance(p, Frozen) else None
    h = "relu" if h is None else h
    names = (h,) * n_hidden if isinstance(h, str) else tuple(h)
    return names, "sigmoid" if o is None else o


def inputs(
    params: Params,
    batch: int | st.SearchStrategy[int] | None = None,
    *,
    kink_margin: float = 1e-3,
) -> st.SearchStrategy[Array]:
    """Batches ``x`` of shape ``(batch, n_0)`` in the params' dtype, ``N(0, 1)``.

    Rows are redrawn until every pre-activation of a ReLU-family hidden layer
    is at least ``kink_margin`` away from 0 (``kink_margin=0`` keeps any).

    Args:
        params: the network the batch is for.
        batch: the number of rows, a strategy of it, or None (1 to 8).
        kink_margin: the least ``|z|`` at a ReLU-family unit.

    Returns:
        A strategy of new, writable arrays.

    Examples:
        >>> import nnfunc as nf
        >>> from hypothesis import given, settings
        >>> p = network(Architecture((3, 4, 1), "relu", "sigmoid"), np.float64, 0)
        >>> @settings(max_examples=5, database=None)
        ... @given(inputs(p, batch=6))
        ... def check(x):
        ...     assert x.shape == (6, 3) and np.isfinite(nf.forward(p, x)).all()
        >>> check()
    """
    layer_sizes(params)  # a clear error now for a bad network
    margin = float(kink_margin)
    if not margin >= 0.0:
        raise ValueError(f"kink_margin must be >= 0, got {kink_margin!r}")
    return _inputs(params, _batches(batch), margin)


@st.composite
def _inputs(
    draw: st.DrawFn, p: Params, batch: st.SearchStrategy[int], margin: float
) -> Array:
    n = draw(batch)
    rng = np.random.default_rng(draw(_SEEDS))
    Ws = [np.asarray(p[f"W{l}"]) for l in range(1, len(p) // 2 + 1)]
    bs = [np.asarray(p[f"b{l}"]) for l in range(1, len(p) // 2 + 1)]
    names, _ = _record(p)
    x = rng.standard_normal((n, Ws[0].shape[0])).astype(Ws[0].dtype)
    bad = _kinked_rows(x, Ws, bs, names, margin)
    for _ in range(20):
        if not bad.any():
            break
        x[bad] = rng.standard_normal((int(bad.sum()), x.shape[1]))  # x is ours
        bad = _kinked_rows(x, Ws, bs, names, margin)
    if bad.any():
        reject()  # too wide to avoid the kinks: let hypothesis draw again
    return x


def _kinked_rows(
    x: Array,
    Ws: Sequence[Array],
    bs: Sequence[Array],
    names: Sequence[ActivationName],
    margin: float,
) -> npt.NDArray[np.bool_]:
    """Rows of ``x`` with a pre-activation within ``margin`` of a ReLU kink."""
    bad = np.zeros(len(x), dtype=bool)
    if margin == 0.0 or not KINKED.intersection(names):
        return bad
    a: Array = x.astype(np.float64)
    for W, b, name in zip(Ws, bs, names, strict=False):  # the hidden layers
        z = a @ W.astype(np.float64) + b
        if name in KINKED:
            bad |= (np.abs(z) < margin).any(axis=1)
        a = ACTIVATIONS[name].f(z)
    return bad


def targets(
    params: Params, batch: int | st.SearchStrategy[int] | None = None
) -> st.SearchStrategy[npt.NDArray[Any]]:
    """Targets ``y`` for the output the params record, as ``nnfunc.loss`` reads them.

    ``sigmoid``: values in ``[0, 1]``, sometimes exactly 0/1; ``softmax``:
    int64 class labels ``(batch,)``, one-hot rows or probability rows
    ``(batch, k)``; ``identity``: ``N(0, 1)`` values. For one output unit
    the shape is ``(batch, 1)`` or ``(batch,)``. Float targets are in the
    params' dtype. A mapping without a record runs as ``"sigmoid"``.

    Args:
        params: the network the targets are for.
        batch: the number of rows (pass ``len(x)`` to match a batch), a
            strategy of it, or None (1 to 8).

    Returns:
        A strategy of new arrays.

    Examples:
        >>> from hypothesis import given, settings
        >>> p = network(Architecture((2, 3), "relu", "softmax"), np.float64, 0)
        >>> @settings(max_examples=10, database=None)
        ... @given(targets(p, batch=4))
        ... def check(y):
        ...     assert y.shape in ((4,), (4, 3))
        >>> check()
    """
    sizes = layer_sizes(params)
    _, output = _record(params)
    dtype = np.asarray(params["W1"]).dtype
    return _targets(output, sizes[-1], dtype, _batches(batch))


@st.composite
def _targets(
    draw: st.DrawFn,
    output: OutputName,
    k: int,
    dtype: np.dtype[Any],
    batch: st.SearchStrategy[int],
) -> npt.NDArray[Any]:
    n = draw(batch)
    rng = np.random.default_rng(draw(_SEEDS))
    if output == "softmax":
        kind = draw(st.sampled_from(["labels", "one_hot", "probabilities"]))
        labels = rng.integers(0, k, size=n)
        if kind == "labels":
            return labels
        if kind == "one_hot":
            return np.eye(k, dtype=dtype)[labels]
        rows = rng.random((n, k)) + 0.1
        out: npt.NDArray[Any] = (rows / rows.sum(axis=1, keepdims=True)).astype(dtype)
        return out
    if output == "sigmoid":
        y = rng.random((n, k))
        if draw(st.booleans()):
            y = np.round(y)
    else:
        y = rng.standard_normal((n, k))
    y = y.astype(dtype)
    return y[:, 0] if k == 1 and draw(st.booleans()) else y


# ----------------------------------------------------------- assertions


def assert_grads_close(
    loss_fn: Callable[[Params], float],
    params: Params,
    grads: Mapping[str, Array],
    *,
    mode: Literal["direction", "coordinate"] = "direction",
    rtol: float | None = None,
    atol: float | None = None,
    h: float = 1e-6,
    seed: int = 0,
) -> None:
    """Assert that ``grads`` is the gradient of ``loss_fn`` at ``params``.

    Runs ``nnfunc.check_grads`` (central differences in float64). On a
    mismatch it checks every coordinate and raises an ``AssertionError``
    naming the worst one (the one furthest outside the tolerance): its key,
    index, the analytic and the numeric value.

    Args:
        loss_fn: ``params -> float``; called with float64 copies of
            ``params`` that keep its record.
        params: the point of the check.
        grads: the gradient to check (keys and shapes of ``params``).
        mode: ``"direction"`` (random directions, then coordinates only on
            failure) or ``"coordinate"`` (every coordinate).
        rtol: relative tolerance; None: ``1e-5``, or ``1e-3`` for float32 grads.
        atol: absolute tolerance; None: ``1e-8``, or ``1e-5`` for float32 grads.
        h: the finite-difference step.
        seed: the seed of the random directions.

    Raises:
        AssertionError: the gradient disagrees with the differences.

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.init_params([2, 3, 1], hidden="tanh", seed=1)
        >>> x, y = np.array([[0.5, -1.0]]), np.array([1.0])
        >>> f = lambda q: nf.loss(q, x, y)
        >>> assert_grads_close(f, p, nf.grads(p, x, y))
        >>> wrong = dict(nf.grads(p, x, y)) | {"b2": np.array([0.5])}
        >>> assert_grads_close(f, p, wrong)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        AssertionError: grads differ from central differences at b2[0] ...
    """
    arrays = list(grads.values()) if isinstance(grads, Mapping) else []
    low = any(np.asarray(v).dtype == np.float32 for v in arrays)
    rt = (1e-3 if low else 1e-5) if rtol is None else rtol
    at = (1e-5 if low else 1e-8) if atol is None else atol
    result = check_grads(
        loss_fn, params, grads, mode=mode, h=h, rtol=rt, atol=at, seed=seed
    )
    if result.ok:
        return
    every = result
    if mode != "coordinate":  # find the coordinate to name
        every = check_grads(
            loss_fn, params, grads, mode="coordinate", h=h, rtol=rt, atol=at
        )
    err = np.abs(every.numeric - every.analytic)
    i = int(np.argmax(err - (at + rt * np.abs(every.numeric))))
    raise AssertionError(
        f"grads differ from central differences at {_coordinate(params, i)} (the "
        f"worst coordinate): analytic {every.analytic[i]:.8g}, numeric "
        f"{every.numeric[i]:.8g}, error {err[i]:.3g} > atol + rtol * |numeric| "
        f"(rtol={rt:g}, atol={at:g}; the {mode} check's largest error was "
        f"{result.max_error:.3g})"
    )


def _coordinate(p: Params, i: int) -> str:
    """``"W2[3, 0]"``: the ``i``-th parameter in the order W1, b1, W2, ..."""
    for key in param_keys(len(layer_sizes(p)) - 1):
        shape = np.shape(p[key])
        size = math.prod(shape)
        if i < size:
            index = ", ".join(str(int(j)) for j in np.unravel_index(i, shape))
            return f"{key}[{index}]"
        i -= size
    raise IndexError(i)  # pragma: no cover


def assert_pure(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``fn(*args, **kwargs)`` twice and assert that it acts on values.

    Checks that every array among the arguments (inside mappings, tuples and
    lists too) keeps its bytes, dtype, shape and ``writeable`` flag, and that
    no container gains or loses items; that every array in the result is
    read-only and shares no memory with a writable argument; and that a
    second call gives the same bits. A function that returns a fresh
    writable array (as ``nnfunc.forward`` does) fails the second check by
    design: this is the contract of params, grads and states.

    Returns:
        The result of the first call.

    Raises:
        AssertionError: naming the argument, or the part of the result.

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.init_params([2, 1])
        >>> g = nf.freeze({"W1": np.ones((2, 1)), "b1": np.ones(1)})
        >>> new = assert_pure(nf.sgd_step, p, g, lr=0.1)
        >>> def bad_step(p, g):
        ...     p["W1"] -= g["W1"]
        ...     return nf.freeze(p)
        >>> assert_pure(bad_step, nf.to_dict(p), g)
        Traceback (most recent call last):
        ...
        AssertionError: fn changed its argument args[0]['W1'] (its bytes)
    """
    arguments = [(f"args[{i}]", a) for i, a in enumerate(args)]
    arguments += [(f"kwargs[{k!r}]", v) for k, v in kwargs.items()]
    before = _fingerprints(arguments)
    result = fn(*args, **kwargs)
    _same(before, _fingerprints(arguments), "fn changed its argument")
    writable = [a for _, a in _leaves(arguments) if _writable_array(a)]
    for name, leaf in _leaves([("result", result)]):
        if not isinstance(leaf, np.ndarray):
            continue
        if leaf.flags.writeable:
            raise AssertionError(
                f"{name} is a writable array; a pure function returns read-only "
                "values (nnfunc.freeze(...), or a.flags.writeable = False)"
            )
        if any(np.may_share_memory(leaf, w) for w in writable):
            raise AssertionError(f"{name} shares memory with a writable argument")
    again = fn(*args, **kwargs)
    _same(
        _fingerprints([("result", result)]),
        _fingerprints([("result", again)]),
        "a second call with the same arguments gave a different",
    )
    return result


def _writable_array(leaf: object) -> bool:
    return isinstance(leaf, np.ndarray) and bool(leaf.flags.writeable)


def _leaves(named: Sequence[tuple[str, object]]) -> list[tuple[str, object]]:
    """``(path, leaf)`` for every leaf inside the named values, in order.

    Mappings, lists and tuples are walked (each also gives a leaf for its
    keys or length, a ``Frozen`` value one for its record); anything else
    is a leaf. A container met twice is walked once.
    """
    out: list[tuple[str, object]] = []
    seen: set[int] = set()
    stack = list(reversed(named))
    while stack:
        path, value = stack.pop()
        if not isinstance(value, (Mapping, list, tuple)):
            out.append((path, value))
            continue
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, Mapping):
            out.append((path, ("items", type(value).__name__, [*map(repr, value)])))
            if isinstance(value, Frozen):
                out.append((f"{path}.record", (value.hidden, value.output)))
            items = [(f"{path}[{k!r}]", v) for k, v in value.items()]
        else:
            out.append((path, ("items", type(value).__name__, len(value))))
            items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        stack.extend(reversed(items))
    return out


def _fingerprints(named: Sequence[tuple[str, object]]) -> dict[str, object]:
    """Each leaf as a comparable value: arrays and floats by their bits."""
    return {path: _fingerprint(leaf) for path, leaf in _leaves(named)}


def _fingerprint(leaf: object) -> object:
    if isinstance(leaf, np.ndarray):
        data = leaf.tolist() if leaf.dtype.kind == "O" else leaf.tobytes()
        return ("array", leaf.dtype.str, leaf.shape, bool(leaf.flags.writeable), data)
    if isinstance(leaf, np.generic):
        return ("scalar", leaf.dtype.str, leaf.tobytes())
    if isinstance(leaf, float):
        return ("float", leaf.hex())
    if isinstance(leaf, np.random.Generator):  # a caller's stream must not advance
        return ("generator", repr(leaf.bit_generator.state))
    return leaf


_MISSING = object()
_ARRAY_PARTS = ("dtype", "shape", "writeable flag", "bytes")


def _same(a: dict[str, object], b: dict[str, object], what: str) -> None:
    """Raise an AssertionError naming the first path whose leaf differs."""
    for path in [*a, *(p for p in b if p not in a)]:
        x, y = a.get(path, _MISSING), b.get(path, _MISSING)
        if _equal(x, y):
            continue
        if x is _MISSING or y is _MISSING:
            part = "it is new" if x is _MISSING else "it is gone"
        elif isinstance(x, tuple) and isinstance(y, tuple) and x[0] == y[0] == "array":
            parts = zip(_ARRAY_PARTS, x[1:], y[1:], strict=True)
            part = "its " + next(n for n, u, v in parts if u != v)
        elif isinstance(x, tuple) and x[:1] == ("items",):
            part = "its items"
        else:
            part = f"{x!r:.60} != {y!r:.60}"
        raise AssertionError(f"{what} {path} ({part})")


def _equal(x: object, y: object) -> bool:
    if x is y:
        return True
    try:
        if bool(x == y):
            return True
    except Exception:  # an == that raises, or returns an array
        pass
    return type(x) is type(y) and repr(x) == repr(y)


__all__ = [
    "DTYPES",
    "KINKED",
    "OUTPUT_NAMES",
    "Architecture",
    "activations",
    "architectures",
    "assert_grads_close",
    "assert_pure",
    "inputs",
    "network",
    "outputs",
    "params",
    "targets",
]
