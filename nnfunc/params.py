r"""Creating and freezing parameters: ``init_params``, ``freeze``, ``to_dict``.

A network's parameters are an immutable mapping ``"W1", "b1", ..., "WL", "bL"``
of read-only arrays. ``W{l}`` has shape ``(n_{l-1}, n_l)`` (fan-in, fan-out)
and ``b{l}`` has shape ``(n_l,)``.

Initializers draw ``W`` so that the variance of the signal (forward) or of the
gradient (backward) stays about constant from layer to layer:

============== ================================ ===============================
name           distribution of ``W[i, j]``      variance targeted
============== ================================ ===============================
xavier_uniform ``U(-r, r)``, ``r = sqrt(6/(n_in+n_out))``  ``2 / (n_in + n_out)``
xavier_normal  ``N(0, 2/(n_in+n_out))``         ``2 / (n_in + n_out)``
he_uniform     ``U(-r, r)``, ``r = sqrt(6/n_in)``           ``2 / n_in``
he_normal      ``N(0, 2/n_in)``                 ``2 / n_in``
lecun_uniform  ``U(-r, r)``, ``r = sqrt(3/n_in)``           ``1 / n_in``
lecun_normal   ``N(0, 1/n_in)``                 ``1 / n_in``
small_normal   ``N(0, 0.01**2)``                ``1e-4`` (ignores the width)
============== ================================ ===============================

``"xavier"`` means ``"xavier_uniform"`` and ``"he"`` means ``"he_normal"``, as
in the papers. References: LeCun, Bottou, Orr & Mueller, *Efficient BackProp*
(1998); Glorot & Bengio, *Understanding the difficulty of training deep
feedforward neural networks* (AISTATS 2010); He, Zhang, Ren & Sun, *Delving
Deep into Rectifiers* (ICCV 2015).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, get_args

import numpy as np
import numpy.typing as npt

from nnfunc._checks import (
    all_finite,
    as_array,
    check_float_dtype,
    check_hidden,
    check_name,
    check_output,
    check_params,
    check_seed,
    merge_record,
)
from nnfunc._types import (
    Array,
    FloatDType,
    Frozen,
    Hidden,
    InitName,
    Net,
    OutputName,
    Params,
    Seed,
)

_PARAM_KEY = re.compile(r"[Wb][1-9][0-9]*\Z")

#: Draws one ``(n_in, n_out)`` weight matrix in float64 from a generator.
Initializer = Callable[[np.random.Generator, int, int], npt.NDArray[np.float64]]


def _uniform(limit: Callable[[int, int], float]) -> Initializer:
    def draw(
        rng: np.random.Generator, n_in: int, n_out: int
    ) -> npt.NDArray[np.float64]:
        r = limit(n_in, n_out)
        return rng.uniform(-r, r, size=(n_in, n_out))

    return draw


def _normal(std: Callable[[int, int], float]) -> Initializer:
    def draw(
        rng: np.random.Generator, n_in: int, n_out: int
    ) -> npt.NDArray[np.float64]:
        return rng.normal(0.0, std(n_in, n_out), size=(n_in, n_out))

    return draw


#: The registry of initializers. A uniform on ``[-r, r]`` has variance
#: ``r**2 / 3``, which is where the ``6`` and ``3`` under the roots come from.
INITIALIZERS: dict[InitName, Initializer] = {
    "xavier_uniform": _uniform(lambda i, o: math.sqrt(6.0 / (i + o))),
    "xavier_normal": _normal(lambda i, o: math.sqrt(2.0 / (i + o))),
    "he_uniform": _uniform(lambda i, o: math.sqrt(6.0 / i)),
    "he_normal": _normal(lambda i, o: math.sqrt(2.0 / i)),
    "lecun_uniform": _uniform(lambda i, o: math.sqrt(3.0 / i)),
    "lecun_normal": _normal(lambda i, o: math.sqrt(1.0 / i)),
    "small_normal": _normal(lambda i, o: 0.01),
}
INITIALIZERS["xavier"] = INITIALIZERS["xavier_uniform"]
INITIALIZERS["he"] = INITIALIZERS["he_normal"]


def freeze(
    arrays: Mapping[str, Any],
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
) -> Frozen[Array]:
    """Build the library's immutable value from a mapping of arrays (a copy).

    Nothing the caller holds is aliased or has its ``writeable`` flag
    changed. Every array must be real and finite. A mapping with the keys
    ``W1, b1, ..., WL, bL`` is checked as params (shapes that chain, one
    float dtype) and may record its architecture, ``hidden`` and
    ``output``; any other mapping (an optimizer state, say) is frozen as it
    is, with no record.

    Args:
        arrays: names to arrays (anything ``np.asarray`` reads).
        hidden: the hidden activation(s) to record (params only).
        output: the output activation to record (params only).

    Returns:
        A ``Frozen`` mapping of read-only copies.

    Examples:
        >>> p = freeze({"W1": np.ones((2, 1)), "b1": np.zeros(1)}, output="sigmoid")
        >>> p["W1"].flags.writeable, p.output, p.hidden
        (False, 'sigmoid', None)
        >>> p["W1"] = np.zeros((2, 1))
        Traceback (most recent call last):
        ...
        TypeError: 'Frozen' object does not support item assignment
    """
    if not isinstance(arrays, Mapping):
        raise TypeError(
            f"arrays must be a mapping of names to arrays, got {type(arrays).__name__}"
        )
    copies: dict[str, Any] = {}
    for k, v in arrays.items():
        if not isinstance(k, str):
            raise TypeError(f"arrays must have str keys, got {k!r}")
        copies[k] = _copy(v, f"arrays[{k!r}]")
    return freeze_new(copies, "arrays", hidden, output)


def freeze_new(
    arrays: dict[str, Any],
    name: str,
    hidden: object = None,
    output: object = None,
    structured: bool | None = None,
) -> Frozen[Array]:
    """Check new arrays the library just made and freeze them (no copy).

    ``structured`` says whether to check them as params (None: when every
    key looks like ``W<l>`` or ``b<l>``).
    """
    if structured is None:
        structured = bool(arrays) and all(_PARAM_KEY.match(k) for k in arrays)
    if not structured:
        if hidden is not None or output is not None:
            raise ValueError(
                f"only params (keys W1, b1, ...) record hidden and output; "
                f"{name} has keys {sorted(arrays)}"
            )
        for k, a in arrays.items():
            if a.dtype.kind not in "fiub":
                raise TypeError(f"{name}[{k!r}] must be real, got dtype {a.dtype}")
            if not all_finite(a):
                raise ValueError(f"{name}[{k!r}] has NaN or infinite values")
        return Frozen._wrap(arrays)
    net = check_params(arrays, name)
    h, o = merge_record(None, hidden, output, len(net.Ws) - 1, net.sizes[-1])
    return pack(net, [a for _, a in net.items()], h, o)


def pack(
    like: Net, arrays: Sequence[Array], hidden: Hidden | None, output: OutputName | None
) -> Frozen[Array]:
    """Copy params-shaped arrays (in the order W1, b1, ...) into one new buffer.

    The value's arrays are views of that buffer, so a step over the whole
    network can be one NumPy call on it (see ``nnfunc.optim``).
    """
    flat = np.concatenate([a.ravel() for a in arrays], dtype=like.dtype)
    return wrap_flat(like, flat, hidden, output)


def wrap_flat(
    like: Net, flat: Array, hidden: Hidden | None, output: OutputName | None
) -> Frozen[Array]:
    """Freeze a new buffer laid out as ``like`` (W1, b1, ...), as params.

    ``flat`` must be new (referenced by nothing else) and finite.
    """
    flat.flags.writeable = False  # so every view of it is read-only too
    keys, arrays = like.keys(), {}
    start = 0
    for l, (W, b) in enumerate(zip(like.Ws, like.bs, strict=True)):
        stop = start + W.size
        arrays[keys[2 * l]] = flat[start:stop].reshape(W.shape)
        start = stop + b.size
        arrays[keys[2 * l + 1]] = flat[stop:start]  # b is 1-D: its slice is it
    views = list(arrays.values())
    net = Net(tuple(views[0::2]), tuple(views[1::2]), like.dtype, like.sizes, flat)
    return Frozen._wrap(arrays, net, hidden, output)


def retag(
    params: Frozen[Array], hidden: Hidden | None, output: OutputName | None
) -> Frozen[Array]:
    """The same arrays (shared, read-only) under a new record (already checked)."""
    if params.hidden == hidden and params.output == output:
        return params
    return Frozen._wrap(dict(params._arrays), params._net, hidden, output)


def unpickle(
    arrays: dict[str, Any], hidden: Hidden | None, output: OutputName | None, net: bool
) -> Frozen[Array]:
    """Rebuild a pickled ``Frozen`` value, checking it as ``freeze`` does."""
    return freeze_new(
        {k: _copy(v, f"pickled[{k!r}]") for k, v in arrays.items()},
        "pickled",
        hidden,
        output,
        structured=net,
    )


def _copy(value: object, name: str) -> Array:
    """A new plain array holding ``value``, or a TypeError naming ``name``."""
    out: Array = np.array(as_array(value, name), copy=True)
    return out


def to_dict(params: Mapping[str, Any]) -> dict[str, Array]:
    """Return a plain ``dict`` of writable copies (for in-place experiments).

    Examples:
        >>> d = to_dict(init_params([2, 1]))
        >>> d["W1"].flags.writeable
        True
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping, got {type(params).__name__}")
    return {str(k): _copy(v, f"params[{k!r}]") for k, v in params.items()}


def init_params(
    sizes: Sequence[int],
    *,
    hidden: Hidden = "relu",
    output: OutputName = "sigmoid",
    seed: Seed = 0,
    init: InitName = "xavier",
    dtype: FloatDType = np.float64,
) -> Frozen[Array]:
    """Initialize a fully connected network with layer widths ``sizes``.

    ``W{l}`` of shape ``(sizes[l-1], sizes[l])`` is drawn by ``init`` (see the
    module table for the variance each scheme targets); every ``b{l}`` is 0.
    Randomness comes only from ``seed``: the same seed gives the same bits,
    and a ``float32`` network is the ``float64`` one rounded. The value
    records ``hidden`` and ``output``, which every function then uses.

    Args:
        sizes: layer widths, input first, at least two: ``[784, 128, 10]``.
        hidden: the hidden activation, or one name per hidden layer.
        output: ``"sigmoid"`` (binary cross-entropy), ``"softmax"``
            (categorical cross-entropy) or ``"identity"`` (squared error).
        seed: an ``int >= 0`` or a ``np.random.SeedSequence``.
        init: the initializer name (``"xavier"`` by default).
        dtype: ``np.float64`` (default) or ``np.float32``.

    Returns:
        A ``Frozen`` value ``W1, b1, ..., WL, bL`` with its record.

    Examples:
        >>> p = init_params([3, 4, 1], seed=0)
        >>> {k: v.shape for k, v in p.items()}
        {'W1': (3, 4), 'b1': (4,), 'W2': (4, 1), 'b2': (1,)}
        >>> p.hidden, p.output
        ('relu', 'sigmoid')
        >>> bool((init_params([3, 4, 1], seed=0)["W1"] == p["W1"]).all())
        True
    """
    widths = _check_sizes(sizes)
    names = check_hidden(hidden, len(widths) - 2)
    record: Hidden = hidden if isinstance(hidden, str) else names
    out_name = check_output(output, widths[-1])
    seed = check_seed(seed)
    draw = INITIALIZERS[check_name(init, "init", get_args(InitName))]
    dt = check_float_dtype(dtype)
    rng = np.random.default_rng(seed)
    arrays: list[Array] = []
    for n_in, n_out in itertools.pairwise(widths):
        arrays += [draw(rng, n_in, n_out), np.zeros(n_out)]
    shape = Net(tuple(arrays[0::2]), tuple(arrays[1::2]), dt, widths)
    return pack(shape, arrays, record, out_name)  # one cast, into one buffer


def layer_sizes(params: Params) -> tuple[int, ...]:
    """Layer widths ``(n_0, ..., n_L)`` of a valid params mapping.

    Examples:
        >>> layer_sizes(init_params([5, 3, 2]))
        (5, 3, 2)
    """
    return check_params(params).sizes


def _check_sizes(sizes: object) -> tuple[int, ...]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(
            f"sizes must be a sequence of layer widths such as [784, 128, 10], "
            f"got {type(sizes).__name__}"
        )
    if len(sizes) < 2:
        raise ValueError(
            f"sizes needs at least two widths (input and output), got {list(sizes)}"
        )
    widths = []
    for i, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"sizes[{i}] must be an int, got {type(n).__name__} {n!r}")
        if n < 1:
            raise ValueError(f"sizes[{i}] must be a positive int, got {n}")
        widths.append(int(n))
    return tuple(widths)
