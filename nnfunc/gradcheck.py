r"""Finite-difference gradient checking, for the tests and for learners.

Central differences approximate a derivative to second order:

.. math:: \frac{L(\theta + h v) - L(\theta - h v)}{2h}
   = \nabla L \cdot v + O(h^2)

Mode ``"direction"`` compares that with ``grads . v`` along random unit
directions ``v`` over all parameters at once (cheap, catches any error that
is not orthogonal to ``v``); mode ``"coordinate"`` compares every partial
derivative ``dL/dtheta_i`` one at a time (thorough, costs two loss
evaluations per parameter). Everything is done in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Literal, NamedTuple

import numpy as np

from nnfunc._checks import (
    check_float,
    check_int,
    check_name,
    check_params,
    check_same_structure,
    check_seed,
)
from nnfunc._types import Array, Grads, Params, Seed
from nnfunc.forward import record_of
from nnfunc.params import freeze_new


class GradCheck(NamedTuple):
    """The outcome of ``check_grads``.

    ``numeric[i]`` and ``analytic[i]`` are the finite-difference and the
    given directional (or partial) derivatives; ``ok`` is
    ``|numeric - analytic| <= atol + rtol * |numeric|`` everywhere;
    ``max_error`` is the largest ``|numeric - analytic|``.
    """

    ok: bool
    max_error: float
    numeric: Array
    analytic: Array


def check_grads(
    loss_fn: Callable[[Params], float],
    params: Params,
    grads: Grads,
    *,
    mode: Literal["direction", "coordinate"] = "direction",
    n_directions: int = 4,
    h: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    seed: Seed = 0,
) -> GradCheck:
    """Compare ``grads`` with central differences of ``loss_fn`` at ``params``.

    Args:
        loss_fn: maps params to a scalar loss; it is called with float64
            copies of ``params``, perturbed.
        params: the point of the check.
        grads: the gradient to check, with the keys and shapes of params.
        mode: ``"direction"`` (random unit directions) or ``"coordinate"``.
        n_directions: how many random directions (``"direction"`` only).
        h: the finite-difference step.
        rtol: relative tolerance of the comparison.
        atol: absolute tolerance of the comparison.
        seed: seed of the random directions.

    Returns:
        A ``GradCheck``; ``result.ok`` says whether the gradient agrees.

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.init_params([2, 3, 1], hidden="tanh", seed=1)
        >>> x, y = np.array([[0.5, -1.0]]), np.array([1.0])
        >>> f = lambda q: nf.loss(q, x, y)  # q keeps the record of p: tanh
        >>> check_grads(f, p, nf.grads(p, x, y)).ok
        True
    """
    if not callable(loss_fn):
        raise TypeError(
            f"loss_fn must be a function params -> float, got {type(loss_fn).__name__}"
        )
    net = check_params(params)
    g = check_same_structure(net, grads, "grads")
    record = record_of(params)
    check_name(mode, "mode", ("direction", "coordinate"))
    step = check_float(h, "h")
    if step == 0.0:
        raise ValueError("h must be positive, got 0.0")
    rt, at = check_float(rtol, "rtol"), check_float(atol, "atol")
    keys = [k for k, _ in net.items()]
    arrays = [a for _, a in net.items()]
    shapes = [a.shape for a in arrays]
    theta = np.concatenate([a.ravel().astype(np.float64) for a in arrays])
    grad = np.concatenate([a.ravel().astype(np.float64) for _, a in g.items()])

    def at_point(v: Array, h: float) -> float:
        with np.errstate(over="ignore"):  # reported below, in words
            t = theta + h * v
        if not np.isfinite(t).all():
            raise ValueError(f"h={step!r} is too large: params + h * v overflows")
        out: dict[str, Array] = {}
        i = 0
        for k, shape in zip(keys, shapes, strict=True):
            n = int(np.prod(shape))
            out[k] = t[i : i + n].reshape(shape).copy()
            i += n
        value = loss_fn(freeze_new(out, "params", *record))
        return check_float(value, "loss_fn(params)", lo=-math.inf)

    if mode == "direction":
        count = check_int(n_directions, "n_directions", lo=1)
        rng = np.random.default_rng(check_seed(seed))
        V = rng.standard_normal((count, theta.size))
        V /= np.linalg.norm(V, axis=1, keepdims=True)  # V was just allocated
        directions: Iterable[Array] = V
        with np.errstate(over="ignore", invalid="ignore"):  # reported below
            analytic = V @ grad
    else:  # the unit vectors e_i, one at a time (an identity matrix is n^2)
        directions = (_unit(theta.size, i) for i in range(theta.size))
        analytic = grad
    numeric = np.array(
        [(at_point(v, step) - at_point(v, -step)) / (2 * step) for v in directions]
    )
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, in words
        err = np.abs(numeric - analytic)
    if not np.isfinite(err).all():
        raise ValueError(
            "the loss_fn differences or the grads overflow float64; "
            "use a smaller h or smaller values"
        )
    ok = bool((err <= at + rt * np.abs(numeric)).all())
    return GradCheck(ok, float(err.max()), numeric, analytic)


def _unit(n: int, i: int) -> Array:
    """The ``i``-th unit vector of length ``n``."""
    e = np.zeros(n)
    e[i] = 1.0  # e was just allocated
    return e
