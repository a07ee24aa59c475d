"""The plan of one ``train`` call: every argument checked once, up front.

``prepare`` turns the arguments of ``nnfunc.train`` into a ``Plan``: the
validated data and step options that the epoch loop (``nnfunc._epoch``)
trusts without checking again, the starting ``(params, state)`` pair as
values of the library's own (copies of anything the caller holds), and the
options of the loop around the epochs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from nnfunc._checks import (
    check_flag,
    check_float,
    check_int,
    check_positive,
    check_seed,
    check_x,
    check_y,
)
from nnfunc._optstate import check_like
from nnfunc._types import Array, Frozen, Hidden, OptState, OutputName, Params, Seed
from nnfunc.activations import Activation
from nnfunc.forward import Setup, setup
from nnfunc.optim import Optimizer
from nnfunc.params import freeze, retag

#: Parameters with the optimizer state that goes with them.
Pair = tuple[Frozen[Array], Frozen[npt.NDArray[Any]]]


class Plan(NamedTuple):
    """The validated inputs of one ``train`` call.

    ``hidden``/``output`` are the architecture the run uses (and records on
    the params it returns); ``first`` and ``last`` bound the epochs to run
    (0-based, ``first`` from the state); ``loud`` says whether to print.
    """

    acts: tuple[Activation, ...]
    hidden: Hidden
    output: OutputName
    rate: float
    x: Array
    Y: Array
    val: tuple[Array, Array] | None
    l2: float
    clip: float | None
    batch_size: int
    drop_last: bool
    seed: int | np.random.SeedSequence
    optimizer: Optimizer
    first: int
    last: int
    patience: int | None
    restore: bool
    loud: bool
    callback: Callable[..., None] | None

    def setup(self, params: Frozen[Array], rng: np.random.Generator | None) -> Setup:
        """The kernels' view of a value ``train`` built (read, not checked)."""
        net = params._net
        assert net is not None  # every params value train builds has one
        return Setup(net, self.acts, self.output, self.rate, rng, self.hidden)


def prepare(
    params: Params,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int,
    seed: Seed,
    hidden: Hidden | None,
    output: OutputName | None,
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
) -> tuple[Plan, Pair]:
    """Validate every argument of ``train`` (see there) once."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "optimizer must be an nnfunc.Optimizer such as "
            f"nnfunc.adam(1e-3), got {type(optimizer).__name__}"
        )
    if not callable(optimizer.lr):  # reported per epoch: a float, or a schedule
        check_float(optimizer.lr, "optimizer.lr")
    s = setup(params, hidden, output, dropout)
    net, k = s.net, s.net.sizes[-1]
    xs = check_x(x, net)
    Y = check_y(y, s.output, xs.shape[0], k, net.dtype)
    size = check_int(batch_size, "batch_size", lo=1)
    if check_flag(drop_last, "drop_last") and size > xs.shape[0]:
        raise ValueError(
            f"batch_size={size} with drop_last=True leaves no batch of the "
            f"{xs.shape[0]} samples; lower batch_size or set drop_last=False"
        )
    clip = None if clip_norm is None else check_positive(clip_norm, "clip_norm")
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
    start = retag(
        params if isinstance(params, Frozen) else freeze(params), s.hidden, s.output
    )
    ref = optimizer.init(start)
    if not isinstance(ref, Frozen):  # a custom optimizer's plain mapping
        ref = freeze(ref)
    state, first = (ref, 0) if opt_state is None else check_opt_state(opt_state, ref)
    plan = Plan(
        s.acts, s.hidden, s.output, s.rate, xs, Y, val, check_float(l2, "l2"),
        clip, size, drop_last, check_seed(seed), optimizer,
        first, first + check_int(epochs, "epochs", lo=1), patience, restore, loud,
        callback,
    )  # fmt: skip
    return plan, (start, state)


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


def check_opt_state(
    opt_state: object, ref: OptState
) -> tuple[Frozen[npt.NDArray[Any]], int]:
    """A state to resume from, as a value of the library's own, and its epoch.

    ``ref`` is ``optimizer.init(params)``: the state must have its keys (plus
    an optional ``"epoch"``, the epochs completed), shapes and dtypes, and
    finite values. Returned without ``"epoch"`` (a plain mapping copied).
    """
    if not isinstance(opt_state, Mapping):
        raise TypeError(
            "opt_state must be a mapping as returned by train (or optimizer.init), "
            f"got {type(opt_state).__name__}"
        )
    spec = {k: (r.shape, r.dtype) for k, r in ref.items()}
    made_by = "(as returned by train, or optimizer.init)"
    check_like(opt_state, spec, "opt_state", made_by)
    if "epoch" not in opt_state:
        return (opt_state if isinstance(opt_state, Frozen) else freeze(opt_state)), 0
    # train keeps "epoch" itself: the optimizer sees the state init gave it
    # (a fresh run's and a resumed run's steps see the same keys)
    state = {k: v for k, v in opt_state.items() if k != "epoch"}
    epoch = int(opt_state["epoch"])
    if isinstance(opt_state, Frozen):  # read-only arrays, shared
        return Frozen._wrap(state, slots=opt_state._slots), epoch
    return freeze(state), epoch
