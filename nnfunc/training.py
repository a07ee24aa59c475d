r"""The training loop: mini-batch steps folded over epochs, as one function.

``train`` is a fold: starting from ``(params, state)``, each step maps

.. math:: (\theta, s) \mapsto \mathrm{update}(\theta,\ \nabla_\theta L_B(\theta),\ s)

over the batches ``B`` of each epoch (see ``nnfunc.batching``), and returns
the final pair with a per-epoch history. Everything is validated once, at
the start; the loop itself runs the kernels on validated arrays.

**Resuming.** The returned ``opt_state`` is the optimizer's state plus one
more key, ``"epoch"`` (0-d int64, epochs completed), which ``train`` strips
before the optimizer sees it. Shuffling and dropout masks are pure functions
of ``(seed, epoch, step)``, so ``train(p_k, x, y, epochs=m, opt_state=s_k,
...)`` continues a run stopped after ``k`` epochs bit for bit, as if it had
run ``k + m`` epochs at once. (Early stopping's memory of the best epoch does
not carry over between calls.)

**Faults.** Nothing learned is lost: every abnormal stop raises an exception
carrying ``.params``, ``.opt_state`` and ``.history`` (and ``.result``, the
three as a ``TrainResult``) of the last good state:

- ``TrainingError`` (a ``FloatingPointError``): a loss or the params became
  NaN or infinite. It names the epoch and step; the attached state is the
  one *before* that step, finite. (A validation loss that overflows names
  the epoch, and the state attached is the previous epoch's.)
- ``TrainingInterrupted`` (a ``KeyboardInterrupt``, so Ctrl-C still stops a
  script): an interrupt arrived; the state after the last completed step
  (with plain ``sgd``, whose fused step updates ``train``'s own copy of the
  params in place, the state at the start of the interrupted epoch).
- ``CallbackError`` (a ``RuntimeError``): the callback raised; the state of
  the epoch it was called on. The original error is the ``__cause__``.

A state attached mid-epoch has ``"epoch"`` = the epochs completed before it;
resuming from it starts that epoch's batches again.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from nnfunc import _epoch as T
from nnfunc._train_setup import prepare
from nnfunc._types import Hidden, OptState, OutputName, Params, Seed
from nnfunc.optim import Optimizer


class EpochRecord(NamedTuple):
    """What one epoch did.

    ``epoch`` counts from 1 over resumed runs; ``train_loss`` is the mean of
    the batch losses weighted by batch size (the training objective: with
    the L2 penalty and dropout); ``val_loss`` is the plain loss on the
    validation data (no penalty, no dropout) and ``val_accuracy`` its
    accuracy, both None without validation data (accuracy also None for
    ``output="identity"``); ``lr`` is the learning rate of the epoch's last
    step (None if the optimizer does not show it); ``seconds`` the wall time.
    """

    epoch: int
    train_loss: float
    val_loss: float | None
    val_accuracy: float | None
    lr: float | None
    seconds: float


#: The per-epoch records of a run, oldest first.
History = tuple[EpochRecord, ...]


class TrainResult(NamedTuple):
    """``(params, opt_state, history)``: unpacks as a 3-tuple."""

    params: Params
    opt_state: OptState
    history: History


class _Stopped(BaseException):
    """Base of the exceptions that carry the last good state of a run."""

    def __init__(self, message: str, result: TrainResult) -> None:
        super().__init__(message)
        self.result = result
        self.params, self.opt_state, self.history = result


class TrainingError(_Stopped, FloatingPointError):
    """A loss or the params became NaN or infinite; see the module docstring.

    ``epoch`` (from 1) and ``step`` (from 1 within the epoch; None when only
    the epoch is known) name where; the attached state is from before it.
    """

    def __init__(
        self, message: str, result: TrainResult, epoch: int, step: int | None
    ) -> None:
        super().__init__(message, result)
        self.epoch, self.step = epoch, step


class TrainingInterrupted(_Stopped, KeyboardInterrupt):
    """A KeyboardInterrupt arrived during training; see the module docstring."""


class CallbackError(_Stopped, RuntimeError):
    """The per-epoch callback raised; see the module docstring."""


#: ``callback(record, params)``, called after each epoch.
Callback = Callable[[EpochRecord, Params], None]

_ADVICE = (
    "Try a smaller learning rate, gradient clipping (clip_norm=...) or inputs "
    "scaled to unit variance. The attached .params, .opt_state and .history are "
    "the last finite ones"
)


def train(
    params: Params,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int = 32,
    seed: Seed = 0,
    hidden: Hidden = "relu",
    output: OutputName = "sigmoid",
    l2: float = 0.0,
    dropout: float = 0.0,
    clip_norm: float | None = None,
    validation: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    patience: int | None = None,
    restore_best: bool = True,
    opt_state: OptState | None = None,
    callback: Callback | None = None,
    verbose: bool | None = None,
    drop_last: bool = False,
) -> TrainResult:
    """Train ``params`` on ``(x, y)`` with mini-batch steps of ``optimizer``.

    Args:
        params: the starting ``W1, b1, ..., WL, bL`` (never modified).
        x: inputs, ``(n, n_0)``; cast once to the params' dtype.
        y: targets for ``output``, as for ``nnfunc.loss``: ``(n,)`` or ``(n, k)``.
        optimizer: e.g. ``nnfunc.adam(1e-3)``.
        epochs: passes over the data to run now, ``>= 1``.
        batch_size: samples per step, ``>= 1``.
        seed: shuffling and dropout seed (``nnfunc.batching.derive_seed``).
        hidden: hidden activation name(s).
        output: ``"sigmoid"``, ``"softmax"`` or ``"identity"`` (fixes the loss).
        l2: weight of the penalty ``(l2/2) sum ||W||^2``.
        dropout: drop probability of hidden units during training steps.
        clip_norm: if given, clip each gradient to this global norm (> 0).
        validation: ``(x_val, y_val)``, evaluated after every epoch.
        patience: stop after this many epochs without a lower validation
            loss (needs ``validation``).
        restore_best: with ``patience``, return the params and state of the
            epoch with the lowest validation loss (the history stays whole).
        opt_state: a state returned by ``train`` to resume from, or one from
            ``optimizer.init``; by default ``optimizer.init(params)``.
        callback: ``callback(record, params)`` after each epoch.
        verbose: print a line per epoch to stderr; None prints only if
            stderr is a terminal.
        drop_last: skip each epoch's final partial batch.

    Returns:
        ``TrainResult(params, opt_state, history)``, read-only; ``opt_state``
        carries ``"epoch"`` for resuming (see the module docstring).

    Raises:
        TrainingError, TrainingInterrupted, CallbackError: see the module
            docstring; each carries the last good state.

    Examples:
        >>> from nnfunc import init_params, predict
        >>> from nnfunc.optim import sgd
        >>> x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        >>> y = np.array([0.0, 1.0, 1.0, 0.0])
        >>> p, state, history = train(init_params([2, 4, 1], seed=0), x, y,
        ...     optimizer=sgd(0.5), epochs=2000, batch_size=4, hidden="tanh")
        >>> predict(p, x, hidden="tanh").tolist(), len(history), int(state["epoch"])
        ([0, 1, 1, 0], 2000, 2000)
    """
    plan, pair, o = prepare(
        params, x, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
        seed=seed, hidden=hidden, output=output, l2=l2, dropout=dropout,
        clip_norm=clip_norm, validation=validation, patience=patience,
        restore_best=restore_best, opt_state=opt_state, callback=callback,
        verbose=verbose, drop_last=drop_last,
    )  # fmt: skip
    result = best = TrainResult(pair[0], T.with_epoch(pair[1], o.first), ())
    best_loss, wait = np.inf, 0
    try:
        for epoch in range(o.first, o.last):
            t0 = time.perf_counter()
            try:
                with np.errstate(all="ignore"):  # faults are reported in words
                    pair, train_loss = T.run_epoch(plan, pair, epoch)
                    val_loss, val_acc = T.evaluate(plan, pair[0])
            except T.Halt as h:
                raise _stopped(h, epoch, result) from h.__cause__
            if val_loss is not None and not math.isfinite(val_loss):
                raise TrainingError(
                    f"the validation loss is NaN or infinite after epoch "
                    f"{epoch + 1}. {_ADVICE} (from the end of the epoch before).",
                    result,
                    epoch + 1,
                    None,
                )
            lr_now = T.last_lr(o.lr, pair[1])
            record = EpochRecord(
                epoch + 1,
                train_loss,
                val_loss,
                val_acc,
                lr_now,
                time.perf_counter() - t0,
            )
            history = (*result.history, record)
            result = TrainResult(pair[0], T.with_epoch(pair[1], epoch + 1), history)
            if o.loud:
                print(_line(record, o.last), file=sys.stderr, flush=True)
            if o.callback is not None:
                try:
                    o.callback(record, result.params)
                except Exception as e:
                    what = f"{type(e).__name__} after epoch {epoch + 1}"
                    raise CallbackError(f"the callback raised {what}", result) from e
            if val_loss is not None and val_loss < best_loss:
                best, best_loss, wait = result, val_loss, 0
            elif o.patience is not None:
                wait += 1
                if wait >= o.patience:
                    break
    except KeyboardInterrupt as e:
        if isinstance(e, TrainingInterrupted):
            raise
        raise TrainingInterrupted("training interrupted", result) from e
    if o.restore and best.history:
        return TrainResult(best.params, best.opt_state, result.history)
    return result


def _stopped(h: T.Halt, epoch: int, result: TrainResult) -> BaseException:
    """The public exception for a Halt in (0-based) epoch ``epoch``."""
    params, state = h.pair
    partial = TrainResult(params, T.with_epoch(state, epoch), result.history)
    where = f"epoch {epoch + 1}, step {(h.step or 0) + 1} of {h.steps}"
    if h.kind == "interrupt":
        if h.step is None:  # the fused SGD epoch hands back the epoch's start
            where = f"epoch {epoch + 1} (the state is from the start of it)"
        return TrainingInterrupted(f"training interrupted during {where}", partial)
    if h.kind == "loss":
        what = f"the loss is NaN or infinite at {where}"
    elif h.kind == "update":
        what = f"the update at {where} made the params NaN or infinite"
    else:
        what = f"the params became NaN or infinite during epoch {epoch + 1}"
    before = "the start of that epoch" if h.step is None else "that step"
    step = None if h.step is None else h.step + 1
    return TrainingError(
        f"{what}. {_ADVICE} (from before {before}).", partial, epoch + 1, step
    )


def _line(r: EpochRecord, last: int) -> str:
    """One progress line: epoch, loss, validation, seconds."""
    val = "" if r.val_loss is None else f"  val_loss {r.val_loss:.4f}"
    acc = "" if r.val_accuracy is None else f"  val_acc {r.val_accuracy:.2%}"
    return (
        f"epoch {r.epoch}/{last}  loss {r.train_loss:.4f}{val}{acc}  {r.seconds:.2f}s"
    )
