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

Each step is written once, as a kernel on validated inputs (``_momentum``
here, ``_rmsprop`` and ``_adam`` in ``nnfunc.adaptive``). The public
``X_step`` validates and calls it; ``Optimizer.update`` calls it directly.
Kernels allocate a few arrays per parameter and finish the arithmetic in
place on them (``out=``, ``*=``);
the comments give the textbook form each line computes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from nnfunc._checks import check_flag, check_float, check_params, check_same_structure
from nnfunc._optstate import (
    check_beta,
    check_lr,
    checked,
    finite_step,
    init_slots,
    lr_at,
    new_state,
)
from nnfunc._types import Array, Grads, LearningRate, OptState, Params
from nnfunc.params import freeze_owned


class Optimizer(NamedTuple):
    """An optimizer with its hyperparameters bound.

    ``init(params) -> state`` and ``step(params, grads, state) ->
    (params, state)`` validate their inputs like every public function;
    ``update`` is the same step on inputs already validated (``train``
    checks once per call and then uses it in the hot loop). All three
    return new, read-only values.
    """

    init: Callable[[Params], OptState]
    step: Callable[[Params, Grads, OptState], tuple[Params, OptState]]
    update: Callable[[Params, Grads, OptState], tuple[Params, OptState]]


def sgd_step(params: Params, grads: Grads, *, lr: float) -> Params:
    r"""One step of plain gradient descent, :math:`\theta - \eta\, g`.

    Args:
        params: the current parameters (never modified).
        grads: a gradient with exactly the keys and shapes of ``params``;
            cast to the params' dtype.
        lr: the learning rate :math:`\eta \ge 0`, finite.

    Returns:
        New read-only params in the dtype of ``params``.

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.freeze({"W1": np.ones((1, 1)), "b1": np.zeros(1)})
        >>> g = nf.freeze({"W1": np.full((1, 1), 2.0), "b1": np.ones(1)})
        >>> dict(sgd_step(p, g, lr=0.25))
        {'W1': array([[0.5]]), 'b1': array([-0.25])}
    """
    net = check_params(params)
    step = check_float(lr, "lr")
    g = check_same_structure(net, grads, "grads")
    pairs = list(zip(net.items(), g.items(), strict=True))

    def kernel() -> tuple[Params, None]:
        return freeze_owned({k: _sgd(p, d, step) for (k, p), (_, d) in pairs}), None

    return finite_step(kernel)[0]


def _sgd(p: Array, g: Array, lr: float) -> Array:
    """``p - lr * g`` with one allocation.

    The difference is written over the product, an array allocated here.
    """
    out: Array = np.multiply(g, lr, dtype=p.dtype)
    np.subtract(p, out, out=out)
    return out


def sgd_init(params: Params) -> OptState:
    """The state of plain gradient descent: only the step count (0).

    Examples:
        >>> import nnfunc as nf
        >>> dict(sgd_init(nf.init_params([2, 1])))
        {'count': array(0)}
    """
    return init_slots(params, "")


def _sgd_update(
    params: Params, grads: Grads, state: OptState, *, lr: LearningRate
) -> tuple[Params, OptState]:
    t = int(state["count"])
    eta = lr_at(lr, t)
    new_p = {k: _sgd(p, grads[k], eta) for k, p in params.items()}
    return freeze_owned(new_p), new_state(t + 1, {})


def _sgd_checked(
    params: Params, grads: Grads, state: OptState, *, lr: LearningRate
) -> tuple[Params, OptState]:
    p, g = checked(params, grads, state, "", "sgd")
    return finite_step(lambda: _sgd_update(p, g, state, lr=check_lr(lr)))


def sgd(lr: LearningRate) -> Optimizer:
    r"""Plain gradient descent, :math:`\theta - \eta_t g`, as an Optimizer.

    Examples:
        >>> import nnfunc as nf
        >>> opt = sgd(0.5)
        >>> p = nf.freeze({"W1": np.ones((1, 1)), "b1": np.zeros(1)})
        >>> p, s = opt.step(p, p, opt.init(p))  # the gradient of |p|^2 / 2
        >>> p["W1"], int(s["count"])
        (array([[0.5]]), 1)
    """
    lr = check_lr(lr)
    return Optimizer(
        sgd_init, partial(_sgd_checked, lr=lr), partial(_sgd_update, lr=lr)
    )


# --------------------------------------------------------------- momentum


def momentum_init(params: Params) -> OptState:
    """Zero velocities ``m.W1, m.b1, ...`` and count 0."""
    return init_slots(params, "m")


def _momentum(
    params: Params,
    grads: Grads,
    state: OptState,
    *,
    lr: LearningRate,
    beta: float,
    nesterov: bool,
) -> tuple[Params, OptState]:
    t = int(state["count"])
    eta = lr_at(lr, t)
    new_p, new_s = {}, {}
    for k, p in params.items():
        g = grads[k]
        m = np.multiply(state[f"m.{k}"], beta)  # m = beta m + g, in the new array
        m += g
        if nesterov:  # d = eta (g + beta m), in a new array
            d = np.multiply(m, beta)
            d += g
            d *= eta
        else:  # d = eta m
            d = np.multiply(m, eta)
        new_p[k] = np.subtract(p, d, out=d)  # p - d, over d
        new_s[f"m.{k}"] = m
    return freeze_owned(new_p), new_state(t + 1, new_s)


def momentum_step(
    params: Params,
    grads: Grads,
    state: OptState,
    *,
    lr: LearningRate,
    beta: float = 0.9,
    nesterov: bool = False,
) -> tuple[Params, OptState]:
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
        state: from ``momentum_init`` or a previous step.
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
    p, g = checked(params, grads, state, "m", "momentum")
    hyper = _momentum_hyper(beta, nesterov)
    return finite_step(lambda: _momentum(p, g, state, lr=check_lr(lr), **hyper))


def _momentum_hyper(beta: object, nesterov: object) -> dict[str, Any]:
    return {
        "beta": check_beta(beta, "beta"),
        "nesterov": check_flag(nesterov, "nesterov"),
    }


def momentum(lr: LearningRate, beta: float = 0.9, nesterov: bool = False) -> Optimizer:
    """``momentum_step`` with its hyperparameters bound, as an Optimizer.

    Examples:
        >>> opt = momentum(0.1, beta=0.9, nesterov=True)
        >>> opt.init is momentum_init
        True
    """
    hyper = {"lr": check_lr(lr), **_momentum_hyper(beta, nesterov)}
    return Optimizer(
        momentum_init, partial(momentum_step, **hyper), partial(_momentum, **hyper)
    )
