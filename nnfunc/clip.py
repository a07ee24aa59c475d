r"""Gradient clipping by global norm, and the norm itself.

Clipping bounds the size of a step without changing its direction, which
keeps one exploding batch from throwing the parameters far away.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from nnfunc._checks import as_array, check_positive, sum_of_squares
from nnfunc._types import Array, Frozen, Grads
from nnfunc.forward import record_of
from nnfunc.params import freeze, freeze_new


def global_norm(grads: Grads) -> float:
    r"""The L2 norm of all arrays together, :math:`\sqrt{\sum_k \|g_k\|^2}`.

    Computed without overflow even when squares would exceed the dtype.

    Examples:
        >>> global_norm({"W1": np.array([[3.0]]), "b1": np.array([4.0])})
        5.0
    """
    norm = math.hypot(*(array_norm(g) for g in _check_grads(grads).values()))
    if not math.isfinite(norm):
        raise ValueError(
            "the global norm of grads is larger than the largest float; "
            "scale the gradients down (clip_by_global_norm still works)"
        )
    return norm


def clip_by_global_norm(grads: Grads, max_norm: float) -> Frozen[Array]:
    r"""Scale all gradients together so that their global norm is at most ``max_norm``.

    .. math:: g_k \leftarrow g_k \cdot \min(1,\ c / \|g\|), \qquad
        \|g\| = \textstyle\sqrt{\sum_k \|g_k\|^2}

    One factor for every array keeps the direction of the whole gradient
    (clipping each array alone would not). Below the threshold the result
    is an equal, read-only copy. Each array keeps its dtype.

    References:
        Pascanu, Mikolov & Bengio, *On the difficulty of training recurrent
        neural networks* (ICML 2013), Algorithm 1.

    Examples:
        >>> g = {"W1": np.array([[3.0]]), "b1": np.array([4.0])}
        >>> dict(clip_by_global_norm(g, 1.0))
        {'W1': array([[0.6]]), 'b1': array([0.8])}
        >>> dict(clip_by_global_norm(g, 10.0))
        {'W1': array([[3.]]), 'b1': array([4.])}
    """
    c = check_positive(max_norm, "max_norm")
    gs = _check_grads(grads)
    scale = clip_factor(list(gs.values()), c)
    record = record_of(grads)
    if scale is None:
        return freeze(gs, hidden=record[0], output=record[1])
    scaled = {k: _scaled(g, scale) for k, g in gs.items()}  # new arrays
    return freeze_new(scaled, "grads", *record)


def clip_factor(arrays: list[Array], c: float) -> float | None:
    """``min(1, c / ||g||)`` for the global norm of ``arrays``; None if 1.

    Exact even when the norm itself overflows the largest float.
    """
    norm = math.hypot(*map(array_norm, arrays))
    if norm <= c:
        return None
    if math.isfinite(norm):
        return c / norm
    # ||g|| = top * ||g / top||, with ||g / top|| finite
    top = max(float(np.abs(g).max(initial=0.0)) for g in arrays)
    rel = (array_norm(np.divide(g, top, dtype=np.float64)) for g in arrays)
    return (c / top) / math.hypot(*rel)


def _check_grads(grads: object) -> Mapping[str, Array]:
    if not isinstance(grads, Mapping):
        raise TypeError(
            f"grads must be a mapping of names to arrays, got {type(grads).__name__}"
        )
    for k, g in grads.items():
        if not isinstance(k, str):
            raise TypeError(f"grads must have str keys such as 'W1', got {k!r}")
        if isinstance(g, np.ndarray):
            as_array(g, f"grads[{k!r}]")  # refuses masked arrays and matrices
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            got = g.dtype if isinstance(g, np.ndarray) else type(g).__name__
            raise TypeError(f"grads[{k!r}] must be a float array, got {got}")
        if not np.isfinite(g).all():
            raise ValueError(f"grads[{k!r}] has NaN or infinite values")
    return grads


def array_norm(g: Array) -> float:
    """``||g||``, exact to rounding for every finite ``g``.

    The plain sum of squares is used unless it would overflow, or lose small
    squares to underflow, or ``g`` is float16 (whose sums round coarsely);
    then ``||g / max |g| ||`` is taken in float64 and scaled back.
    """
    with np.errstate(over="ignore", under="ignore"):
        sq = sum_of_squares(g)
    info = np.finfo(g.dtype)
    floor = g.size * float(info.tiny) / float(info.eps)  # below: underflow shows
    if g.dtype.itemsize >= 4 and math.isfinite(sq) and sq >= floor:
        return math.sqrt(sq)
    top = float(np.abs(g).max(initial=0.0))
    if top == 0.0:
        return 0.0
    r = np.divide(g, top, dtype=np.float64)
    return top * math.sqrt(sum_of_squares(r))


def _scaled(g: Array, scale: float) -> Array:
    """``g * scale`` in ``g``'s dtype.

    float16 multiplies in float32, where a small ``scale`` does not round to
    0 first.
    """
    product = np.multiply(g, scale, dtype=np.promote_types(g.dtype, np.float32))
    # asarray: a 0-d array times a float is a NumPy scalar, not an array
    return np.asarray(product).astype(g.dtype, copy=False)
