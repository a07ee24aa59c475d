"""The inner loops of ``nnfunc.train``: one epoch of steps, one evaluation.

Everything here runs on a ``Plan`` that ``train`` validated once. A step is
``loss_and_grads_kernel`` on a gathered batch, an optional global-norm clip
of the new gradient arrays, and the optimizer's ``step`` on the gradient
packed as a value (whose checks on the library's own values are cheap, and
whose result is checked finite). Anything that goes wrong in a step is a
``Halt`` carrying the last good ``(params, state)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from nnfunc._checks import NonFiniteError, all_finite
from nnfunc._plan import Pair, Plan
from nnfunc._types import Array, Frozen, LearningRate, OptState
from nnfunc.backprop import loss_and_grads_kernel, loss_value
from nnfunc.batching import batch_indices, derive_seed, n_batches
from nnfunc.clip import clip_factor
from nnfunc.forward import forward_cache
from nnfunc.params import freeze, pack, retag


class Halt(Exception):
    """An epoch that could not finish, with the last good ``(params, state)``.

    ``kind`` is ``"loss"`` (step ``step`` had a non-finite loss),
    ``"update"`` (step ``step`` would have made the params or the state
    non-finite), ``"error"`` (step ``step`` raised; chained as the cause) or
    ``"interrupt"`` (a KeyboardInterrupt, chained as the cause). ``pair``
    is the state before step ``step``.
    """

    def __init__(self, kind: str, pair: Pair, step: int, steps: int) -> None:
        super().__init__(kind)
        self.kind, self.pair, self.step, self.steps = kind, pair, step, steps


#: ``on_step(epoch, step, mean_loss)`` after each step (``step`` from 1).
OnStep = Callable[[int, int, float], None]


def run_epoch(
    plan: Plan, pair: Pair, epoch: int, on_step: OnStep | None = None
) -> tuple[Pair, float]:
    """One pass over the data in batches: the new pair and the mean batch loss.

    Epoch ``epoch`` (0-based, counted over resumed runs) shuffles with
    ``derive_seed(seed, epoch)`` and draws the dropout masks of its step
    ``t`` from ``derive_seed(seed, epoch, t)``. The mean loss weights each
    batch by its size, so it is the mean over the samples seen.
    """
    n = plan.x.shape[0]
    size = plan.batch_size
    steps = n_batches(n, size, plan.drop_last)
    seed = derive_seed(plan.seed, epoch)
    x, Y, l2, update = plan.x, plan.Y, plan.l2, plan.optimizer.step
    cur = pair
    total, seen, step = 0.0, 0, 0
    try:
        for step, idx in enumerate(batch_indices(n, size, seed, plan.drop_last)):
            params, state = cur
            rng = np.random.default_rng(derive_seed(seed, step)) if plan.rate else None
            s = plan.setup(params, rng)
            value, g = loss_and_grads_kernel(s, x[idx], Y[idx], l2)
            if not math.isfinite(value):
                raise Halt("loss", cur, step, steps)
            if plan.clip is not None:
                clip_in_place(g, plan.clip)
            total += value * idx.shape[0]
            seen += idx.shape[0]
            new = update(params, pack(s.net, list(g.values()), None, None), state)
            cur = _checked_pair(new, params)
            if on_step is not None:  # progress: a function of the numbers only
                on_step(epoch, step + 1, total / seen)
    except NonFiniteError as e:  # the step's result would not be finite
        raise Halt("update", cur, step, steps) from e
    except KeyboardInterrupt as e:
        raise Halt("interrupt", cur, step, steps) from e
    except Halt:
        raise
    except Exception as e:  # a schedule, a custom optimizer, the OS, ...
        raise Halt("error", cur, step, steps) from e
    return cur, total / seen


def _checked_pair(new: object, params: Frozen[Array]) -> Pair:
    """What a step returned, as values with the run's record.

    The library's own steps return values already; a custom optimizer's
    plain mappings are frozen (and so checked) here.
    """
    if not (isinstance(new, tuple) and len(new) == 2):
        raise TypeError(
            f"optimizer.step must return (params, state), got {type(new).__name__}"
        )
    p, st = new
    p = p if isinstance(p, Frozen) and p._net is not None else _freeze(p, "params")
    st = st if isinstance(st, Frozen) else _freeze(st, "state")
    return retag(p, params.hidden, params.output), st


def _freeze(value: object, what: str) -> Frozen[Any]:
    """A custom step's plain mapping, frozen; a NaN or inf is a NonFiniteError.

    (``freeze`` would call it a ValueError like any other mistake, and the
    run would end as a TrainingFailed instead of a TrainingError.)
    """
    if not isinstance(value, Mapping):
        raise TypeError(
            f"optimizer.step must return (params, state) as mappings; its {what} "
            f"is a {type(value).__name__}"
        )
    for k, v in value.items():
        a = np.asarray(v)
        if a.dtype.kind == "f" and not all_finite(a):
            raise NonFiniteError(
                f"optimizer.step returned {what} whose {k!r} holds NaN or "
                "infinite values"
            )
    return freeze(value)


def evaluate(plan: Plan, params: Frozen[Array]) -> tuple[float | None, float | None]:
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


def last_lr(lr: LearningRate, state: OptState) -> float:
    """The learning rate of the last step taken (the schedule at ``count - 1``)."""
    if not callable(lr):
        return float(lr)
    count = int(state["count"]) if "count" in state else 0
    return float(lr(max(count - 1, 0)))
