r"""Adaptive learning rates: RMSProp, Adam and AdamW, as pure function pairs.

Each divides the step by a running root-mean-square of the gradient, so
every parameter gets its own effective step size. States are read-only
mappings (slots ``"m.W1"``, ``"v.W1"``, ... plus ``"count"``), as for every
optimizer in ``nnfunc.optim``. Each kernel is written for one array and
runs on the whole network as one array (see ``nnfunc._optstate``); it
allocates a few arrays and finishes the arithmetic in place on them (the
comments give the textbook form).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from nnfunc._checks import (
    check_beta,
    check_flag,
    check_float,
    check_positive,
)
from nnfunc._optstate import Kernel, check_lr, fixed, init_slots, step
from nnfunc._types import (
    Array,
    Frozen,
    Grads,
    LearningRate,
    Net,
    OptState,
    Params,
    State,
)
from nnfunc.optim import Optimizer


def rmsprop_init(params: Params) -> State:
    """Zero mean squares ``v.W1, v.b1, ...`` and count 0."""
    return init_slots(params, "v")


def _rmsprop_into(
    p: Array,
    g: Array,
    slots: dict[str, Array],
    eta: float,
    t: int,
    out: Array,
    new: dict[str, Array],
    *,
    decay: float,
    eps: float,
) -> None:
    v, d = new["v"], out  # the step d is formed in out, then p - d over it
    np.multiply(slots["v"], decay, out=v)  # v = decay v + (1 - decay) g^2
    np.multiply(g, g, out=d)
    d *= 1.0 - decay
    v += d
    np.sqrt(v, out=d)  # d = eta g / (sqrt(v) + eps)
    d += eps
    np.divide(g, d, out=d)
    d *= eta
    np.subtract(p, d, out=out)  # out = p - d


def rmsprop_step(
    params: Params,
    grads: Grads,
    state: OptState,
    *,
    lr: LearningRate,
    decay: float = 0.9,
    eps: float = 1e-8,
) -> tuple[Frozen[Array], State]:
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
    kernel = fixed(partial(_rmsprop_into, **_rmsprop_hyper(decay, eps)))
    return step(kernel, "v", "rmsprop", params, grads, state, lr)


def _rmsprop_hyper(decay: object, eps: object) -> dict[str, Any]:
    return {"decay": check_beta(decay, "decay"), "eps": check_positive(eps, "eps")}


def rmsprop(lr: LearningRate, decay: float = 0.9, eps: float = 1e-8) -> Optimizer:
    """``rmsprop_step`` with its hyperparameters bound, as an Optimizer."""
    lr = check_lr(lr)
    kernel = fixed(partial(_rmsprop_into, **_rmsprop_hyper(decay, eps)))
    update = partial(step, kernel, "v", "rmsprop", lr=lr)
    return Optimizer(rmsprop_init, update, lr, kernel, "v")


def adam_init(params: Params) -> State:
    """Zero moments ``m.W1, ..., v.W1, ...`` and count 0 (also for AdamW)."""
    return init_slots(params, "mv")


adamw_init = adam_init


def _adam_into(
    p: Array,
    g: Array,
    slots: dict[str, Array],
    eta: float,
    t: int,
    out: Array,
    new: dict[str, Array],
    *,
    b1: float,
    b2: float,
    eps: float,
    decay: Array | None = None,
) -> None:
    """Adam (and AdamW, when ``decay`` is ``1 - eta lambda`` per entry)."""
    c1, c2 = 1.0 - b1**t, 1.0 - b2**t  # bias corrections, t >= 1
    # eta / c1 in NumPy: an overflow gives inf here, and the step's check
    # then names lr (Python floats would raise OverflowError instead).
    step_size = np.float64(eta) / c1
    m, v, d = new["m"], new["v"], out  # the step d is formed in out
    np.multiply(slots["m"], b1, out=m)  # m = b1 m + (1 - b1) g
    np.multiply(g, 1.0 - b1, out=d)
    m += d
    np.multiply(slots["v"], b2, out=v)  # v = b2 v + (1 - b2) g^2
    np.multiply(g, g, out=d)
    d *= 1.0 - b2
    v += d
    np.divide(v, c2, out=d)  # d = eta m_hat / (sqrt(v_hat) + eps)
    np.sqrt(d, out=d)
    d += eps
    np.divide(m, d, out=d)
    d *= step_size  # eta / c1
    if decay is None:
        np.subtract(p, d, out=out)  # out = p - d
    else:
        np.subtract(p * decay, d, out=out)  # out = (1 - eta lambda) p - d


def _adamw_for(net: Net, **hyper: Any) -> Kernel:
    """``_adamw_into`` for the layout of ``net`` (which entries are biases)."""
    return partial(_adamw_into, layout=net, **hyper)


def _adamw_into(
    p: Array,
    g: Array,
    slots: dict[str, Array],
    eta: float,
    t: int,
    out: Array,
    new: dict[str, Array],
    *,
    layout: Net,
    weight_decay: float,
    decay_biases: bool,
    **hyper: float,
) -> None:
    """AdamW: Adam, with the weights (and biases if asked) shrunk first."""
    shrink = np.float64(1.0) - np.float64(eta) * weight_decay
    decay = np.full(p.shape, shrink, dtype=p.dtype)  # 1 - eta lambda per entry
    if not decay_biases:
        start = 0
        for k, a in layout.items():
            if k.startswith("b"):  # biases do not decay: factor 1
                decay[start : start + a.size] = 1.0  # decay was allocated here
            start += a.size
    _adam_into(p, g, slots, eta, t, out, new, decay=decay, **hyper)


def adam_step(
    params: Params,
    grads: Grads,
    state: OptState,
    *,
    lr: LearningRate,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[Frozen[Array], State]:
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
    kernel = fixed(partial(_adam_into, **_adam_hyper(b1, b2, eps)))
    return step(kernel, "mv", "adam", params, grads, state, lr)


def _adam_hyper(b1: object, b2: object, eps: object) -> dict[str, Any]:
    return {
        "b1": check_beta(b1, "b1"),
        "b2": check_beta(b2, "b2"),
        "eps": check_positive(eps, "eps"),
    }


def adam(
    lr: LearningRate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer:
    """``adam_step`` with its hyperparameters bound, as an Optimizer."""
    lr = check_lr(lr)
    kernel = fixed(partial(_adam_into, **_adam_hyper(b1, b2, eps)))
    update = partial(step, kernel, "mv", "adam", lr=lr)
    return Optimizer(adam_init, update, lr, kernel, "mv")


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
) -> tuple[Frozen[Array], State]:
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
    hyper = _adamw_hyper(b1, b2, eps, weight_decay, decay_biases)
    kernel = partial(_adamw_for, **hyper)
    return step(kernel, "mv", "adamw", params, grads, state, lr)


def _adamw_hyper(
    b1: object, b2: object, eps: object, weight_decay: object, decay_biases: object
) -> dict[str, Any]:
    return {
        **_adam_hyper(b1, b2, eps),
        "weight_decay": check_float(weight_decay, "weight_decay"),
        "decay_biases": check_flag(decay_biases, "decay_biases"),
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
    lr = check_lr(lr)
    hyper = _adamw_hyper(b1, b2, eps, weight_decay, decay_biases)
    kernel = partial(_adamw_for, **hyper)
    update = partial(step, kernel, "mv", "adamw", lr=lr)
    return Optimizer(adam_init, update, lr, kernel, "mv")
