r"""Synchronous data-parallel training: the data stays where it was put.

``train`` first turns each row chunk of ``(x, y)`` into a *shard* on a
worker: the chunk checked and cast once (``_shards.x_part``, ``y_part``),
or, for a chunk that is a whole ``.npy`` file mapped by ``np.load(...,
mmap_mode="r")`` (``dask.array.from_npy_stack``), only the file's name and
layout, its rows read from disk as steps need them. Then each step

1. scatters the params to the workers (once per step, one message each;
   a scatter that a dying worker leaves hanging is given up after
   ``SCATTER_TIMEOUT`` seconds and the step tried again),
2. runs one task per worker on the rows of the step's batch that its shards
   hold (``_shards.share``: one forward and backward pass over those rows),
3. merges the workers' mean losses and gradients on the driver, weighted by
   their rows, adds the L2 term once, and applies ``optimizer.step``.

The params and the optimizer state never leave the driver between steps,
so a worker that dies loses no learned state: Dask recomputes its shards
from their graph on another worker, and the step's task runs again.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import CancelledError
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
from dask.delayed import delayed
from distributed import Client, Future, LocalCluster

from nnfunc import _epoch as T
from nnfunc._checks import NonFiniteError, sum_of_squares
from nnfunc._plan import Pair, Plan, prepare
from nnfunc._types import Array, Frozen, Hidden, Net, OptState, OutputName, Params, Seed
from nnfunc.batching import batch_indices, derive_seed, n_batches
from nnfunc.distributed._arrays import pair as data_pair
from nnfunc.distributed._arrays import row_starts, split_flat
from nnfunc.distributed._cluster import local_cluster
from nnfunc.distributed._shards import (
    Indices,
    Part,
    Shard,
    Spec,
    combine,
    make_shard,
    share,
    x_block,
    y_block,
)
from nnfunc.forward import Setup, setup
from nnfunc.optim import Optimizer
from nnfunc.params import wrap_flat
from nnfunc.training import (
    Callback,
    TrainingFailed,
    TrainingInterrupted,
    TrainResult,
    _Good,
    run_epochs,
)

#: A worker's address (None: not known yet) and the chunks it holds.
Group = tuple[str | None, list[int]]

#: How often a step whose connections closed is tried again, and the pause
#: (seconds, times the attempt) before each new try.
RETRIES, PAUSE = 2, 0.5

#: Seconds a step's scatter of the params may take before it counts as a
#: lost connection (a few ms normally; the cluster may be busy recomputing).
SCATTER_TIMEOUT = 60.0


def train(
    params: Params,
    x: da.Array,
    y: da.Array | Any,
    *,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int = 32,
    seed: Seed = 0,
    client: Client | None = None,
    validation: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    patience: int | None = None,
    verbose: bool | None = None,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
    l2: float = 0.0,
    opt_state: OptState | None = None,
    callback: Callback | None = None,
) -> TrainResult:
    """Train ``params`` on a Dask array, data-parallel, one synchronous step at a time.

    The same mini-batch training as ``nnfunc.train`` (same arguments, same
    ``TrainResult``, history, validation, early stopping, progress line,
    resuming from ``opt_state``, ``callback``), with the rows of each batch
    computed by the workers that hold them (see the module docstring).

    **Batches.** Epoch ``e`` draws the permutation of ``0..n-1`` that
    ``nnfunc.train`` draws (``batch_indices(n, batch_size,
    derive_seed(seed, e))``) and cuts it into the same batches. Each
    batch's indices are split by the chunk each falls in, and every worker
    computes the loss and gradient of the rows its chunks hold; the driver
    weighs each worker's mean by its rows. So every step is the step
    ``nnfunc.train`` takes on the same samples, whatever the chunking: the
    run does not depend on how the data was cut (a per-chunk shuffle would
    make it), only the floating-point rounding of the sums does. With one
    chunk each step is ``nnfunc.train``'s own computation, so the params
    are bit for bit its params when the worker's BLAS runs as many threads
    as the caller's (OpenBLAS's products may differ in the last bits
    between thread counts); with several chunks they are equal up to
    rounding, and reproducible for a given chunks-to-workers placement
    (each worker stacks its rows in chunk order). The price is
    that every step reads a few random rows of every chunk: cheap from
    memory, and from ``.npy`` files read row by row.

    **Memory.** A chunk in memory is checked and cast to the params' dtype
    once and stays on its worker (the workers together must hold the data).
    A chunk that is a whole ``.npy`` file mapped read-only (as
    ``dask.array.from_npy_stack(dir)`` makes them) stays on disk: each step
    reads only its rows, checks them and lets them go, so the data may be
    far larger than the workers' memory; the file must be readable from
    every worker.

    Args:
        params: the starting ``W1, b1, ..., WL, bL`` (never modified).
        x: a Dask array ``(n, n_0)`` chunked along rows.
        y: targets as for ``nnfunc.train``, a Dask array (rechunked to
            ``x``'s rows if need be) or an in-memory array.
        optimizer: e.g. ``nnfunc.adam(1e-3)``; it runs on the driver.
        epochs: passes over the data, ``>= 1``.
        batch_size: samples per step (over all workers), ``>= 1``.
        seed: shuffling seed (``nnfunc.batching.derive_seed``).
        client: a ``distributed.Client`` of the cluster to use; None starts
            ``local_cluster()`` (worker processes on 127.0.0.1, no
            dashboard) for this call and closes it at the end.
        validation: ``(x_val, y_val)`` in memory, evaluated on the driver
            after every epoch (a Dask array is computed once).
        patience: stop after this many epochs without a lower validation
            loss, returning the best epoch's params and state.
        verbose: a progress line per epoch on stderr (None: if a terminal).
        hidden: hidden activation(s); None uses the params' record.
        output: output activation (and loss); None uses the params' record.
        l2: weight of ``(l2/2) sum ||W||^2``, added once per step on the driver.
        opt_state: a state returned by a ``train`` to resume from.
        callback: ``callback(record, params)`` after each epoch, on the driver.

    Returns:
        ``TrainResult(params, opt_state, history)`` as ``nnfunc.train``.

    Raises:
        TypeError, ValueError: a bad argument, or a chunk whose data is
            wrong (the message names its rows), before training starts. (A
            chunk read from disk has its values checked as steps read them:
            a NaN there is a ``TrainingFailed`` whose cause names the rows.)
        TrainingError, TrainingInterrupted, CallbackError, TrainingFailed:
            as ``nnfunc.train``, each with the last good params and state.
            A worker that dies is replaced by Dask and the step goes on;
            when Dask gives up (``KilledWorker``, lost data with no graph to
            recompute it from, a lost scheduler), ``TrainingFailed`` carries
            the state from before the step that failed.
    """
    s = setup(params, hidden, output)
    plan, start = prepare(
        params,
        *_placeholder(s),
        optimizer=optimizer,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        hidden=hidden,
        output=output,
        l2=l2,
        dropout=0.0,
        clip_norm=None,
        validation=validation,
        patience=patience,
        restore_best=True,
        opt_state=opt_state,
        callback=callback,
        verbose=verbose,
        drop_last=False,
    )
    xa, ya = data_pair(x, y, s.net)
    if client is not None and not isinstance(client, Client):
        raise TypeError(
            f"client must be a distributed.Client or None, got {type(client).__name__}"
        )
    if client is not None:
        return _run(plan, start, client, xa, ya)
    cluster = local_cluster()
    try:
        own = Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close()
        raise
    try:
        result = _run(plan, start, own, xa, ya)
    except BaseException:
        with contextlib.suppress(Exception):  # the training error is the news
            _close(own, cluster)
        raise
    try:
        _close(own, cluster)
    except Exception as e:
        raise TrainingFailed(
            f"training finished but closing its local cluster failed "
            f"({type(e).__name__}: {e}); the attached result is the run's",
            result,
        ) from e
    return result


def _close(client: Client, cluster: LocalCluster) -> None:
    """Close the client, then the cluster, even if the client's close fails."""
    try:
        client.close()
    finally:
        cluster.close()


def _meta(a: da.Array) -> npt.NDArray[Any]:
    """An empty array like ``a``'s blocks (so ``map_blocks`` need not guess)."""
    return np.empty((0,) * a.ndim, a.dtype)


def _placeholder(s: Setup) -> tuple[Array, npt.NDArray[Any]]:
    """One valid row of inputs and targets, so ``prepare`` checks the rest.

    ``prepare`` checks every argument of ``nnfunc.train`` with its messages;
    the data itself is checked chunk by chunk on the workers.
    """
    x = np.zeros((1, s.net.sizes[0]), s.net.dtype)
    if s.output == "softmax":
        return x, np.zeros(1, np.int64)
    return x, np.zeros((1, s.net.sizes[-1]), s.net.dtype)


class _Data:
    """The training data as shards on the workers, and one step over them."""

    def __init__(
        self, client: Client, shards: list[Future[Shard]], starts: list[int]
    ) -> None:
        self.client, self.shards = client, shards
        self.starts = np.array(starts, dtype=np.intp)
        self.n = starts[-1]
        self.tag = f"nnfunc-step-{uuid.uuid4().hex}"

    @classmethod
    def place(
        cls, client: Client, params: Frozen[Array], xa: da.Array, ya: da.Array
    ) -> _Data:
        """Make each chunk's shard where the chunk is; raise a chunk's error."""
        starts = row_starts(xa)
        spec, firsts = Spec.of(params), tuple(starts[:-1])
        # one task per chunk that makes the chunk and checks it (fused by Dask)
        xs = xa.map_blocks(x_block, spec, firsts, dtype=xa.dtype, meta=_meta(xa))
        ys = ya.map_blocks(y_block, spec, firsts, dtype=ya.dtype, meta=_meta(ya))
        tasks = [
            delayed(make_shard)(xb, yb, start)
            for xb, yb, start in zip(
                xs.to_delayed().ravel(), ys.to_delayed().ravel(), firsts, strict=True
            )
        ]
        shards: list[Future[Shard]] = client.compute(tasks)
        try:  # wait for every shard, without fetching any
            errors = [e for e in (f.exception() for f in shards) if e is not None]
        except BaseException:
            client.cancel(shards)
            raise
        if errors:
            client.cancel(shards)
            raise errors[0]  # a chunk's error, as the worker raised it
        return cls(client, shards, starts)

    def groups(self) -> list[Group]:
        """The chunks by the worker that holds them, in order of first chunk."""
        who = self.client.who_has(self.shards)
        by: dict[str | None, list[int]] = {}
        for c, f in enumerate(self.shards):
            holders = sorted(who.get(f.key, ()))
            by.setdefault(holders[0] if holders else None, []).append(c)
        return list(by.items())

    def step(
        self, params: Frozen[Array], idx: Indices, groups: list[Group], key: str
    ) -> Part:
        """``attempt``, tried again while the cluster loses connections.

        A connection that closes (a worker or its nanny dying, the network)
        makes the step run again, after a pause and with the shards' new
        places; the step is a pure function of ``(params, idx)``, so trying
        again changes nothing. ``groups`` is updated in place.
        """
        for retry in range(RETRIES + 1):
            try:
                return self.attempt(params, idx, groups, f"{key}-{retry}")
            except (OSError, CancelledError):
                if retry == RETRIES:
                    raise
                time.sleep(PAUSE * (retry + 1))
                groups[:] = self.groups()
        raise AssertionError("unreachable")  # the loop returns or raises

    def attempt(
        self, params: Frozen[Array], idx: Indices, groups: Sequence[Group], key: str
    ) -> Part:
        """The mean loss (no L2) and gradient of the batch ``idx``, merged."""
        owner = np.searchsorted(self.starts, idx, side="right") - 1
        order = np.argsort(owner, kind="stable")  # keeps batch order per chunk
        counts = np.bincount(owner, minlength=len(self.shards)).tolist()
        local: list[Indices] = []
        end = 0
        for c, count in enumerate(counts):
            local.append(idx[order[end : end + count]] - self.starts[c])
            end += count
        # Client.scatter takes no time limit; a worker that dies during the
        # broadcast can leave it waiting forever, so give it one: a scatter
        # that has not finished in SCATTER_TIMEOUT seconds raises TimeoutError
        # (an OSError), and the step is tried again like a lost connection.
        [pf] = self.client.sync(
            self.client._scatter,
            [params],
            broadcast=True,
            hash=False,
            callback_timeout=SCATTER_TIMEOUT,
        )
        futures: list[Future[Part]] = []
        for i, (worker, chunks) in enumerate(groups):
            parts = [(self.shards[c], local[c]) for c in chunks if counts[c]]
            if parts:
                futures.append(
                    self.client.submit(
                        share,
                        pf,
                        parts,
                        key=f"{key}-{i}",
                        pure=False,
                        workers=None if worker is None else [worker],
                        allow_other_workers=True,
                    )
                )
        return combine(*self.client.gather(futures))

    def release(self) -> None:
        """Let the workers drop the shards (best effort: also done when collected)."""
        with contextlib.suppress(Exception):
            self.client.cancel(self.shards)


def _run(
    plan: Plan, start: Pair, client: Client, xa: da.Array, ya: da.Array
) -> TrainResult:
    """Place the data, then train; the shards are released at the end."""
    try:
        data = _Data.place(client, start[0], xa, ya)
    except (ValueError, TypeError):
        raise  # a chunk's data is wrong: an argument error
    except Exception as e:
        raise TrainingFailed(
            f"placing the data on the workers failed ({type(e).__name__}: {e}); "
            "the attached .params and .opt_state are the starting ones",
            _Good(start, plan.first, 0).result([]),
        ) from e
    except KeyboardInterrupt as e:
        raise TrainingInterrupted(
            "training interrupted while placing the data",
            _Good(start, plan.first, 0).result([]),
        ) from e
    try:
        return _fit(plan, data, start)
    finally:
        data.release()


def _fit(plan: Plan, data: _Data, pair: Pair) -> TrainResult:
    """The loop of ``nnfunc.train`` around epochs run on the workers."""
    run = functools.partial(_run_epoch, plan, data)
    return run_epochs(plan, pair, run, n_batches(data.n, plan.batch_size))


def _run_epoch(
    plan: Plan, data: _Data, pair: Pair, epoch: int, on_step: T.OnStep | None
) -> tuple[Pair, float]:
    """``nnfunc._epoch.run_epoch`` with each batch's rows computed by the workers."""
    n, size = data.n, plan.batch_size
    steps = n_batches(n, size)
    seed = derive_seed(plan.seed, epoch)
    l2, update = plan.l2, plan.optimizer.step
    cur = pair
    total, seen, step = 0.0, 0, 0
    try:
        groups = data.groups()
        for step, idx in enumerate(batch_indices(n, size, seed)):
            params, state = cur
            net = _net(params)
            part = data.step(params, idx, groups, f"{data.tag}-{epoch}-{step}")
            value = part.loss
            if l2:  # as loss_value adds it: once, after the mean
                value += 0.5 * l2 * sum(sum_of_squares(W) for W in net.Ws)
            if not math.isfinite(value):
                raise T.Halt("loss", cur, step, steps)
            total += value * idx.shape[0]
            seen += idx.shape[0]
            assert part.grads is not None  # share always computes them
            new = update(params, _step_grads(net, part.grads, l2), state)
            cur = T._checked_pair(new, params)
            if on_step is not None:  # a terminal's line, when one is due
                on_step(epoch, step + 1, total / seen)
    except NonFiniteError as e:  # the step's result would not be finite
        raise T.Halt("update", cur, step, steps) from e
    except KeyboardInterrupt as e:
        raise T.Halt("interrupt", cur, step, steps) from e
    except T.Halt:
        raise
    except Exception as e:  # a worker's error, Dask giving up, the optimizer, ...
        raise T.Halt("error", cur, step, steps) from e
    return cur, total / seen


def _net(params: Frozen[Array]) -> Net:
    net = params._net
    assert net is not None  # every params value train builds has one
    return net


def _step_grads(net: Net, g: npt.NDArray[Any], l2: float) -> Frozen[Array]:
    """The merged gradient in the params' dtype, plus ``l2 * W`` (as ``backward``)."""
    flat: Array = np.array(g, dtype=net.dtype)  # new: a cast or a copy
    if l2:
        for dW, W in zip(split_flat(net, flat)[0::2], net.Ws, strict=True):
            dW += l2 * W  # a view of flat, just allocated
    return wrap_flat(net, flat, None, None)
