"""The inner loops of ``nnfunc.train``: one epoch of steps, one evaluation.

Everything here runs on inputs that ``train`` validated once: no checks per
step. A step is ``loss_and_grads_kernel`` on a gathered batch, an optional
global-norm clip of the new gradient arrays, and ``optimizer.update``. The
only per-step test is ``math.isfinite(loss)``; the parameters themselves are
checked once per epoch, and only searched further when a loss is not finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from nnfunc._checks import Net
from nnfunc._checks import all_finite as finite
from nnfunc._optstate import lr_at, new_state
from nnfunc._types import (
    Array,
    Grads,
    LearningRate,
    OptState,
    OutputName,
    Params,
)
from nnfunc.activations import Activation
from nnfunc.backprop import backward, loss_and_grads_kernel, loss_value
from nnfunc.batching import batch_indices, derive_seed, n_batches
from nnfunc.clip import clip_factor
from nnfunc.forward import Setup, forward_cache
from nnfunc.optim import _sgd_update
from nnfunc.params import freeze_owned

#: Parameters with the optimizer state that goes with them.
Pair = tuple[Params, OptState]

#: ``Optimizer.update``: one step on validated inputs.
Update = Callable[[Params, Grads, OptState], Pair]


class Plan(NamedTuple):
    """The validated inputs of one ``train`` call."""

    acts: tuple[Activation, ...]
    output: OutputName
    rate: float
    dtype: np.dtype[Any]
    W_keys: tuple[str, ...]
    b_keys: tuple[str, ...]
    x: Array
    Y: Array
    val: tuple[Array, Array] | None
    l2: float
    clip: float | None
    batch_size: int
    drop_last: bool
    seed: int | np.random.SeedSequence
    update: Update

    def setup(self, params: Params, rng: np.random.Generator | None) -> Setup:
        """The kernels' view of ``params`` (no checks: built every step)."""
        get = params.__getitem__
        net = Net(
            tuple(map(get, self.W_keys)), tuple(map(get, self.b_keys)), self.dtype
        )
        return Setup(net, self.acts, self.output, self.rate, rng)


class Halt(Exception):
    """An epoch that could not finish, with the last good ``(params, state)``.

    ``kind`` is ``"loss"`` (step ``step`` had a non-finite loss),
    ``"update"`` (step ``step`` made the params non-finite), ``"epoch"`` (the
    params became non-finite at an unknown step; ``pair`` is the epoch's
    start) or ``"interrupt"`` (a KeyboardInterrupt, chained as the cause).
    ``pair`` is the state before step ``step``.
    """

    def __init__(self, kind: str, pair: Pair, step: int | None, steps: int) -> None:
        super().__init__(kind)
        self.kind, self.pair, self.step, self.steps = kind, pair, step, steps


def run_epoch(plan: Plan, pair: Pair, epoch: int) -> tuple[Pair, float]:
    """One pass over the data in batches: the new pair and the mean batch loss.

    Epoch ``epoch`` (0-based, counted over resumed runs) shuffles with
    ``derive_seed(seed, epoch)`` and draws the dropout masks of its step
    ``t`` from ``derive_seed(seed, epoch, t)``. The mean loss weights each
    batch by its size, so it is the mean over the samples seen.

    Plain SGD (``nnfunc.sgd``) without clipping takes the fused path of
    ``sgd_epoch``; every other optimizer goes through ``optimizer.update``.
    """
    lr = plain_sgd_lr(plan)
    if lr is not None:
        try:
            return sgd_epoch(plan, pair, epoch, lr, careful=False)
        except _Retrace:  # a fault: run the epoch again, keeping every step
            return sgd_epoch(plan, pair, epoch, lr, careful=True)
    n = plan.x.shape[0]
    size = plan.batch_size
    steps = n_batches(n, size, plan.drop_last)
    seed = derive_seed(plan.seed, epoch)
    x, Y, l2, update = plan.x, plan.Y, plan.l2, plan.update
    start = prev = cur = pair
    total, seen, step = 0.0, 0, 0
    try:
        for step, idx in enumerate(batch_indices(n, size, seed, plan.drop_last)):
            params, state = cur
            rng = np.random.default_rng(derive_seed(seed, step)) if plan.rate else None
            value, g = loss_and_grads_kernel(
                plan.setup(params, rng), x[idx], Y[idx], l2
            )
            if not math.isfinite(value):
                raise _fault(start, prev, cur, step, steps)
            if plan.clip is not None:
                clip_in_place(g, plan.clip)
            total += value * idx.shape[0]
            seen += idx.shape[0]
            prev, cur = cur, update(params, g, state)
    except KeyboardInterrupt as e:
        raise Halt("interrupt", cur, step, steps) from e
    if not params_finite(cur[0]):
        raise Halt("epoch", start, None, steps)
    return cur, total / seen


class _Retrace(Exception):
    """The fast path met a fault it cannot place; the careful path will."""


def plain_sgd_lr(plan: Plan) -> LearningRate | None:
    """The learning rate of ``nnfunc.sgd`` if that is the optimizer.

    None for any other optimizer, or when the steps need clipping.
    """
    update = plan.update
    if plan.clip is None and isinstance(update, partial) and update.func is _sgd_update:
        lr: LearningRate = update.keywords["lr"]
        return lr
    return None


def sgd_epoch(
    plan: Plan, pair: Pair, epoch: int, lr: LearningRate, *, careful: bool
) -> tuple[Pair, float]:
    """One epoch of plain SGD, fused: ``theta -= eta * grad`` in place.

    The params live in one flat working buffer ``theta`` that this function
    allocated (a copy; nothing else sees it until it is frozen, copied, at
    the end of the epoch), with ``W1, b1, ...`` as views into it. Each step
    folds the learning rate into the small error matrix (``backward``'s
    ``scale``), has ``backward`` write ``eta * grad`` into a second buffer of
    the same layout, and subtracts it in one call. The same batches and
    seeds as ``run_epoch``. ``careful`` keeps a frozen copy after every step,
    to name the first bad step of a run that diverged and hand back the last
    finite state (the fast path raises ``_Retrace`` instead).
    """
    params, state = pair
    keys = [k for wb in zip(plan.W_keys, plan.b_keys, strict=True) for k in wb]
    theta, p = _buffer([params[k] for k in keys], keys)  # working copy, ours
    grad = np.empty_like(theta)  # written by backward at every step
    g = _views(grad, keys, p)
    net = Net(
        tuple(p[k] for k in plan.W_keys), tuple(p[k] for k in plan.b_keys), plan.dtype
    )
    s = Setup(net, plan.acts, plan.output, plan.rate, None)
    n, size, count = plan.x.shape[0], plan.batch_size, int(state["count"])
    steps = n_batches(n, size, plan.drop_last)
    seed = derive_seed(plan.seed, epoch)
    total, seen, step = 0.0, 0, 0
    prev = cur = pair
    try:
        for step, idx in enumerate(batch_indices(n, size, seed, plan.drop_last)):
            if plan.rate:
                s = s._replace(rng=np.random.default_rng(derive_seed(seed, step)))
            Yb = plan.Y[idx]
            cache = forward_cache(s, plan.x[idx])
            value = loss_value(s, cache.z[-1], Yb, plan.l2)
            if not math.isfinite(value):
                if not careful:
                    raise _Retrace
                raise _fault(pair, prev, cur, step, steps)
            backward(s, cache, Yb, plan.l2, scale=lr_at(lr, count), out=g)
            theta -= grad  # both buffers are this function's own
            count += 1
            total += value * idx.shape[0]
            seen += idx.shape[0]
            if careful:
                prev, cur = cur, _frozen(p, keys, count)
    except KeyboardInterrupt as e:
        # A half-applied in-place step is not a state: hand back the epoch's
        # start (resuming from it replays this epoch's batches exactly).
        raise Halt("interrupt", pair, None, steps) from e
    out = _frozen(p, keys, count)
    if not params_finite(out[0]):
        if not careful:
            raise _Retrace
        raise Halt("epoch", pair, None, steps)
    return out, total / seen


def _buffer(arrays: list[Array], keys: list[str]) -> tuple[Array, dict[str, Array]]:
    """A new flat buffer holding copies of ``arrays``, and its views by key."""
    flat = np.concatenate([a.ravel() for a in arrays])
    return flat, _views(flat, keys, dict(zip(keys, arrays, strict=True)))


def _views(flat: Array, keys: list[str], like: dict[str, Array]) -> dict[str, Array]:
    """Views of ``flat`` shaped like ``like[k]``, laid out in ``keys`` order."""
    views, start = {}, 0
    for k in keys:
        shape, size = like[k].shape, like[k].size
        views[k] = flat[start : start + size].reshape(shape)
        start += size
    return views


def _frozen(p: dict[str, Array], keys: list[str], count: int) -> Pair:
    """Frozen copies of the working params, and the SGD state after ``count``."""
    _, arrays = _buffer([p[k] for k in keys], keys)
    return freeze_owned(arrays), new_state(count, {})


def _fault(start: Pair, prev: Pair, cur: Pair, step: int, steps: int) -> Halt:
    """Name the first bad step and the last finite pair before it."""
    if params_finite(cur[0]):
        return Halt("loss", cur, step, steps)  # finite params, overflowing loss
    if step > 0 and params_finite(prev[0]):
        return Halt("update", prev, step - 1, steps)  # the last update overflowed
    return Halt("epoch", start, None, steps)


def evaluate(plan: Plan, params: Params) -> tuple[float | None, float | None]:
    """Validation loss (no penalty, no dropout) and accuracy, if any data.

    Accuracy: ``softmax``, the argmax of the logits against the argmax of
    the target rows; ``sigmoid``, ``z > 0`` against ``y > 0.5``, a sample
    counting when all its units agree; ``identity``, None (no classes).
    """
    if plan.val is None:
        return None, None
    xv, Yv = plan.val
    s = plan.setup(params, None)
    z = forward_cache(s, xv).z[-1]
    value = loss_value(s, z, Yv, 0.0)  # no penalty, no dropout
    if plan.output == "softmax":
        right = np.argmax(z, axis=1) == np.argmax(Yv, axis=1)
    elif plan.output == "sigmoid":
        right = ((z > 0) == (Yv > 0.5)).all(axis=1)
    else:
        return value, None
    return value, float(np.count_nonzero(right)) / int(xv.shape[0])


def clip_in_place(g: dict[str, Array], max_norm: float) -> None:
    """Scale the gradient arrays (new, owned by the caller) to norm ``<= max_norm``.

    The rule of ``nnfunc.clip.clip_by_global_norm`` (its ``clip_factor``):
    ``g <- g * min(1, c / ||g||)`` with one factor for all arrays.
    """
    scale = clip_factor(list(g.values()), max_norm)
    if scale is not None:
        for a in g.values():
            a *= scale  # a was just allocated by the kernel


def params_finite(params: Params) -> bool:
    """Whether every array of ``params`` is free of NaN and infinities."""
    return all(map(finite, params.values()))


def with_epoch(state: OptState, epoch: int) -> OptState:
    """The optimizer state plus the 0-d int64 ``"epoch"`` (epochs completed)."""
    e = np.array(epoch, dtype=np.int64)
    e.flags.writeable = False  # e was just allocated here
    return MappingProxyType({**state, "epoch": e})


def last_lr(lr: LearningRate | None, state: OptState) -> float | None:
    """The learning rate of the last step taken (the schedule at ``count - 1``)."""
    if lr is None or not callable(lr):
        return None if lr is None else float(lr)
    count = int(state["count"]) if "count" in state else 0
    return float(lr(max(count - 1, 0)))
