r"""What runs on the workers: one chunk's rows, their loss and gradient.

Nothing here imports Dask. The functions are shipped to the workers by
reference and run on plain NumPy arrays, with the kernels of ``nnfunc.train``
(``loss_and_grads_kernel``), so a worker computes exactly what the
in-memory library would on the same rows.

**Weighted means.** ``nnfunc.loss_and_grads`` returns the *mean* over its
batch. A part of a batch of ``B`` rows that has ``r`` rows contributes its
mean with the weight ``r / B``:

.. math:: L = \sum_c \frac{r_c}{B}\,\bar L_c, \qquad
          \nabla L = \sum_c \frac{r_c}{B}\,\nabla \bar L_c

which is the sum of the parts' summed losses divided by ``B``. The weighted
sum is taken in float64 and starts from the first part, so a batch that is
one part comes back bit for bit (``1.0 * g == g``).
"""

from __future__ import annotations

import math
import mmap
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from nnfunc._checks import as_array, check_params, check_x, check_y
from nnfunc._types import Array, Frozen, Net, OutputName
from nnfunc.backprop import loss_and_grads_kernel, loss_value
from nnfunc.forward import forward_cache, setup

#: Row indices into one chunk.
Indices = npt.NDArray[np.integer[Any]]


class NpyRows(NamedTuple):
    """The rows of a C-ordered array in a ``.npy`` file, read when asked for.

    ``offset`` is the byte position of row 0 in ``path``; ``shape`` and
    ``dtype`` (``np.dtype.str``) are the array's. Rows are read with plain
    file reads, never mapped, so they count in a worker's memory only while
    a step uses them.
    """

    path: str
    offset: int
    shape: tuple[int, ...]
    dtype: str

    def take(self, idx: Indices) -> npt.NDArray[Any]:
        """A new array of the rows ``idx`` (in that order); one read per run.

        Indices are sorted first, so consecutive rows are one read.
        """
        dtype = np.dtype(self.dtype)
        row = dtype.itemsize * math.prod(self.shape[1:])
        order = np.argsort(idx, kind="stable")
        ordered = idx[order]
        got = np.empty((idx.shape[0], *self.shape[1:]), dtype)
        if idx.shape[0] == 0 or row == 0:
            return got
        raw = got.reshape(idx.shape[0], -1).view(np.uint8)  # got is new, C-ordered
        # a run starts wherever an index is not its predecessor + 1
        firsts = np.flatnonzero(np.diff(ordered, prepend=ordered[0] - 2) != 1)
        lasts = np.append(firsts[1:], ordered.shape[0])
        with open(self.path, "rb", buffering=0) as f:
            for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True):
                f.seek(self.offset + int(ordered[a]) * row)
                if f.readinto(raw[a:b].reshape(-1).data) != (b - a) * row:
                    raise OSError(
                        f"{self.path} ends before row {int(ordered[b - 1])}; "
                        f"the file changed after the Dask array was made"
                    )
        out = np.empty_like(got)
        out[order] = got
        return out


class Shard(NamedTuple):
    """One row chunk of the training data, kept on the worker that made it.

    ``x``: the chunk cast to the params' dtype and checked finite, or the
    ``NpyRows`` of a chunk that is a whole ``.npy`` file mapped by
    ``np.load(..., mmap_mode="r")`` (read per step, checked per step);
    ``y``: the dense targets ``(rows, k)`` (checked), or their ``NpyRows``.
    ``start``, ``stop``: the chunk's rows in the whole array (for messages).
    """

    x: Array | NpyRows
    y: Array | NpyRows
    start: int
    stop: int


class Part(NamedTuple):
    """The mean loss (without L2), and the mean gradient, of ``rows`` rows.

    ``grads`` is flat, in the params' layout ``W1, b1, ...`` (None when
    only the loss was asked for).
    """

    rows: int
    loss: float
    grads: npt.NDArray[np.floating[Any]] | None


def on_disk(block: object) -> NpyRows | None:
    """The ``NpyRows`` of a whole-file memory map, else None.

    ``np.load(path, mmap_mode="r")`` (what ``dask.array.from_npy_stack``
    runs per chunk) maps the whole array: its base is the ``mmap`` itself
    and ``offset`` is where row 0 lies in the file. A slice of a map (whose
    ``offset`` is its parent's) is not recognised and is read in full.
    """
    if (
        isinstance(block, np.memmap)
        and isinstance(block.base, mmap.mmap)
        and isinstance(block.filename, str | os.PathLike)
        and block.flags.c_contiguous
        and block.ndim in (1, 2)
    ):
        shape = tuple(int(n) for n in block.shape)
        path = os.fspath(block.filename)
        return NpyRows(path, int(block.offset), shape, block.dtype.str)
    return None


class Spec(NamedTuple):
    """What a chunk is checked against: the network's input width and outputs.

    A small literal, so the task that checks a chunk depends on the chunk
    alone and Dask fuses it with the task that makes the chunk: a chunk
    mapped from a ``.npy`` file is then described without ever leaving the
    worker that mapped it (a mapped array sent elsewhere is read whole).
    """

    n_in: int
    k: int
    dtype: str
    output: OutputName

    @classmethod
    def of(cls, params: Frozen[Array]) -> Spec:
        """The spec of a params value that records its output."""
        net = check_params(params)
        assert params.output is not None  # the driver sends params with a record
        return cls(net.sizes[0], net.sizes[-1], net.dtype.str, params.output)

    def net(self) -> Net:
        """The part of a ``Net`` that ``check_x`` reads: W1's width and the dtype."""
        dtype = np.dtype(self.dtype)
        W1 = np.empty((self.n_in, 0), dtype)
        return Net((W1,), (), dtype, (self.n_in, self.k))


def x_part(x: object, spec: Spec, start: int) -> Array | NpyRows:
    """A chunk of inputs checked and cast once, or the ``NpyRows`` of its file.

    A chunk on disk has its shape and dtype checked now and its values
    per step, as they are read.
    """
    with _rows_named(start, x):
        file = on_disk(x)
        if file is None:
            a = check_x(x, spec.net())
            # a view of a larger array, or of a message (maybe unaligned): own it
            return a if a.base is None else a.copy()
        check_x(np.zeros((1, *file.shape[1:]), file.dtype), spec.net())
        return file


def y_part(y: object, spec: Spec, start: int) -> Array | NpyRows:
    """A chunk of targets as dense ``(rows, k)``, or the ``NpyRows`` of its file."""
    with _rows_named(start, y):
        file = on_disk(y)
        dtype = np.dtype(spec.dtype)
        if file is None:
            rows = _rows(y)
            Y = check_y(y, spec.output, rows, spec.k, dtype)
            return Y if Y.base is None else Y.copy()
        one = np.zeros((1, *file.shape[1:]), file.dtype)
        check_y(one, spec.output, 1, spec.k, dtype)
        return file


def x_block(
    x: object, spec: Spec, starts: tuple[int, ...], block_id: tuple[int, ...]
) -> Array | NpyRows:
    """``x_part`` of block ``block_id`` (for ``map_blocks``)."""
    return x_part(x, spec, starts[block_id[0]])


def y_block(
    y: object, spec: Spec, starts: tuple[int, ...], block_id: tuple[int, ...]
) -> Array | NpyRows:
    """``y_part`` of block ``block_id`` (for ``map_blocks``)."""
    return y_part(y, spec, starts[block_id[0]])


def make_shard(x: Array | NpyRows, y: Array | NpyRows, start: int) -> Shard:
    """The checked parts of one chunk, together on one worker."""
    rows = x.shape[0]
    return Shard(x, y, start, start + int(rows))


def _rows(a: object) -> int:
    shape = a.shape if isinstance(a, np.ndarray) else as_array(a, "a").shape
    return int(shape[0]) if shape else 0


@contextmanager
def _rows_named(start: int, chunk: object) -> Iterator[None]:
    """A ``ValueError``/``TypeError`` inside names the chunk's rows."""
    try:
        yield
    except (ValueError, TypeError) as e:
        where = f"(in rows {start}:{start + _rows(chunk)} of the Dask array)"
        raise type(e)(f"{e} {where}") from None


def rows_of(shard: Shard, idx: Indices, params: Frozen[Array]) -> tuple[Array, Array]:
    """The inputs and dense targets of the shard's rows ``idx``, checked."""
    if isinstance(shard.x, np.ndarray) and isinstance(shard.y, np.ndarray):
        return shard.x[idx], shard.y[idx]
    net = check_params(params)
    assert params.output is not None  # the driver sends params with a record
    try:
        x = shard.x[idx] if isinstance(shard.x, np.ndarray) else shard.x.take(idx)
        y = shard.y[idx] if isinstance(shard.y, np.ndarray) else shard.y.take(idx)
        xs = check_x(x, net)
        Y = check_y(y, params.output, idx.shape[0], net.sizes[-1], net.dtype)
    except (ValueError, TypeError) as e:
        where = f"(in rows {shard.start}:{shard.stop} of the Dask array)"
        raise type(e)(f"{e} {where}") from None
    return xs, Y


def share(params: Frozen[Array], parts: Sequence[tuple[Shard, Indices]]) -> Part:
    """The mean loss and gradient of one worker's share of a training step.

    ``parts`` lists the worker's shards with the rows of the step each
    holds; their rows are stacked in that order and run as one batch.
    """
    s = setup(params, None, None)
    rows = [rows_of(shard, idx, params) for shard, idx in parts]
    x = rows[0][0] if len(rows) == 1 else np.concatenate([r[0] for r in rows])
    Y = rows[0][1] if len(rows) == 1 else np.concatenate([r[1] for r in rows])
    with np.errstate(all="ignore"):  # a non-finite loss is reported by the driver
        value, g = loss_and_grads_kernel(s, x, Y, 0.0)
    return Part(x.shape[0], value, np.concatenate([a.ravel() for a in g.values()]))


def chunk_part(
    params: Frozen[Array], x: object, y: object, start: int, want_grads: bool
) -> Part:
    """The mean loss (and gradient) of one whole chunk, checked first."""
    spec = Spec.of(params)
    shard = make_shard(x_part(x, spec, start), y_part(y, spec, start), start)
    if isinstance(shard.x, np.ndarray) and isinstance(shard.y, np.ndarray):
        xs, Y = shard.x, shard.y
    else:  # a chunk on disk: read whole, once
        xs, Y = rows_of(shard, np.arange(shard.stop - shard.start), params)
    s = setup(params, None, None)
    with np.errstate(all="ignore"):  # a non-finite result is reported by the driver
        if not want_grads:
            value = loss_value(s, forward_cache(s, xs).z[-1], Y, 0.0)
            return Part(xs.shape[0], value, None)
        value, g = loss_and_grads_kernel(s, xs, Y, 0.0)
    return Part(xs.shape[0], value, np.concatenate([a.ravel() for a in g.values()]))


def combine(*parts: Part) -> Part:
    """The parts as one: means weighted by rows, in float64 (module docstring)."""
    if len(parts) == 1:
        return parts[0]
    rows = sum(p.rows for p in parts)
    first, rest = parts[0], parts[1:]
    w = first.rows / rows
    value = w * first.loss
    g = None if first.grads is None else np.multiply(first.grads, w, dtype=np.float64)
    for p in rest:
        w = p.rows / rows
        value += w * p.loss
        if g is not None and p.grads is not None:
            g += np.multiply(p.grads, w, dtype=np.float64)  # g is ours
    return Part(rows, value, g)
