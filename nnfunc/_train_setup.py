"""Validation for ``nnfunc.train``: every argument is checked here, once.

``prepare`` turns the arguments of one ``train`` call into a ``Plan`` (the
validated data and step options the inner loop trusts), the starting
``(params, state)`` pair, the epoch to start from and the loop's options.
"""

from __future__ import annotations

import functools
import numbers
import sys
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt

from nnfunc._checks import (
    check_flag,
    check_float,
    check_int,
    check_seed,
    check_x,
    check_y,
)
from nnfunc._epoch import Pair, Plan
from nnfunc._optstate import check_like
from nnfunc._types import (
    Array,
    Hidden,
    LearningRate,
    OptState,
    OutputName,
    Params,
    Schedule,
    Seed,
)
from nnfunc.forward import Setup, setup
from nnfunc.optim import Optimizer


class Options(NamedTuple):
    """How the epoch loop runs: count, early stopping, reporting."""

    first: int  # the epoch to start from (0-based, from the state)
    last: int  # one past the last epoch to run
    patience: int | None
    restore: bool  # restore the best epoch (only with patience)
    loud: bool
    callback: Callable[..., None] | None
    lr: LearningRate | None


def prepare(
    params: Params,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int,
    seed: Seed,
    hidden: Hidden,
    output: OutputName,
    l2: float,
    dropout: float,
    clip_norm: float | None,
    validation: tuple[npt.ArrayLike, npt.ArrayLike] | None,
    patience: int | None,
    restore_best: bool,
    opt_state: OptState | None,
    callback: Callable[..., None] | None,
    verbose: bool | None,
    drop_last: bool,
) -> tuple[Plan, Pair, Options]:
    """Validate every argument of ``train`` (see there) once."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "optimizer must be an nnfunc.optim.Optimizer such as "
            f"nnfunc.adam(1e-3), got {type(optimizer).__name__}"
        )
    s = setup(params, hidden, output, dropout)
    net, k = s.net, s.net.Ws[-1].shape[1]
    xs = check_x(x, net)
    Y = check_y(y, s.output, xs.shape[0], k, net.dtype)
    size = check_int(batch_size, "batch_size", lo=1)
    if check_flag(drop_last, "drop_last") and size > xs.shape[0]:
        raise ValueError(
            f"batch_size={size} with drop_last=True leaves no batch of the "
            f"{xs.shape[0]} samples; lower batch_size or set drop_last=False"
        )
    clip = None
    if clip_norm is not None:
        clip = check_float(clip_norm, "clip_norm")
        if clip == 0.0:
            raise ValueError("clip_norm must be > 0 (or None for no clipping), got 0")
    val = _validation(validation, s, k)
    if patience is not None:
        patience = check_int(patience, "patience", lo=1)
        if val is None:
            raise ValueError("patience needs validation=(x_val, y_val) to watch")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    # None: print only to a terminal (sys.stderr as it is now, e.g. under pytest)
    loud = sys.stderr.isatty() if verbose is None else check_flag(verbose, "verbose")
    restore = check_flag(restore_best, "restore_best") and patience is not None
    ref = optimizer.init(params)
    state, first = (ref, 0) if opt_state is None else check_opt_state(opt_state, ref)
    L = len(net.Ws)
    plan = Plan(
        s.acts, s.output, s.rate, net.dtype,
        tuple(f"W{l}" for l in range(1, L + 1)),
        tuple(f"b{l}" for l in range(1, L + 1)),
        xs, Y, val, check_float(l2, "l2"), clip, size, drop_last, check_seed(seed),
        optimizer.update,
    )  # fmt: skip
    last = first + check_int(epochs, "epochs", lo=1)
    lr = learning_rate(optimizer)
    return (
        plan,
        (params, state),
        Options(first, last, patience, restore, loud, callback, lr),
    )


def _validation(validation: object, s: Setup, k: int) -> tuple[Array, Array] | None:
    if validation is None:
        return None
    if not isinstance(validation, tuple) or len(validation) != 2:
        raise TypeError(
            f"validation must be a pair (x_val, y_val), got {type(validation).__name__}"
        )
    xv = check_x(validation[0], s.net, "validation[0]")
    Yv = check_y(validation[1], s.output, xv.shape[0], k, s.net.dtype, "validation[1]")
    return xv, Yv


def check_opt_state(opt_state: object, ref: OptState) -> tuple[OptState, int]:
    """Split a state from ``train`` into the optimizer's part and the epoch.

    ``ref`` is ``optimizer.init(params)``: the state must have its keys (plus
    an optional ``"epoch"``), shapes and dtypes, and finite values.
    """
    if not isinstance(opt_state, Mapping):
        raise TypeError(
            "opt_state must be a mapping as returned by train (or optimizer.init), "
            f"got {type(opt_state).__name__}"
        )
    epoch = 0
    if "epoch" in opt_state:
        e = opt_state["epoch"]
        if np.ndim(e) != 0 or np.asarray(e).dtype.kind not in "iu":
            raise TypeError(f"opt_state['epoch'] must be a 0-d int array, got {e!r}")
        if int(e) < 0:
            raise ValueError(f"opt_state['epoch'] must be >= 0, got {int(e)}")
        epoch = int(e)
    mine = {k: v for k, v in opt_state.items() if k != "epoch"}
    spec = {k: (r.shape, r.dtype) for k, r in ref.items()}
    check_like(mine, spec, "opt_state", "(as returned by train, or optimizer.init)")
    return MappingProxyType({k: opt_state[k] for k in ref}), epoch


def learning_rate(optimizer: object) -> LearningRate | None:
    """The learning rate (or schedule) an optimizer was built with, if it shows.

    Read from an ``lr`` attribute, else from the ``lr`` keyword bound into
    ``optimizer.update`` (the constructors of ``nnfunc.optim`` bind it with
    ``functools.partial``); None when neither is there.
    """
    lr = getattr(optimizer, "lr", None)
    update = getattr(optimizer, "update", None)
    if lr is None and isinstance(update, functools.partial):
        lr = update.keywords.get("lr")
    if callable(lr):
        return cast(Schedule, lr)
    if isinstance(lr, numbers.Real) and not isinstance(lr, bool):
        return float(lr)
    return None
