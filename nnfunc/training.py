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

**Faults.** Nothing learned is lost: once ``train`` has checked its
arguments, every exception it raises carries ``.params``, ``.opt_state``
and ``.history`` (and ``.result``, the three as a ``TrainResult``) of the
last good state, read-only values of the library's own that pickle, with
the original exception chained as ``__cause__``:

- ``TrainingError`` (a ``FloatingPointError``): a loss, the params or the
  optimizer state would become NaN or infinite. It names the epoch and
  step; the attached state is the one *before* that step, finite. (A
  validation loss that overflows names the epoch, and the state attached
  is the previous epoch's.)
- ``TrainingInterrupted`` (a ``KeyboardInterrupt``, so Ctrl-C still stops a
  script): an interrupt arrived; the state after the last completed step.
- ``CallbackError``: the callback raised; the state of the epoch it was
  called on.
- ``TrainingFailed`` (a ``RuntimeError``, and the base of
  ``CallbackError``): anything else raised after the start: a schedule
  that raises or returns a negative or non-finite rate, a custom
  optimizer, the progress output (a closed pipe), the operating system.

``SystemExit`` and other exceptions that are not ``Exception``s (e.g.
``sys.exit()`` in a callback) pass through unchanged: the program asked to
end. A state attached mid-epoch has ``"epoch"`` = the epochs completed
before it; resuming from it starts that epoch's batches again.
"""

from __future__ import annotations

import functools
import math
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from nnfunc import _epoch as T
from nnfunc import _workspace as W
from nnfunc._checks import check_params
from nnfunc._optstate import with_epoch
from nnfunc._plan import Pair, Plan, prepare
from nnfunc._progress import Reporter, stop_line
from nnfunc._types import Array, Frozen, Hidden, OptState, OutputName, Params, Seed
from nnfunc.batching import n_batches
from nnfunc.optim import Optimizer


class EpochRecord(NamedTuple):
    """What one epoch did.

    ``epoch`` counts from 1 over resumed runs; ``train_loss`` is the mean of
    the batch losses weighted by batch size (the training objective: with
    the L2 penalty and dropout); ``val_loss`` is the plain loss on the
    validation data (no penalty, no dropout) and ``val_accuracy`` its
    accuracy, both None without validation data (accuracy also None for
    ``output="identity"``); ``lr`` is the learning rate of the epoch's last
    step (``Optimizer.lr``, or its schedule's value); ``seconds`` the wall time.
    """

    epoch: int
    train_loss: float
    val_loss: float | None
    val_accuracy: float | None
    lr: float
    seconds: float


#: The per-epoch records of a run, oldest first.
History = tuple[EpochRecord, ...]


class TrainResult(NamedTuple):
    """``(params, opt_state, history)``: unpacks as a 3-tuple.

    ``params`` records the architecture the run used; ``opt_state`` is the
    optimizer's state plus ``"epoch"``, ready to resume from or to feed
    the optimizer's step function.
    """

    params: Frozen[Array]
    opt_state: OptState
    history: History


class _Stopped(BaseException):
    """Base of the exceptions that carry the last good state of a run."""

    def __init__(self, message: str, result: TrainResult) -> None:
        super().__init__(message)
        self.result = result
        self.params, self.opt_state, self.history = result

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled with the arguments of its own __init__ (BaseException's
        # default would call it with the message alone).
        return (type(self), self._init_args())

    def _init_args(self) -> tuple[Any, ...]:
        return (str(self), self.result)


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

    def _init_args(self) -> tuple[Any, ...]:
        return (str(self), self.result, self.epoch, self.step)


class TrainingInterrupted(_Stopped, KeyboardInterrupt):
    """A KeyboardInterrupt arrived during training; see the module docstring."""


class TrainingFailed(_Stopped, RuntimeError):
    """Something raised during training; see the module docstring."""


class CallbackError(TrainingFailed):
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
    hidden: Hidden | None = None,
    output: OutputName | None = None,
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
        hidden: hidden activation name(s); None uses the params' record
            (``"relu"`` for a plain mapping). The returned params record it.
        output: ``"sigmoid"``, ``"softmax"`` or ``"identity"`` (fixes the
            loss); None uses the params' record (``"sigmoid"``).
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
        verbose: show progress on stderr: on a terminal one line, rewritten
            in place (epoch, step, losses, validation accuracy, time spent
            and left); otherwise (a log file) a plain line for the first
            epoch, at most one every 10 s, and the last; then a line when
            early stopping fires. None: only if stderr is a terminal.
        drop_last: skip each epoch's final partial batch.

    Returns:
        ``TrainResult(params, opt_state, history)``, read-only; ``opt_state``
        carries ``"epoch"`` for resuming (see the module docstring).

    Raises:
        TrainingError, TrainingInterrupted, CallbackError, TrainingFailed:
            see the module docstring; each carries the last good state.

    Examples:
        >>> from nnfunc import init_params, predict
        >>> from nnfunc.optim import sgd
        >>> x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        >>> y = np.array([0.0, 1.0, 1.0, 0.0])
        >>> p, state, history = train(init_params([2, 4, 1], hidden="tanh"), x, y,
        ...     optimizer=sgd(0.5), epochs=2000, batch_size=4)
        >>> predict(p, x).tolist(), len(history), int(state["epoch"]), p.hidden
        ([0, 1, 1, 0], 2000, 2000, 'tanh')
    """
    plan, pair = prepare(
        params, x, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
        seed=seed, hidden=hidden, output=output, l2=l2, dropout=dropout,
        clip_norm=clip_norm, validation=validation, patience=patience,
        restore_best=restore_best, opt_state=opt_state, callback=callback,
        verbose=verbose, drop_last=drop_last,
    )  # fmt: skip
    # The library's optimizers run in a workspace allocated once for the
    # whole call; a custom one (no kernel) through its own step.
    kernel = plan.optimizer.kernel
    ws = None if kernel is None else W.workspace(plan, check_params(pair[0]))
    steps = n_batches(plan.x.shape[0], plan.batch_size, plan.drop_last)
    return run_epochs(plan, pair, functools.partial(_epoch, plan, ws), steps)


#: ``run(pair, epoch, on_step) -> (pair, mean training loss)``: one epoch
#: that raises ``nnfunc._epoch.Halt`` when a step fails (see ``run_epochs``).
EpochRunner = Callable[[Pair, int, T.OnStep | None], tuple[Pair, float]]


def run_epochs(plan: Plan, pair: Pair, run: EpochRunner, steps: int) -> TrainResult:
    """The loop around the epochs of ``plan``, each one run by ``run``.

    It keeps the history, the last good and the best state, early stopping,
    the progress output and the callback, and turns every way out into the
    errors of the module docstring. ``steps`` is the number of steps per
    epoch, for the progress line. ``nnfunc.distributed`` runs its epochs
    on a cluster through the same loop.
    """
    records: list[EpochRecord] = []  # appended to: O(1) per epoch, not a copy
    good = best = _Good(pair, plan.first, 0)  # the last finished epoch
    best_loss, wait = math.inf, 0
    stopped: int | None = None  # the epoch early stopping ended the run after
    report: Reporter | None = None
    if plan.loud:  # sys.stderr as it is now (pytest may have replaced it)
        report = Reporter.to(sys.stderr, first=plan.first, last=plan.last, steps=steps)
    try:
        for epoch in range(plan.first, plan.last):
            t0 = time.perf_counter()
            try:
                with np.errstate(all="ignore"):  # faults are reported in words
                    on_step = None if report is None else report.step
                    pair, train_loss = run(pair, epoch, on_step)
                    val_loss, val_acc = T.evaluate(plan, pair[0])
            except T.Halt as h:
                raise _stopped(h, epoch, records, good) from h.__cause__
            if val_loss is not None and not math.isfinite(val_loss):
                raise TrainingError(
                    f"the validation loss is NaN or infinite after epoch "
                    f"{epoch + 1}. {_ADVICE} (from the end of the epoch before).",
                    good.result(records),
                    epoch + 1,
                    None,
                )
            lr_now = T.last_lr(plan.optimizer.lr, pair[1])
            seconds = time.perf_counter() - t0
            record = EpochRecord(
                epoch + 1, train_loss, val_loss, val_acc, lr_now, seconds
            )
            records.append(record)
            good = _Good(pair, epoch + 1, len(records))
            if report is not None:
                report.epoch(record)
            if plan.callback is not None:
                try:
                    plan.callback(record, pair[0])
                except Exception as e:
                    what = f"{type(e).__name__} after epoch {epoch + 1}"
                    raise CallbackError(
                        f"the callback raised {what}", good.result(records)
                    ) from e
            if val_loss is not None and val_loss < best_loss:
                best, best_loss, wait = good, val_loss, 0
            elif plan.patience is not None:
                wait += 1
                if wait >= plan.patience:
                    stopped = epoch + 1
                    break
        restored = plan.restore and best.n_records > 0
        if report is not None:
            kept = records[best.n_records - 1] if best.n_records else None
            report.finish(stop_line(stopped, plan.patience, kept, restored))
        # built in here: an interrupt while building it still keeps the state
        if restored:
            return TrainResult(best.pair[0], best.state(), tuple(records))
        return good.result(records)
    except _Stopped:
        raise
    except KeyboardInterrupt as e:
        raise TrainingInterrupted("training interrupted", good.result(records)) from e
    except Exception as e:  # the progress output, the OS, ...
        raise TrainingFailed(
            f"training failed after {len(records)} epochs of this call "
            f"({type(e).__name__}: {e}); the attached .params, .opt_state and "
            ".history are the last good ones",
            good.result(records),
        ) from e
    finally:
        if report is not None:  # a traceback starts on a line of its own
            report.abandon()


def _epoch(
    plan: Plan,
    ws: W.Workspace | None,
    pair: Pair,
    epoch: int,
    on_step: T.OnStep | None,
) -> tuple[Pair, float]:
    """One epoch: in the workspace, or through the optimizer's own step."""
    if ws is None:
        return T.run_epoch(plan, pair, epoch, on_step)
    return W.run_epoch(plan, ws, pair, epoch, on_step)


class _Good(NamedTuple):
    """A state to hand back: the pair, its epoch, how many records go with it."""

    pair: Pair
    epoch: int
    n_records: int

    def state(self) -> OptState:
        return with_epoch(self.pair[1], self.epoch)

    def result(self, records: list[EpochRecord]) -> TrainResult:
        return TrainResult(self.pair[0], self.state(), tuple(records[: self.n_records]))


def _stopped(
    h: T.Halt, epoch: int, records: list[EpochRecord], good: _Good
) -> BaseException:
    """The public exception for a Halt in (0-based) epoch ``epoch``."""
    partial = _Good(h.pair, epoch, good.n_records).result(records)
    where = f"epoch {epoch + 1}, step {h.step + 1} of {h.steps}"
    if h.kind == "interrupt":
        return TrainingInterrupted(f"training interrupted during {where}", partial)
    if h.kind == "error":
        cause = h.__cause__
        return TrainingFailed(
            f"training failed at {where} ({type(cause).__name__}: {cause}); the "
            "attached .params, .opt_state and .history are from before that step",
            partial,
        )
    if h.kind == "loss":
        what = f"the loss is NaN or infinite at {where}"
    else:
        what = f"the update at {where} would make the params or state NaN or inf"
    return TrainingError(
        f"{what}. {_ADVICE} (from before that step).", partial, epoch + 1, h.step + 1
    )


def _line(r: EpochRecord, last: int) -> str:
    """The old one-line-per-epoch text (``nnfunc.distributed`` still prints it).

    ``train`` itself reports through ``nnfunc._progress.Reporter``.
    """
    val = "" if r.val_loss is None else f"  val_loss {r.val_loss:.4f}"
    acc = "" if r.val_accuracy is None else f"  val_acc {r.val_accuracy:.2%}"
    return (
        f"epoch {r.epoch}/{last}  loss {r.train_loss:.4f}{val}{acc}  {r.seconds:.2f}s"
    )
