"""Shared plumbing of the optimizers: state layout, checks, learning rates.

A state is a read-only mapping: ``"count"`` (a 0-d int64 array, the steps
taken) and one slot per parameter, keyed ``"{slot}.{param}"`` (``"m.W1"``,
``"v.b2"``), in the params' dtype.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from nnfunc._checks import (
    Net,
    all_finite,
    check_float,
    check_params,
    check_same_structure,
)
from nnfunc._trust import remember
from nnfunc._types import Grads, LearningRate, OptState, Params
from nnfunc.params import freeze_owned

T = TypeVar("T")


def new_state(count: int, slots: dict[str, npt.NDArray[Any]]) -> OptState:
    """Freeze new slot arrays together with the step count."""
    slots["count"] = np.array(count, dtype=np.int64)
    return freeze_owned(slots)


def init_slots(params: Params, slots: str) -> OptState:
    """Zero slots of the params' shapes and dtype, count 0."""
    net = check_params(params)
    return new_state(
        0,
        {f"{s}.{k}": np.zeros(p.shape, p.dtype) for s in slots for k, p in net.items()},
    )


def check_state(net: Net, state: object, slots: str, owner: str) -> None:
    """Check the keys, count, shapes, dtypes and values of an optimizer state."""
    spec = {f"{s}.{k}": (p.shape, net.dtype) for s in slots for k, p in net.items()}
    spec["count"] = ((), np.dtype(np.int64))
    check_like(state, spec, "state", f"(as returned by {owner}_init(params))")


#: What a state must hold: key -> (shape, dtype).
Spec = Mapping[str, tuple[tuple[int, ...], np.dtype[Any]]]


def check_like(state: object, spec: Spec, name: str, made_by: str) -> None:
    """Check that ``state`` holds exactly ``spec``'s keys, shapes and dtypes.

    Float slots must be finite and integer counters (0-d) at least 0. Used
    by every optimizer's step and by ``train``'s ``opt_state``.
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"{name} must be a mapping {made_by}, got {type(state).__name__}"
        )
    if len(state) != len(spec) or not all(k in state for k in spec):
        got = ", ".join(sorted(map(repr, state)))
        raise ValueError(
            f"{name} must have keys {sorted(spec)} exactly {made_by}; got [{got}] "
            "(a state from another optimizer or another network?)"
        )
    for key, (shape, dtype) in spec.items():
        a = state[key]
        counter = dtype.kind in "iu"
        right = isinstance(a, np.ndarray) and a.dtype == dtype
        if not right or (counter and a.shape != shape):
            got = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
            want = f"0-d {dtype}" if counter else f"{dtype}"
            raise TypeError(
                f"{name}[{key!r}] must be a {want} array {made_by}, got {got!r}"
            )
        if a.shape != shape:
            raise ValueError(
                f"{name}[{key!r}] has shape {a.shape} but params has {shape}"
            )
        if counter and int(a) < 0:
            raise ValueError(f"{name}[{key!r}] must be >= 0, got {int(a)}")
        if not counter and not all_finite(a):
            raise ValueError(f"{name}[{key!r}] has NaN or infinite values")


def checked(
    params: Params, grads: Grads, state: OptState, slots: str, owner: str
) -> tuple[Params, Grads]:
    """Validate a step's inputs; grads come back cast to the params' dtype."""
    net = check_params(params)
    g = check_same_structure(net, grads, "grads")
    check_state(net, state, slots, owner)
    return dict(net.items()), dict(g.items())


def check_lr(lr: object) -> LearningRate:
    """A finite ``lr >= 0`` or a schedule (any callable ``step -> lr``)."""
    if callable(lr):
        return lr  # its values are checked at each step, by _lr_at
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(
            f"lr must be a float >= 0 or a schedule, got {type(lr).__name__}"
        )
    return check_float(lr, "lr")


def lr_at(lr: LearningRate, count: int) -> float:
    """The learning rate of the step taken when ``count`` steps are done."""
    if not callable(lr):
        return lr
    return check_float(lr(count), f"lr({count}), the schedule's value at step {count},")


def check_beta(value: object, name: str) -> float:
    return check_float(value, name, lo=0.0, hi=1.0, hi_open=True)


def check_positive(value: object, name: str) -> float:
    v = check_float(value, name)
    if v == 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def finite_step(kernel: Callable[[], tuple[Params, T]]) -> tuple[Params, T]:
    """Run a public step's kernel so that an overflow is an error, not inf.

    The inputs were checked finite, so only an overflow (a step too large
    for the dtype) can make a non-finite result; NumPy reports it here as
    an error instead of a warning, and the new params are then known valid.
    """
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out = kernel()
    except FloatingPointError as e:  # divide: an eps that rounds to 0 in float32
        raise ValueError(
            f"the step overflowed ({e}): the new params would not be finite; "
            "use a smaller lr (or an eps that float32 can hold, >= 1e-38)"
        ) from None
    remember(out[0])
    return out
