"""Shared plumbing of the optimizers: the network as one array, states, checks.

Every optimizer's arithmetic is written once, for one array, as an
``*_into`` kernel: ``kernel(p, g, slots, eta, t, out, new)`` reads the
parameters ``p``, the gradient ``g`` and the state's slot arrays (``{"m":
m}`` for momentum) and writes the new parameters into ``out`` and the new
slots into ``new``, arrays its caller allocated (never its inputs). ``run``
allocates them, so a public step returns new values; ``train`` passes
buffers of its own workspace instead (``nnfunc._workspace``). Either way
the kernel runs once on the whole network treated as one array: a
``Frozen`` value keeps ``W1, b1, W2, ...`` as views of one buffer
(``Net.flat``). (A plain mapping is copied into such a buffer first.)
An optimizer names its kernel through a factory ``kernel_for(net)``, so a
kernel may depend on the layout (AdamW decays weights, not biases).

A state is a ``Frozen`` mapping: one slot per parameter, keyed
``"{slot}.{param}"`` (``"m.W1"``, ``"v.b2"``), in the params' dtype, then
``"count"`` (a 0-d int64 array, the steps taken), then, in a state from
``train``, ``"epoch"`` (0-d int64, epochs completed), which a step keeps.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from nnfunc._checks import (
    NonFiniteError,
    all_finite,
    as_array,
    check_float,
    check_params,
    check_same_structure,
)
from nnfunc._types import Array, Frozen, Grads, LearningRate, Net, OptState, Params
from nnfunc.forward import record_of
from nnfunc.params import wrap_flat

#: ``kernel(p, g, slots, eta, t, out, new)`` on whole-network arrays: writes
#: the new params into ``out`` and each new slot into ``new[name]``; ``t``
#: counts steps from 1. It never writes to ``p``, ``g`` or ``slots``.
Kernel = Callable[
    [Array, Array, dict[str, Array], float, int, Array, dict[str, Array]], None
]

#: ``kernel_for(net) -> Kernel``: an optimizer's kernel for a network's layout.
KernelFor = Callable[[Net], Kernel]


def fixed(kernel: Kernel) -> KernelFor:
    """The factory of a kernel that does not depend on the layout."""
    return partial(_fixed, kernel)


def _fixed(kernel: Kernel, net: Net) -> Kernel:
    return kernel

#: The optional counters a state may carry besides its slots.
_COUNTERS = ("count", "epoch")


def flat_of(net: Net) -> Array:
    """The network's arrays as one buffer (``W1, b1, ...``).

    A ``Frozen`` value's own buffer (read-only, not copied), else a new copy.
    """
    if net.flat is not None:
        return net.flat
    return np.concatenate([a.ravel() for _, a in net.items()], dtype=net.dtype)


def slot_of(state: OptState, name: str, net: Net) -> Array:
    """Slot ``name`` of a checked state as one buffer laid out like ``net``."""
    if isinstance(state, Frozen) and state._slots is not None:
        return state._slots[name]
    keys = net.keys()  # W1, b1, W2, ... (a method of Net, not a dict's)
    parts = [np.asarray(state[f"{name}.{k}"]).ravel() for k in keys]
    return np.concatenate(parts, dtype=net.dtype)


def new_state(
    net: Net, count: int, slots: dict[str, Array], epoch: int | None = None
) -> Frozen[npt.NDArray[Any]]:
    """Freeze new slot buffers (laid out like ``net``) with the counters."""
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, buffer in slots.items():
        start = 0
        for k, a in net.items():
            arrays[f"{name}.{k}"] = buffer[start : start + a.size].reshape(a.shape)
            start += a.size
    arrays["count"] = np.array(count, dtype=np.int64)
    if epoch is not None:
        arrays["epoch"] = np.array(epoch, dtype=np.int64)
    return Frozen._wrap(arrays, slots=slots)


def with_epoch(
    state: Frozen[npt.NDArray[Any]], epoch: int
) -> Frozen[npt.NDArray[Any]]:
    """The state with its ``"epoch"`` counter (epochs completed) set."""
    arrays = {k: v for k, v in state.items() if k != "epoch"}  # read-only, shared
    arrays["epoch"] = np.array(epoch, dtype=np.int64)
    return Frozen._wrap(arrays, slots=state._slots)


def init_slots(params: Params, slots: str) -> Frozen[npt.NDArray[Any]]:
    """Zero slots of the params' shapes and dtype, count 0."""
    net = check_params(params)
    size = sum(a.size for _, a in net.items())
    return new_state(net, 0, {s: np.zeros(size, net.dtype) for s in slots})


def check_state(net: Net, state: object, slots: str, owner: str) -> None:
    """Check the keys, count, shapes, dtypes and values of an optimizer state.

    A ``Frozen`` state the library built for a network of these sizes and
    dtype is read, not checked again (its values are checked after the step):
    only its keys, shapes and counters are compared, O(layers). Every key's
    shape, not just the first layer's: two networks can share ``W1`` and the
    total size and still differ (``[3, 4, 2, 3]`` and ``[3, 4, 3, 1]``).
    """
    if isinstance(state, Frozen) and state._slots is not None:
        own = state._slots
        size = net.flat.size if net.flat is not None else None
        shapes = {f"{s}.{k}": a.shape for s in slots for k, a in net.items()}
        counters = [c for c in _COUNTERS if c in state]
        if (
            own.keys() == set(slots)
            and all(b.dtype == net.dtype and b.size == size for b in own.values())
            and "count" in counters
            and len(state) == len(shapes) + len(counters)
            and all(k in state and state[k].shape == v for k, v in shapes.items())
            and all(int(state[c]) >= 0 for c in counters)  # written? check all
        ):
            return
    spec = {f"{s}.{k}": (p.shape, net.dtype) for s in slots for k, p in net.items()}
    spec["count"] = ((), np.dtype(np.int64))
    check_like(state, spec, "state", f"(as returned by {owner}_init(params))")


#: What a state must hold: key -> (shape, dtype).
Spec = Mapping[str, tuple[tuple[int, ...], np.dtype[Any]]]


def check_like(state: object, spec: Spec, name: str, made_by: str) -> None:
    """Check that ``state`` holds exactly ``spec``'s keys, shapes and dtypes.

    An ``"epoch"`` counter may be there too (a state from ``train``). Float
    slots must be finite and integer counters (0-d) at least 0. Used by
    every optimizer's step and by ``train``'s ``opt_state``.
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"{name} must be a mapping {made_by}, got {type(state).__name__}"
        )
    want = dict(spec)
    if "epoch" in state and "epoch" not in want:
        want["epoch"] = ((), np.dtype(np.int64))
    missing = sorted(k for k in want if k not in state)
    extra = sorted(str(k) for k in state if k not in want)
    if missing or extra:
        said = []
        if missing:
            said.append(f"missing {missing}")
        if extra:
            said.append(f"unexpected {extra}")
        raise ValueError(
            f"{name} must have keys {sorted(want)} exactly {made_by}; it has "
            f"{' and '.join(said)}"
        )
    for key, (shape, dtype) in want.items():
        a = state[key]
        if isinstance(a, np.ndarray):
            as_array(a, f"{name}[{key!r}]")  # refuses masked arrays and matrices
        counter = key in _COUNTERS
        if counter:
            ok = isinstance(a, np.ndarray) and a.dtype.kind in "iu" and a.shape == ()
        else:
            ok = isinstance(a, np.ndarray) and a.dtype == dtype
        if not ok:
            got = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
            want_s = "0-d integer" if counter else f"{dtype}"
            raise TypeError(
                f"{name}[{key!r}] must be a {want_s} array {made_by}, got {got!r}"
            )
        if a.shape != shape:
            raise ValueError(
                f"{name}[{key!r}] has shape {a.shape} but params has {shape}"
            )
        if counter and int(a) < 0:
            raise ValueError(f"{name}[{key!r}] must be >= 0, got {int(a)}")
        if not counter and not all_finite(a):
            raise ValueError(f"{name}[{key!r}] has NaN or infinite values")


def check_lr(lr: object) -> LearningRate:
    """A finite ``lr >= 0`` or a schedule (any callable ``step -> lr``)."""
    if callable(lr):
        return lr  # its values are checked at each step, by lr_at
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


def step(
    kernel_for: KernelFor,
    slots: str,
    owner: str,
    params: Params,
    grads: Grads,
    state: OptState,
    lr: LearningRate,
) -> tuple[Frozen[Array], Frozen[npt.NDArray[Any]]]:
    """Validate one step's inputs, run ``kernel`` on the network as one array.

    The new state keeps an ``"epoch"`` counter if the old one had it.
    """
    net = check_params(params)
    g = check_same_structure(net, grads, "grads")
    check_state(net, state, slots, owner)
    t = int(state["count"])
    eta = lr_at(check_lr(lr), t)
    old = {s: slot_of(state, s, net) for s in slots}
    new_params, new = run(kernel_for(net), params, net, g, old, eta, t + 1)
    epoch = int(state["epoch"]) if "epoch" in state else None
    return new_params, new_state(net, t + 1, new, epoch)


def run(
    kernel: Kernel,
    params: Params,
    net: Net,
    g: Net,
    slots: dict[str, Array],
    eta: float,
    t: int,
) -> tuple[Frozen[Array], dict[str, Array]]:
    """Run ``kernel`` on checked inputs: new params (with the params' record).

    Every result is checked finite: a NaN or inf is a ValueError naming
    the input it came from, or ``lr``.
    """
    theta, grad = flat_of(net), flat_of(g)
    new_theta = np.empty_like(theta)  # new arrays for the kernel to write
    new = {name: np.empty_like(theta) for name in slots}
    with np.errstate(all="ignore"):  # a non-finite result is reported below
        kernel(theta, grad, slots, eta, t, new_theta, new)
    if not all(map(all_finite, (new_theta, *new.values()))):
        blame(theta, grad, slots, eta)
    return wrap_flat(net, new_theta, *record_of(params)), new


def blame(theta: Array, g: Array, slots: dict[str, Array], eta: float) -> None:
    """Raise the error for a step whose result is not finite, naming why."""
    for what, a in (("params", theta), ("grads", g), *slots.items()):
        if not all_finite(a):
            name = what if what in ("params", "grads") else f"state slot {what!r}"
            raise NonFiniteError(
                f"{name} hold NaN or infinite values (was a returned array made "
                "writeable and written?); the step would not be finite"
            )
    raise NonFiniteError(
        f"the step overflowed with lr={eta!r}: the new params would not be finite; "
        "use a smaller lr (or an eps that float32 can hold, >= 1e-38)"
    )
