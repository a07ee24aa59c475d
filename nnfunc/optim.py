r"""Gradient descent and its stateful variants, as pure functions.

Plain gradient descent needs no state:

.. math:: \theta \leftarrow \theta - \eta\, \nabla_\theta L

Stateful optimizers come as pairs ``X_init(params) -> state`` and
``X_step(params, grads, state, *, lr, ...) -> (params, state)``; an
``Optimizer`` bundles such a pair with its hyperparameters bound, for
``train``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from nnfunc._checks import check_float, check_params, check_same_structure
from nnfunc._types import Array, Grads, OptState, Params
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
