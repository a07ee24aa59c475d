r"""Gradient descent and its stateful variants, as pure functions.

Plain gradient descent needs no state:

.. math:: \theta \leftarrow \theta - \eta\, \nabla_\theta L

Stateful optimizers come as pairs ``X_init(params) -> state`` and
``X_step(params, grads, state, *, lr, ...) -> (params, state)``; an
``Optimizer`` bundles such a pair with its hyperparameters bound, for
``train``. The state is a read-only mapping: ``"count"`` (a 0-d int64 array,
the steps taken) and one slot per parameter, keyed ``"{slot}.{param}"``
(``"m.W1"``, ``"v.b2"``), in the params' dtype. ``m`` is always a running
mean of gradients (a velocity), ``v`` a running mean of squared gradients.

``lr`` is a float or a schedule ``step -> lr`` (see ``nnfunc.schedules``),
called with the count *before* the step: 0 on the first step.

Each step is written once, as a kernel on validated inputs (``_momentum``,
``_rmsprop``, ``_adam``). The public ``X_step`` validates and calls it;
``Optimizer.update`` calls it directly. Kernels allocate a few arrays per
parameter and finish the arithmetic in place on them (``out=``, ``*=``);
the comments give the textbook form each line computes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from nnfunc._checks import Net, check_float, check_params, check_same_structure
from nnfunc._types import Array, Grads, LearningRate, OptState, Params
from nnfunc.params import freeze, freeze_owned


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
    return freeze_owned(
        {
            k: _sgd(p, d, step)
            for (k, p), (_, d) in zip(net.items(), g.items(), strict=True)
        }
    )


def _sgd(p: Array, g: Array, lr: float) -> Array:
    """``p - lr * g`` with one allocation.

    The difference is written over the product, an array allocated here.
    """
    out: Array = np.multiply(g, lr, dtype=p.dtype)
    np.subtract(p, out, out=out)
    return out


# ---------------------------------------------------------------- plumbing


def _state(count: int, slots: dict[str, npt.NDArray[Any]]) -> OptState:
    """Freeze new slot arrays together with the step count."""
    slots["count"] = np.array(count, dtype=np.int64)
    return freeze_owned(slots)


def _init(params: Params, slots: str) -> OptState:
    """Zero slots of the params' shapes and dtype, count 0."""
    net = check_params(params)
    return _state(
        0,
        {f"{s}.{k}": np.zeros(p.shape, p.dtype) for s in slots for k, p in net.items()},
    )


def _check_state(net: Net, state: object, slots: str, owner: str) -> None:
    """Check the keys, count, shapes, dtypes and values of an optimizer state."""
    made_by = f"(as returned by {owner}_init(params))"
    if not isinstance(state, Mapping):
        raise TypeError(
            f"state must be a mapping {made_by}, got {type(state).__name__}"
        )
    expected = ["count"] + [f"{s}.{k}" for s in slots for k, _ in net.items()]
    if sorted(map(str, state)) != sorted(expected):
        got = ", ".join(sorted(map(repr, state)))
        raise ValueError(
            f"state must have keys {expected} exactly {made_by}; got [{got}] "
            "(a state from another optimizer or another network?)"
        )
    count = state["count"]
    if not (
        isinstance(count, np.ndarray) and count.shape == () and count.dtype == np.int64
    ):
        raise TypeError(
            f"state['count'] must be a 0-d int64 array {made_by}, got {count!r}"
        )
    if count < 0:
        raise ValueError(f"state['count'] must be >= 0, got {int(count)}")
    for key, p in ((f"{s}.{k}", p) for s in slots for k, p in net.items()):
        a = state[key]
        if not isinstance(a, np.ndarray) or a.dtype != net.dtype:
            got = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
            raise TypeError(f"state[{key!r}] must be a {net.dtype} array, got {got}")
        if a.shape != p.shape:
            raise ValueError(
                f"state[{key!r}] has shape {a.shape} but params has {p.shape}"
            )
        if not np.isfinite(a).all():
            raise ValueError(f"state[{key!r}] has NaN or infinite values")


def _checked(
    params: Params, grads: Grads, state: OptState, slots: str, owner: str
) -> tuple[Params, Grads]:
    """Validate a step's inputs; grads come back cast to the params' dtype."""
    net = check_params(params)
    g = check_same_structure(net, grads, "grads")
    _check_state(net, state, slots, owner)
    return dict(net.items()), dict(g.items())


def _check_lr(lr: object) -> LearningRate:
    """A finite ``lr >= 0`` or a schedule (any callable ``step -> lr``)."""
    if callable(lr):
        return lr  # its values are checked at each step, by _lr_at
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(
            f"lr must be a float >= 0 or a schedule, got {type(lr).__name__}"
        )
    return check_float(lr, "lr")


def _lr_at(lr: LearningRate, count: int) -> float:
    """The learning rate of the step taken when ``count`` steps are done."""
    if not callable(lr):
        return lr
    return check_float(lr(count), f"lr({count}), the schedule's value at step {count},")


def _beta(value: object, name: str) -> float:
    return check_float(value, name, lo=0.0, hi=1.0, hi_open=True)


def _positive(value: object, name: str) -> float:
    v = check_float(value, name)
    if v == 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


# ------------------------------------------------------ plain SGD, with state


def sgd_init(params: Params) -> OptState:
    """The state of plain gradient descent: only the step count (0).

    Examples:
        >>> import nnfunc as nf
        >>> dict(sgd_init(nf.init_params([2, 1])))
        {'count': array(0)}
    """
    return _init(params, "")


def _sgd_update(
    params: Params, grads: Grads, state: OptState, *, lr: LearningRate
) -> tuple[Params, OptState]:
    t = int(state["count"])
    eta = _lr_at(lr, t)
    new_p = {k: _sgd(p, grads[k], eta) for k, p in params.items()}
    return freeze_owned(new_p), _state(t + 1, {})


def _sgd_checked(
    params: Params, grads: Grads, state: OptState, *, lr: LearningRate
) -> tuple[Params, OptState]:
    p, g = _checked(params, grads, state, "", "sgd")
    return _sgd_update(p, g, state, lr=_check_lr(lr))


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
    lr = _check_lr(lr)
    return Optimizer(
        sgd_init, partial(_sgd_checked, lr=lr), partial(_sgd_update, lr=lr)
    )


# --------------------------------------------------------------- momentum


def momentum_init(params: Params) -> OptState:
    """Zero velocities ``m.W1, m.b1, ...`` and count 0."""
    return _init(params, "m")


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
    eta = _lr_at(lr, t)
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
    return freeze_owned(new_p), _state(t + 1, new_s)


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
    p, g = _checked(params, grads, state, "m", "momentum")
    hyper = _momentum_hyper(beta, nesterov)
    return _momentum(p, g, state, lr=_check_lr(lr), **hyper)


def _momentum_hyper(beta: object, nesterov: object) -> dict[str, Any]:
    return {"beta": _beta(beta, "beta"), "nesterov": _flag(nesterov, "nesterov")}


def momentum(lr: LearningRate, beta: float = 0.9, nesterov: bool = False) -> Optimizer:
    """``momentum_step`` with its hyperparameters bound, as an Optimizer.

    Examples:
        >>> opt = momentum(0.1, beta=0.9, nesterov=True)
        >>> opt.init is momentum_init
        True
    """
    hyper = {"lr": _check_lr(lr), **_momentum_hyper(beta, nesterov)}
    return Optimizer(
        momentum_init, partial(momentum_step, **hyper), partial(_momentum, **hyper)
    )


# ---------------------------------------------------------------- RMSProp


def rmsprop_init(params: Params) -> OptState:
    """Zero mean squares ``v.W1, v.b1, ...`` and count 0."""
    return _init(params, "v")


def _rmsprop(
    params: Params,
    grads: Grads,
    state: OptState,
    *,
    lr: LearningRate,
    decay: float,
    eps: float,
) -> tuple[Params, OptState]:
    t = int(state["count"])
    eta = _lr_at(lr, t)
    new_p, new_s = {}, {}
    for k, p in params.items():
        g = grads[k]
        # v and d are allocated here; everything after works in place on them.
        v = np.multiply(state[f"v.{k}"], decay)  # v = decay v + (1 - decay) g^2
        d = np.multiply(g, g)
        d *= 1.0 - decay
        v += d
        np.sqrt(v, out=d)  # d = eta g / (sqrt(v) + eps)
        d += eps
        np.divide(g, d, out=d)
        d *= eta
        new_p[k] = np.subtract(p, d, out=d)  # p - d, over d
        new_s[f"v.{k}"] = v
    return freeze_owned(new_p), _state(t + 1, new_s)


def rmsprop_step(
    params: Params,
    grads: Grads,
    state: OptState,
    *,
    lr: LearningRate,
    decay: float = 0.9,
    eps: float = 1e-8,
) -> tuple[Params, OptState]:
    r"""One RMSProp step: divide the gradient by a running RMS of its size.

    .. math::
        v_t &= \rho\, v_{t-1} + (1 - \rho)\, g_t^2 \\
        \theta_t &= \theta_{t-1} - \eta_t\, g_t / (\sqrt{v_t} + \epsilon)

    elementwise, with :math:`\rho` = ``decay`` (slots ``v.W1``, ...).

    Args:
        params: the current parameters (never modified).
        grads: the gradient, keys and shapes of ``params``.
        state: from ``rmsprop_init`` or a previous step.
        lr: a float :math:`\eta \ge 0` or a schedule, called with the count.
        decay: :math:`\rho \in [0, 1)`, the forgetting factor of ``v``.
        eps: :math:`\epsilon > 0`, added to :math:`\sqrt{v}` (outside the root).

    Returns:
        ``(params, state)``, new and read-only.

    References:
        Tieleman & Hinton, *Neural Networks for Machine Learning*, lecture
        6.5, "rmsprop" (Coursera, 2012).

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.freeze({"W1": np.ones((1, 1)), "b1": np.zeros(1)})
        >>> g = nf.freeze({"W1": np.full((1, 1), 3.0), "b1": np.ones(1)})
        >>> p, s = rmsprop_step(p, g, rmsprop_init(p), lr=0.1, decay=0.75)
        >>> s["v.W1"], p["W1"]  # v = 0.25 * 9; step = 0.1 * 3 / 1.5
        (array([[2.25]]), array([[0.8]]))
    """
    p, g = _checked(params, grads, state, "v", "rmsprop")
    hyper = _rmsprop_hyper(decay, eps)
    return _rmsprop(p, g, state, lr=_check_lr(lr), **hyper)


def _rmsprop_hyper(decay: object, eps: object) -> dict[str, Any]:
    return {"decay": _beta(decay, "decay"), "eps": _positive(eps, "eps")}


def rmsprop(lr: LearningRate, decay: float = 0.9, eps: float = 1e-8) -> Optimizer:
    """``rmsprop_step`` with its hyperparameters bound, as an Optimizer."""
    hyper = {"lr": _check_lr(lr), **_rmsprop_hyper(decay, eps)}
    return Optimizer(
        rmsprop_init, partial(rmsprop_step, **hyper), partial(_rmsprop, **hyper)
    )


# ----------------------------------------------------------- Adam, AdamW


def adam_init(params: Params) -> OptState:
    """Zero moments ``m.W1, ..., v.W1, ...`` and count 0 (also for AdamW)."""
    return _init(params, "mv")


adamw_init = adam_init


def _adam(
    params: Params,
    grads: Grads,
    state: OptState,
    *,
    lr: LearningRate,
    b1: float,
    b2: float,
    eps: float,
    weight_decay: float = 0.0,
    decay_biases: bool = False,
) -> tuple[Params, OptState]:
    t = int(state["count"])
    eta = _lr_at(lr, t)
    c1, c2 = 1.0 - b1 ** (t + 1), 1.0 - b2 ** (t + 1)  # bias corrections, t + 1 >= 1
    new_p, new_s = {}, {}
    for k, p in params.items():
        g = grads[k]
        # m, v and d are allocated here; everything after works in place on them.
        m = np.multiply(state[f"m.{k}"], b1)  # m = b1 m + (1 - b1) g
        d = np.multiply(g, 1.0 - b1)
        m += d
        v = np.multiply(state[f"v.{k}"], b2)  # v = b2 v + (1 - b2) g^2
        np.multiply(g, g, out=d)
        d *= 1.0 - b2
        v += d
        np.divide(v, c2, out=d)  # d = eta m_hat / (sqrt(v_hat) + eps)
        np.sqrt(d, out=d)
        d += eps
        np.divide(m, d, out=d)
        d *= eta / c1
        if weight_decay and (decay_biases or k.startswith("W")):
            new = np.multiply(p, 1.0 - eta * weight_decay)  # (1 - eta lambda) p - d
            new -= d
        else:
            new = np.subtract(p, d, out=d)  # p - d, over d
        new_p[k], new_s[f"m.{k}"], new_s[f"v.{k}"] = new, m, v
    return freeze_owned(new_p), _state(t + 1, new_s)


def adam_step(
    params: Params,
    grads: Grads,
    state: OptState,
    *,
    lr: LearningRate,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[Params, OptState]:
    r"""One Adam step: momentum divided by a running RMS, both bias-corrected.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat m_t &= m_t / (1 - \beta_1^t), \qquad
        \hat v_t = v_t / (1 - \beta_2^t) \\
        \theta_t &= \theta_{t-1} - \eta_t\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    elementwise, with :math:`t` = count + 1 (1 on the first step). The bias
    corrections undo the pull of the zero initial moments towards 0: the
    first step moves each entry by about :math:`\eta\,\mathrm{sign}(g)`.

    Args:
        params: the current parameters (never modified).
        grads: the gradient, keys and shapes of ``params``.
        state: from ``adam_init`` or a previous step (slots ``m.*``, ``v.*``).
        lr: a float :math:`\eta \ge 0` or a schedule, called with the count.
        b1: :math:`\beta_1 \in [0, 1)`, decay of the first moment.
        b2: :math:`\beta_2 \in [0, 1)`, decay of the second moment.
        eps: :math:`\epsilon > 0`, added to :math:`\sqrt{\hat v}`.

    Returns:
        ``(params, state)``, new and read-only.

    References:
        Kingma & Ba, *Adam: A Method for Stochastic Optimization* (ICLR 2015),
        Algorithm 1.

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.freeze({"W1": np.ones((1, 1)), "b1": np.zeros(1)})
        >>> g = nf.freeze({"W1": np.full((1, 1), 2.0), "b1": np.full(1, -0.5)})
        >>> p, s = adam_step(p, g, adam_init(p), lr=0.1)
        >>> p["W1"], p["b1"]  # each entry moves by lr against the gradient's sign
        (array([[0.9]]), array([0.1]))
    """
    p, g = _checked(params, grads, state, "mv", "adam")
    return _adam(p, g, state, lr=_check_lr(lr), **_adam_hyper(b1, b2, eps))


def _adam_hyper(b1: object, b2: object, eps: object) -> dict[str, Any]:
    return {"b1": _beta(b1, "b1"), "b2": _beta(b2, "b2"), "eps": _positive(eps, "eps")}


def adam(
    lr: LearningRate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer:
    """``adam_step`` with its hyperparameters bound, as an Optimizer."""
    hyper = {"lr": _check_lr(lr), **_adam_hyper(b1, b2, eps)}
    return Optimizer(adam_init, partial(adam_step, **hyper), partial(_adam, **hyper))


def adamw_step(
    params: Params,
    grads: Grads,
    state: OptState,
    *,
    lr: LearningRate,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.01,
    decay_biases: bool = False,
) -> tuple[Params, OptState]:
    r"""One AdamW step: Adam plus weight decay kept out of the moments.

    .. math::
        \theta_t = \theta_{t-1} - \eta_t \left( \hat m_t / (\sqrt{\hat v_t}
            + \epsilon) + \lambda\, \theta_{t-1} \right)

    with :math:`\hat m_t, \hat v_t` as in ``adam_step``, computed from the
    gradient alone: unlike an L2 term added to the loss, the decay
    :math:`\lambda` = ``weight_decay`` is not rescaled by :math:`\sqrt{\hat v}`.
    The decay is scaled by the learning rate (as in PyTorch and optax;
    the paper writes :math:`\eta_t` as a schedule multiplier) and applies to
    the weights ``W*`` only, not to the biases, unless ``decay_biases``.
    With ``weight_decay=0`` this is ``adam_step``; the state is Adam's.

    Args:
        params: the current parameters (never modified).
        grads: the gradient, keys and shapes of ``params``.
        state: from ``adamw_init`` (= ``adam_init``) or a previous step.
        lr: a float :math:`\eta \ge 0` or a schedule, called with the count.
        b1: :math:`\beta_1 \in [0, 1)`.
        b2: :math:`\beta_2 \in [0, 1)`.
        eps: :math:`\epsilon > 0`.
        weight_decay: :math:`\lambda \ge 0`.
        decay_biases: also decay the biases ``b*``.

    Returns:
        ``(params, state)``, new and read-only.

    References:
        Loshchilov & Hutter, *Decoupled Weight Decay Regularization*
        (ICLR 2019), Algorithm 2.

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.freeze({"W1": np.ones((1, 1)), "b1": np.ones(1)})
        >>> g = nf.freeze({"W1": np.zeros((1, 1)), "b1": np.zeros(1)})
        >>> p, s = adamw_step(p, g, adamw_init(p), lr=0.1, weight_decay=0.5)
        >>> p["W1"], p["b1"]  # a zero gradient: only W decays, by lr * 0.5
        (array([[0.95]]), array([1.]))
    """
    p, g = _checked(params, grads, state, "mv", "adamw")
    hyper = _adamw_hyper(b1, b2, eps, weight_decay, decay_biases)
    return _adam(p, g, state, lr=_check_lr(lr), **hyper)


def _adamw_hyper(
    b1: object, b2: object, eps: object, weight_decay: object, decay_biases: object
) -> dict[str, Any]:
    return {
        **_adam_hyper(b1, b2, eps),
        "weight_decay": check_float(weight_decay, "weight_decay"),
        "decay_biases": _flag(decay_biases, "decay_biases"),
    }


def adamw(
    lr: LearningRate,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.01,
    decay_biases: bool = False,
) -> Optimizer:
    """``adamw_step`` with its hyperparameters bound, as an Optimizer."""
    hyper = {
        "lr": _check_lr(lr),
        **_adamw_hyper(b1, b2, eps, weight_decay, decay_biases),
    }
    return Optimizer(adam_init, partial(adamw_step, **hyper), partial(_adam, **hyper))


# ------------------------------------------------------ gradient clipping


def global_norm(grads: Grads) -> float:
    r"""The L2 norm of all arrays together, :math:`\sqrt{\sum_k \|g_k\|^2}`.

    Computed without overflow even when squares would exceed the dtype.

    Examples:
        >>> global_norm({"W1": np.array([[3.0]]), "b1": np.array([4.0])})
        5.0
    """
    return math.hypot(*(_norm(g) for g in _check_grads(grads).values()))


def clip_by_global_norm(grads: Grads, max_norm: float) -> Grads:
    r"""Scale all gradients together so that their global norm is at most ``max_norm``.

    .. math:: g_k \leftarrow g_k \cdot \min(1,\ c / \|g\|), \qquad
        \|g\| = \textstyle\sqrt{\sum_k \|g_k\|^2}

    One factor for every array keeps the direction of the whole gradient
    (clipping each array alone would not). Below the threshold the result
    is an equal, read-only copy. Each array keeps its dtype.

    References:
        Pascanu, Mikolov & Bengio, *On the difficulty of training recurrent
        neural networks* (ICML 2013), Algorithm 1.

    Examples:
        >>> g = {"W1": np.array([[3.0]]), "b1": np.array([4.0])}
        >>> dict(clip_by_global_norm(g, 1.0))
        {'W1': array([[0.6]]), 'b1': array([0.8])}
        >>> dict(clip_by_global_norm(g, 10.0))
        {'W1': array([[3.]]), 'b1': array([4.])}
    """
    c = _positive(max_norm, "max_norm")
    norm = global_norm(grads)
    if norm <= c:
        return freeze(grads)
    scale = c / norm
    return freeze_owned({k: np.multiply(g, scale) for k, g in grads.items()})


def _check_grads(grads: object) -> Mapping[str, Array]:
    if not isinstance(grads, Mapping):
        raise TypeError(
            f"grads must be a mapping of names to arrays, got {type(grads).__name__}"
        )
    for k, g in grads.items():
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            got = g.dtype if isinstance(g, np.ndarray) else type(g).__name__
            raise TypeError(f"grads[{k!r}] must be a float array, got {got}")
        if not np.isfinite(g).all():
            raise ValueError(f"grads[{k!r}] has NaN or infinite values")
    return grads


def _norm(g: Array) -> float:
    """``||g||``, rescaled by ``max |g|`` when the plain sum of squares overflows."""
    with np.errstate(over="ignore"):
        sq = float(np.vdot(g, g))
    if math.isfinite(sq):
        return math.sqrt(sq)
    top = float(np.abs(g).max())
    return top * math.sqrt(float(np.vdot(g / top, g / top)))
