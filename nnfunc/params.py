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
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, get_args

import numpy as np
import numpy.typing as npt

from nnfunc._checks import check_float_dtype, check_name, check_params, check_seed
from nnfunc._trust import remember
from nnfunc._types import Array, FloatDType, InitName, Params, Seed

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


def freeze(arrays: Mapping[str, Any]) -> Params:
    """Return a read-only mapping of read-only copies of ``arrays``.

    The copies are the library's own, so nothing the caller holds is aliased
    or has its ``writeable`` flag changed.

    Examples:
        >>> p = freeze({"W1": np.ones((2, 1)), "b1": np.zeros(1)})
        >>> p["W1"].flags.writeable
        False
        >>> p["W1"] = np.zeros((2, 1))
        Traceback (most recent call last):
        ...
        TypeError: 'mappingproxy' object does not support item assignment
    """
    if not isinstance(arrays, Mapping):
        raise TypeError(
            f"arrays must be a mapping of names to arrays, got {type(arrays).__name__}"
        )
    return freeze_owned({k: _copy(v, f"arrays[{k!r}]") for k, v in arrays.items()})


def _copy(value: object, name: str) -> Array:
    """A new array holding ``value``, or a TypeError naming ``name``."""
    try:
        out: Array = np.array(value, copy=True)
    except (ValueError, TypeError) as e:  # ragged lists and the like
        raise TypeError(f"{name} must be an array: {e}") from None
    return out


def freeze_owned(arrays: dict[str, Array], *, valid: bool = False) -> Params:
    """Freeze arrays the library itself just allocated (no copy).

    Only for arrays that nothing else references: the dict is wrapped, never
    exposed, and each array's ``writeable`` flag is turned off. ``valid=True``
    says the arrays are known to form valid, finite params in layer order
    (``W1, b1, W2, ...``), so later calls can skip checking them again.
    """
    for a in arrays.values():
        a.flags.writeable = False
    if valid:
        remember(arrays)
    return MappingProxyType(arrays)


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
    seed: Seed = 0,
    init: InitName = "xavier",
    dtype: FloatDType = np.float64,
) -> Params:
    """Initialize a fully connected network with layer widths ``sizes``.

    ``W{l}`` of shape ``(sizes[l-1], sizes[l])`` is drawn by ``init`` (see the
    module table for the variance each scheme targets); every ``b{l}`` is 0.
    Randomness comes only from ``seed``: the same seed gives the same bits,
    and a ``float32`` network is the ``float64`` one rounded.

    Args:
        sizes: layer widths, input first, at least two: ``[784, 128, 10]``.
        seed: an ``int >= 0`` or a ``np.random.SeedSequence``.
        init: the initializer name (``"xavier"`` by default).
        dtype: ``np.float64`` (default) or ``np.float32``.

    Returns:
        A read-only mapping of read-only arrays ``W1, b1, ..., WL, bL``.

    Examples:
        >>> p = init_params([3, 4, 1], seed=0)
        >>> {k: v.shape for k, v in p.items()}
        {'W1': (3, 4), 'b1': (4,), 'W2': (4, 1), 'b2': (1,)}
        >>> bool((init_params([3, 4, 1], seed=0)["W1"] == p["W1"]).all())
        True
    """
    widths = _check_sizes(sizes)
    seed = check_seed(seed)
    draw = INITIALIZERS[check_name(init, "init", get_args(InitName))]
    dt = check_float_dtype(dtype)
    rng = np.random.default_rng(seed)
    out: dict[str, Array] = {}
    for l, (n_in, n_out) in enumerate(itertools.pairwise(widths), 1):
        out[f"W{l}"] = draw(rng, n_in, n_out).astype(dt, copy=False)
        out[f"b{l}"] = np.zeros(n_out, dtype=dt)
    return freeze_owned(out, valid=True)


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
