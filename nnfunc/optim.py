r"""Gradient descent and its stateful variants, as pure functions.

Plain gradient descent needs no state:

.. math:: \theta \leftarrow \theta - \eta\, \nabla_\theta L

Stateful optimizers come as pairs ``X_init(params) -> state`` and
``X_step(params, grads, state, *, lr, ...) -> (params, state)``; an
``Optimizer`` bundles such a pair with its hyperparameters bound, for
``train``. The state is a read-only mapping: ``"count"`` (a 0-d int64 array,
the steps taken) and one slot per parameter, keyed ``"{slot}.{param}"``
(``"m.W1"``, ``"v.b2"``), in the params' dtype. ``m`` accumulates gradients
(a velocity for momentum, a running mean for Adam), ``v`` is a running mean
of squared gradients.

``lr`` is a float or a schedule ``step -> lr`` (see ``nnfunc.schedules``),
called with the count *before* the step: 0 on the first step.

Each step is written once, as a kernel for one array (``_sgd`` and
``_momentum`` here, ``_rmsprop`` and ``_adam`` in ``nnfunc.adaptive``);
``nnfunc._optstate.step`` validates the inputs and runs the kernel on the
whole network at once, as one array. Kernels allocate their results and
finish the arithmetic in place on them (``out=``, ``*=``); the comment on
each line gives the textbook form it computes.

A custom optimizer is any ``Optimizer(init, step, lr)``: ``init(params) ->
state`` and ``step(params, grads, state) -> (params, state)`` returning new
values, ``lr`` for the record (``train`` reports it per epoch)::

    >>> import nnfunc as nf
    >>> def sign_init(params):
    ...     return nf.sgd_init(params)  # no slots, only the step count
    >>> def sign_step(params, grads, state, lr=0.01):
    ...     # theta - lr * sign(g): a new value, nothing written
    ...     new = {k: params[k] - lr * np.sign(grads[k]) for k in params}
    ...     count = {"count": np.array(int(state["count"]) + 1)}
    ...     return nf.freeze(new, hidden=params.hidden, output=params.output), count
    >>> opt = nf.Optimizer(sign_init, sign_step, lr=0.01)
    >>> p = nf.init_params([2, 1], seed=0)
    >>> p2, s = opt.step(p, nf.grads(p, np.ones((1, 2)), [1.0]), opt.init(p))
    >>> float(p["W1"][0, 0] - p2["W1"][0, 0])  # moved by lr against the sign
    -0.01
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from nnfunc._checks import (
    check_beta,
    check_flag,
    check_float,
    check_params,
    check_same_structure,
)
from nnfunc._optstate import KernelFor, check_lr, fixed, init_slots, run, step
from nnfunc._types import Array, Frozen, Grads, LearningRate, OptState, Params, State


class Optimizer(NamedTuple):
    """An optimizer with its hyperparameters bound, for ``train``.

    ``init(params) -> state`` and ``step(params, grads, state) -> (params,
    state)`` validate their inputs like every public function and return new
    values. ``lr`` is the learning rate (a float or a schedule) the step
    uses, kept here so that ``train`` can report it.

    ``kernel`` and ``slots`` are the optimizer's arithmetic as one
    ``*_into`` kernel factory and the names of its state slots (see
    ``nnfunc._optstate``); the library's constructors set them, and then
    ``train`` runs the kernel in a workspace of its own buffers instead of
    calling ``step`` (the two give the same bits; a test proves it). A
    custom optimizer leaves them out, and ``train`` calls its ``step``.
    """

    init: Callable[[Params], OptState]
    step: Callable[[Params, Grads, OptState], tuple[Params, OptState]]
    lr: LearningRate
    kernel: KernelFor | None = None
    slots: str = ""


def sgd_step(params: Params, grads: Grads, *, lr: float) -> Frozen[Array]:
    r"""One step of plain gradient descent, :math:`\theta - \eta\, g`.

    Args:
        params: the current parameters (never modified).
        grads: a gradient with exactly the keys and shapes of ``params``;
            cast to the params' dtype.
        lr: the learning rate :math:`\eta \ge 0`, finite (``sgd_step``
            keeps no step count, so it takes no schedule; ``sgd(schedule)``
            does).

    Returns:
        New read-only params in the dtype of ``params``, with its record.

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.freeze({"W1": np.ones((1, 1)), "b1": np.zeros(1)})
        >>> g = nf.freeze({"W1": np.full((1, 1), 2.0), "b1": np.ones(1)})
        >>> dict(sgd_step(p, g, lr=0.25))
        {'W1': array([[0.5]]), 'b1': array([-0.25])}
    """
    net = check_params(params)
    g = check_same_structure(net, grads, "grads")
    return run(_sgd_into, params, net, g, {}, check_float(lr, "lr"), 1)[0]


def _sgd_into(
    p: Array,
    g: Array,
    slots: dict[str, Array],
    lr: float,
    t: int,
    out: Array,
    new: dict[str, Array],
) -> None:
    """``out = p - lr * g``, written into ``out``."""
    np.multiply(g, lr, out=out, dtype=out.dtype)  # out = lr * g
    np.subtract(p, out, out=out)  # out = p - lr * g


def sgd_init(params: Params) -> State:
    """The state of plain gradient descent: only the step count (0).

    Examples:
        >>> import nnfunc as nf
        >>> dict(sgd_init(nf.init_params([2, 1])))
        {'count': array(0)}
    """
    return init_slots(params, "")


def sgd(lr: LearningRate) -> Optimizer:
    r"""Plain gradient descent, :math:`\theta - \eta_t g`, as an Optimizer.

    Examples:
        >>> import nnfunc as nf
        >>> opt = sgd(0.5)
        >>> p = nf.freeze({"W1": np.ones((1, 1)), "b1": np.zeros(1)})
        >>> p, s = opt.step(p, p, opt.init(p))  # the gradient of |p|^2 / 2
        >>> p["W1"], int(s["count"]), opt.lr
        (array([[0.5]]), 1, 0.5)
    """
    lr = check_lr(lr)
    kernel = fixed(_sgd_into)
    return Optimizer(sgd_init, partial(step, kernel, "", "sgd", lr=lr), lr, kernel)


# --------------------------------------------------------------- momentum


def momentum_init(params: Params) -> State:
    """Zero velocities ``m.W1, m.b1, ...`` and count 0."""
    return init_slots(params, "m")


def _momentum_into(
    p: Array,
    g: Array,
    slots: dict[str, Array],
    eta: float,
    t: int,
    out: Array,
    new: dict[str, Array],
    *,
    beta: float,
    nesterov: bool,
) -> None:
    m, d = new["m"], out  # the step d is formed in out, then p - d over it
    np.multiply(slots["m"], beta, out=m)  # m = beta m + g
    m += g
    if nesterov:  # d = eta (g + beta m)
        np.multiply(m, beta, out=d)
        d += g
        d *= eta
    else:  # d = eta m
        np.multiply(m, eta, out=d)
    np.subtract(p, d, out=out)  # out = p - d


def momentum_step(
    params: Params,
    grads: Grads,
    state: OptState,
    *,
    lr: LearningRate,
    beta: float = 0.9,
    nesterov: bool = False,
) -> tuple[Frozen[Array], State]:
    r"""One step of gradient descent with (Nesterov) momentum.

    .. math::
        m_t &= \beta\, m_{t-1} + g_t \\
        \theta_t &= \theta_{t-1} - \eta_t\, m_t
            && \text{(heavy ball)} \\
        \theta_t &= \theta_{t-1} - \eta_t\, (g_t + \beta\, m_t)
            && \text{(Nesterov)}

    ``m`` is a velocity (slots ``m.W1``, ...). The Nesterov line is the
    look-ahead update of Sutskever et al. rewritten in terms of the current
    parameters (as in Bengio, Boulanger-Lewandowski & Pascanu 2013).

    Args:
        params: the current parameters (never modified).
        grads: the gradient, keys and shapes of ``params``.
        state: from ``momentum_init``, a previous step, or ``train``.
        lr: a float :math:`\eta \ge 0` or a schedule, called with the count.
        beta: the momentum :math:`\beta \in [0, 1)`; 0 is plain SGD.
        nesterov: use the Nesterov form.

    Returns:
        ``(params, state)``, new and read-only.

    References:
        Polyak, *Some methods of speeding up the convergence of iteration
        methods* (1964); Sutskever, Martens, Dahl & Hinton, *On the
        importance of initialization and momentum in deep learning* (ICML 2013).

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.freeze({"W1": np.ones((1, 1)), "b1": np.zeros(1)})
        >>> g = nf.freeze({"W1": np.ones((1, 1)), "b1": np.ones(1)})
        >>> s = momentum_init(p)
        >>> p, s = momentum_step(p, g, s, lr=0.1, beta=0.5)  # m = g
        >>> p, s = momentum_step(p, g, s, lr=0.1, beta=0.5)  # m = 0.5 g + g
        >>> p["b1"], s["m.b1"], s["count"]
        (array([-0.25]), array([1.5]), array(2))
    """
    kernel = fixed(partial(_momentum_into, **_momentum_hyper(beta, nesterov)))
    return step(kernel, "m", "momentum", params, grads, state, lr)


def _momentum_hyper(beta: object, nesterov: object) -> dict[str, Any]:
    return {
        "beta": check_beta(beta, "beta"),
        "nesterov": check_flag(nesterov, "nesterov"),
    }


def momentum(lr: LearningRate, beta: float = 0.9, nesterov: bool = False) -> Optimizer:
    """``momentum_step`` with its hyperparameters bound, as an Optimizer.

    Examples:
        >>> opt = momentum(0.1, beta=0.9, nesterov=True)
        >>> opt.init is momentum_init, opt.lr
        (True, 0.1)
    """
    lr = check_lr(lr)
    kernel = fixed(partial(_momentum_into, **_momentum_hyper(beta, nesterov)))
    update = partial(step, kernel, "m", "momentum", lr=lr)
    return Optimizer(momentum_init, update, lr, kernel, "m")
