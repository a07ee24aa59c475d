"""Params, grads and states as trees: map a function over them, count, summarize.

A params, grads or optimizer-state value is a flat tree: names to arrays.
``tree_map`` applies a function array by array over one or more values with
the same keys (as JAX's ``tree_map`` does over its pytrees) and returns the
library's own value; ``num_params`` counts a network's parameters and
``summary`` prints its layers as a table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from nnfunc._types import Array, Frozen, Params
from nnfunc.params import _copy, freeze_new, layer_sizes


def tree_map(
    fn: Callable[..., npt.ArrayLike],
    value: Mapping[str, npt.NDArray[Any]],
    /,
    *values: Mapping[str, npt.NDArray[Any]],
) -> Frozen[Array]:
    """Apply ``fn`` key by key: ``out[k] = fn(value[k], *(v[k] for v in values))``.

    Every value must have exactly the keys of the first. The result is built
    like ``nnfunc.freeze`` (a checked, read-only copy, in the first value's key
    order) and keeps the first value's record (``hidden``/``output``) when it
    is a ``Frozen`` value, so mapping over params gives params that run the
    same way. Works on params, grads and optimizer states alike.

    Args:
        fn: takes one array from each value, returns an array.
        value: the first params, grads or state (its keys and record win).
        *values: more of them, with the same keys.

    Returns:
        A ``Frozen`` value.

    Raises:
        ValueError: a value's keys differ from the first's (the message says
            which are missing and which unexpected), or ``fn``'s results do
            not make a valid value (see ``nnfunc.freeze``).
        TypeError: a value is not a mapping.
        TypeError, ValueError: ``fn`` raised one; the message names the
            key whose arrays it was given, and ``fn``'s error is chained.

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.init_params([2, 3, 1], hidden="tanh", seed=0)
        >>> g = nf.grads(p, np.ones((4, 2)), np.ones(4))
        >>> new = tree_map(lambda w, dw: w - 0.1 * dw, p, g)  # one SGD step
        >>> new == nf.sgd_step(p, g, lr=0.1), new.hidden
        (True, 'tanh')
        >>> tree_map(np.add, p, {"W1": p["W1"], "b1": p["b1"]})
        Traceback (most recent call last):
        ...
        ValueError: values[0] has other keys than value: missing ['W2', 'b2']
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function of arrays, got {type(fn).__name__}")
    trees = (value, *values)
    names = ["value", *(f"values[{i}]" for i in range(len(values)))]
    for name, tree in zip(names, trees, strict=True):
        if not isinstance(tree, Mapping):
            raise TypeError(
                f"{name} must be a mapping of names to arrays (params, grads "
                f"or a state), got {type(tree).__name__}"
            )
    keys = list(value)
    for k in keys:
        if not isinstance(k, str):
            raise TypeError(f"value must have str keys such as 'W1', got {k!r}")
    for name, tree in zip(names[1:], values, strict=True):
        if tree.keys() != value.keys():
            missing = sorted(map(str, value.keys() - tree.keys()))
            unexpected = sorted(map(str, tree.keys() - value.keys()))
            what = [f"missing {missing}"] if missing else []
            what += [f"unexpected {unexpected}"] if unexpected else []
            raise ValueError(f"{name} has other keys than value: {', '.join(what)}")
    # Copies of fn's results (which may be views of the inputs), checked as
    # a value shaped like ``value``: an error names ``value``.
    out = {k: _copy(_apply(fn, trees, k), f"fn(value[{k!r}])") for k in keys}
    if isinstance(value, Frozen):
        return freeze_new(out, "value", value.hidden, value.output)
    return freeze_new(out, "value")


def _apply(
    fn: Callable[..., npt.ArrayLike], trees: tuple[Mapping[str, Any], ...], k: str
) -> npt.ArrayLike:
    """``fn`` on the arrays at key ``k``; its TypeError or ValueError names ``k``."""
    try:
        return fn(*(tree[k] for tree in trees))
    except (TypeError, ValueError) as e:
        kind = TypeError if isinstance(e, TypeError) else ValueError
        raise kind(f"fn raised {type(e).__name__} on the arrays at {k!r}: {e}") from e


def num_params(params: Params) -> int:
    """The number of parameters: ``sum_l n_{l-1} n_l + n_l``.

    Examples:
        >>> import nnfunc as nf
        >>> num_params(nf.init_params([784, 128, 10]))  # 784*128+128 + 128*10+10
        101770
    """
    return sum(n_in * n_out + n_out for n_in, n_out in _layers(params))


def summary(params: Params) -> str:
    """A table of the network: per layer its shapes, parameters and activation.

    The last lines give the total number of parameters and the dtype. The
    activations are the recorded ones; a value without a record runs as
    ``relu``/``sigmoid``, which the table marks ``(default)``.

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.init_params([3, 4, 2], hidden="tanh", output="softmax")
        >>> print(summary(p))
        layer  W       b     params  activation
        1      (3, 4)  (4,)  16      tanh
        2      (4, 2)  (2,)  10      softmax
        total                26
        dtype: float64
        >>> print(summary(dict(p)))  # a plain mapping records nothing
        layer  W       b     params  activation
        1      (3, 4)  (4,)  16      relu (default)
        2      (4, 2)  (2,)  10      sigmoid (default)
        total                26
        dtype: float64
    """
    layers = _layers(params)
    hidden = params.hidden if isinstance(params, Frozen) else None
    output = params.output if isinstance(params, Frozen) else None
    n_hidden = len(layers) - 1
    names: list[str]
    if hidden is None:
        names = ["relu (default)"] * n_hidden
    elif isinstance(hidden, str):
        names = [hidden] * n_hidden
    else:
        names = list(hidden)
    names.append("sigmoid (default)" if output is None else output)
    rows = [["layer", "W", "b", "params", "activation"]]
    for l, ((n_in, n_out), name) in enumerate(zip(layers, names, strict=True), 1):
        count = n_in * n_out + n_out
        rows.append([str(l), str((n_in, n_out)), str((n_out,)), str(count), name])
    rows.append(["total", "", "", str(num_params(params)), ""])
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(f"{s:<{w}}" for s, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    ]
    lines.append(f"dtype: {np.asarray(params['W1']).dtype}")
    return "\n".join(lines)


def _layers(params: Params) -> list[tuple[int, int]]:
    """``(n_in, n_out)`` per layer, after checking ``params``."""
    return list(itertools.pairwise(layer_sizes(params)))


__all__ = ["num_params", "summary", "tree_map"]
