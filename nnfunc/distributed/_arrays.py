"""Loss, gradient, forward pass and predictions over a Dask array's row chunks.

Each chunk's part is computed where the chunk lives (one task per chunk,
``nnfunc.distributed._shards.chunk_part``) and the parts are merged by a tree
of ``combine`` tasks, ``SPLIT_EVERY`` at a time, weighted by their rows; the
driver receives one flat gradient. The L2 term is added once, on the driver.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import dask
import dask.array as da
import numpy as np
from dask.delayed import Delayed, delayed

from nnfunc._checks import as_array, check_float, sum_of_squares
from nnfunc._types import Array, Frozen, Hidden, Net, OutputName, Params
from nnfunc.backprop import _freeze_finite
from nnfunc.distributed._shards import Part, chunk_part, combine
from nnfunc.forward import Setup, overflow_error, setup
from nnfunc.forward import forward as forward_in_memory
from nnfunc.forward import predict as predict_in_memory
from nnfunc.params import freeze, retag

#: How many parts one ``combine`` task merges.
SPLIT_EVERY = 8


def loss_and_grads(
    params: Params,
    x: da.Array,
    y: da.Array | Any,
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
    l2: float = 0.0,
) -> tuple[float, Frozen[Array]]:
    r"""The loss and its gradient over all rows of ``x``, chunk by chunk.

    Exactly ``nnfunc.loss_and_grads(params, x, y, ...)`` on the whole data,
    up to floating-point rounding: each chunk ``c`` of ``r_c`` rows gives
    its mean loss and gradient, and the driver gets
    :math:`\sum_c (r_c / n)\,\bar g_c + l_2 W` (the penalty once, not per
    chunk). With one chunk it is the in-memory computation itself, bit for
    bit when the worker's BLAS runs as many threads as the caller's (a
    ``local_cluster`` worker runs one; OpenBLAS's products can differ in
    the last bits between thread counts).

    Runs on Dask's current scheduler: the default ``distributed.Client``
    if there is one (each chunk's task runs where the chunk lives), else
    Dask's threads.

    Args:
        params: ``W1, b1, ..., WL, bL`` (as for ``nnfunc.loss_and_grads``).
        x: a Dask array ``(n, n_0)`` chunked along rows (a chunking of the
            columns is undone).
        y: targets as for ``nnfunc.loss``, ``(n,)`` or ``(n, k)``: a Dask
            array (rechunked to ``x``'s rows if need be) or an in-memory array.
        hidden: hidden activation(s); None uses the params' record.
        output: ``"sigmoid"``, ``"softmax"`` or ``"identity"``; None uses the record.
        l2: weight of the penalty ``(l2/2) sum ||W||^2``.

    Returns:
        ``(loss, grads)``; grads is an ``nnfunc.Frozen`` with the params' record.

    Raises:
        TypeError, ValueError: as ``nnfunc.loss_and_grads`` (a chunk's data
            error names its rows).
    """
    s, p, penalty = _prepare(params, hidden, output, l2)
    part = _reduce(p, x, y, want_grads=True)
    assert part.grads is not None  # asked for
    return _loss(s, part, penalty), _grads(params, s, part.grads, penalty)


def loss(
    params: Params,
    x: da.Array,
    y: da.Array | Any,
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
    l2: float = 0.0,
) -> float:
    """The mean loss over all rows of ``x`` (see ``loss_and_grads``)."""
    s, p, penalty = _prepare(params, hidden, output, l2)
    return _loss(s, _reduce(p, x, y, want_grads=False), penalty)


def grads(
    params: Params,
    x: da.Array,
    y: da.Array | Any,
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
    l2: float = 0.0,
) -> Frozen[Array]:
    """The gradient of the mean loss over all rows (see ``loss_and_grads``)."""
    return loss_and_grads(params, x, y, hidden=hidden, output=output, l2=l2)[1]


def forward(
    params: Params,
    x: da.Array,
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
) -> da.Array:
    """``nnfunc.forward`` on each row chunk: a lazy Dask array ``(n, n_L)``.

    Examples:
        >>> import dask.array as da
        >>> import nnfunc as nf
        >>> p = nf.init_params([3, 4, 2], output="softmax")
        >>> a = forward(p, da.ones((10, 3), chunks=4))
        >>> a.chunks, bool(np.allclose(a.compute().sum(axis=1), 1.0))
        (((4, 4, 2), (2,)), True)
    """
    s, p, _ = _prepare(params, hidden, output, 0.0)
    xa = rows(x, s.net)
    k, dtype = s.net.sizes[-1], s.net.dtype
    return xa.map_blocks(
        _forward_block,
        _literal(p),
        dtype=dtype,
        chunks=(xa.chunks[0], (k,)),
        meta=np.empty((0, 0), dtype),
    )


def predict(
    params: Params,
    x: da.Array,
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
) -> da.Array:
    """``nnfunc.predict`` on each row chunk: a lazy Dask array of predictions.

    Shapes and dtypes as ``nnfunc.predict``: ``(n,)`` int64 labels for
    softmax, and ``(n,)`` when the network has one output unit.
    """
    s, p, _ = _prepare(params, hidden, output, 0.0)
    xa = rows(x, s.net)
    k = s.net.sizes[-1]
    dtype = s.net.dtype if s.output == "identity" else np.dtype(np.int64)
    flat = s.output == "softmax" or k == 1
    return xa.map_blocks(
        _predict_block,
        _literal(p),
        dtype=dtype,
        chunks=(xa.chunks[0],) if flat else (xa.chunks[0], (k,)),
        drop_axis=1 if flat else None,
        meta=np.empty((0,) if flat else (0, 0), dtype),
    )


def _forward_block(x: Array, params: Frozen[Array]) -> Array:
    return forward_in_memory(params, x)  # check_x copies an unaligned block


def _predict_block(x: Array, params: Frozen[Array]) -> Array:
    return predict_in_memory(params, x)


def _prepare(
    params: Params, hidden: Hidden | None, output: OutputName | None, l2: float
) -> tuple[Setup, Frozen[Array], float]:
    """Check the params and options; the params as a value with the record."""
    s = setup(params, hidden, output)
    p = retag(params if isinstance(params, Frozen) else freeze(params), *_record(s))
    return s, p, check_float(l2, "l2")


def _record(s: Setup) -> tuple[Hidden, OutputName]:
    return s.hidden, s.output


def _literal(value: object) -> Delayed:
    """``value`` as one key of the graph, shared by every task that reads it."""
    return delayed(value, name=f"nnfunc-params-{uuid.uuid4().hex}", traverse=False)


def _reduce(p: Frozen[Array], x: object, y: object, want_grads: bool) -> Part:
    """Every chunk's part, merged by a tree of ``combine`` tasks."""
    net = p._net
    assert net is not None  # a params value
    xa, ya = pair(x, y, net)
    starts = row_starts(xa)
    pd = _literal(p)
    parts = [
        delayed(chunk_part)(pd, xb, yb, start, want_grads)
        for xb, yb, start in zip(
            xa.to_delayed().ravel(), ya.to_delayed().ravel(), starts[:-1], strict=True
        )
    ]
    while len(parts) > 1:
        parts = [
            delayed(combine)(*parts[i : i + SPLIT_EVERY])
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    (part,) = dask.compute(parts[0])
    assert isinstance(part, Part)
    return part


def _loss(s: Setup, part: Part, l2: float) -> float:
    """The merged mean loss plus the penalty, or the overflow in words."""
    value = part.loss
    if l2:
        value += 0.5 * l2 * sum(sum_of_squares(W) for W in s.net.Ws)
    if not math.isfinite(value):
        raise overflow_error("the loss", s.net.dtype)
    return value


def _grads(params: Params, s: Setup, g: Array, l2: float) -> Frozen[Array]:
    """The merged mean gradient plus ``l2 * W``, checked and frozen."""
    flat = np.array(g, dtype=s.net.dtype)  # a new array (a cast, or a copy)
    arrays = split_flat(s.net, flat)
    if l2:
        for dW, W in zip(arrays[0::2], s.net.Ws, strict=True):
            dW += l2 * W  # dW is a view of flat, just allocated
    keys = s.net.keys()
    return _freeze_finite(params, s, dict(zip(keys, arrays, strict=True)))


def split_flat(net: Net, flat: Array) -> list[Array]:
    """Views of ``flat`` shaped as ``W1, b1, ...`` of ``net``."""
    views: list[Array] = []
    start = 0
    for W, b in zip(net.Ws, net.bs, strict=True):
        for a in (W, b):
            views.append(flat[start : start + a.size].reshape(a.shape))
            start += a.size
    return views


def rows(x: object, net: Net, name: str = "x") -> da.Array:
    """``x`` as a Dask array ``(n, n_0)`` with known row chunks, one column chunk."""
    if not isinstance(x, da.Array):
        raise TypeError(
            f"{name} must be a Dask array chunked along rows, e.g. "
            f"dask.array.from_array({name}, chunks=(10_000, -1)), got "
            f"{type(x).__name__}; for data in memory use nnfunc itself"
        )
    n_in = net.sizes[0]
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D of shape (batch, {n_in}), got shape {x.shape}"
        )
    if any(math.isnan(c) for c in x.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() first"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got shape {x.shape}")
    if x.shape[1] != n_in:
        raise ValueError(f"{name} has {x.shape[1]} features but W1 expects {n_in}")
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be an array of real numbers, got {x.dtype}")
    return x if x.numblocks[1] == 1 else x.rechunk({1: -1})


def pair(x: object, y: object, net: Net) -> tuple[da.Array, da.Array]:
    """``x`` (see ``rows``) and ``y`` as a Dask array with the same row chunks."""
    xa = rows(x, net)
    ya = y if isinstance(y, da.Array) else da.from_array(as_array(y, "y"))
    if ya.ndim not in (1, 2):
        raise ValueError(f"y must be of shape (batch,) or (batch, k), got {ya.shape}")
    if ya.shape[0] != xa.shape[0]:
        raise ValueError(f"y has {ya.shape[0]} rows but x has {xa.shape[0]}")
    if ya.dtype.kind not in "fiub":
        raise TypeError(f"y must be an array of real numbers, got {ya.dtype}")
    want = (xa.chunks[0],) if ya.ndim == 1 else (xa.chunks[0], (ya.shape[1],))
    return xa, (ya if ya.chunks == want else ya.rechunk(want))


def row_starts(x: da.Array) -> list[int]:
    """``[0, r_0, r_0 + r_1, ..., n]``: where each row chunk starts, and ``n``."""
    starts = [0]
    for c in x.chunks[0]:
        starts.append(starts[-1] + int(c))
    return starts
