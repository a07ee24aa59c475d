r"""Backpropagation: the exact gradient of the loss, by the chain rule.

With ``delta^l = dL/dz^l`` (shape ``(batch, n_l)``), the four equations are

.. math::
    \delta^{L} &= (a^{L} - y) / B
        && \text{(BP1: output error of a canonical pair)} \\
    \delta^{l} &= (\delta^{l+1} W^{l+1\,\top}) \odot f'(z^{l})
        && \text{(BP2: error sent back one layer)} \\
    \partial L / \partial b^{l} &= \textstyle\sum_{\text{batch}} \delta^{l}
        && \text{(BP3)} \\
    \partial L / \partial W^{l} &= a^{l-1\,\top} \delta^{l}
        && \text{(BP4)}

(Nielsen, *Neural Networks and Deep Learning*, ch. 2, in row-batch form.)
With dropout, ``f'(z^l)`` is multiplied by the same mask the forward pass
used; with an L2 penalty ``(l2/2) sum ||W||^2``, ``dL/dW`` gains ``l2 * W``.
"""

from __future__ import annotations

import math

import numpy as np

from nnfunc._checks import all_finite, check_float, check_x, check_y, sum_of_squares
from nnfunc._types import (
    Array,
    Batch,
    Frozen,
    Hidden,
    OutputName,
    Params,
    Seed,
    Targets,
    param_keys,
)
from nnfunc.forward import Cache, Setup, forward_cache, overflow_error, record_of, setup
from nnfunc.losses import OUTPUTS
from nnfunc.params import pack


def loss_and_grads_kernel(
    s: Setup, x: Array, Y: Array, l2: float
) -> tuple[float, dict[str, Array]]:
    """One forward and one backward pass on validated inputs.

    No checks: ``s`` comes from ``setup`` and ``x``, ``Y`` from ``check_x``
    and ``check_y``. Returns the loss and a dict of new, writable gradient
    arrays in layer order.
    """
    cache = forward_cache(s, x)
    return loss_value(s, cache.z[-1], Y, l2), backward(s, cache, Y, l2)


def loss_value(s: Setup, z_L: Array, Y: Array, l2: float) -> float:
    """The mean loss from the logits, plus ``(l2/2) sum ||W||^2``."""
    value: float = OUTPUTS[s.output].loss_sum(z_L, Y) / z_L.shape[0]
    if l2:
        value += 0.5 * l2 * sum(sum_of_squares(W) for W in s.net.Ws)
    return value


def backward(s: Setup, cache: Cache, Y: Array, l2: float) -> dict[str, Array]:
    """The four equations, from the output layer down: ``dL/dparams``.

    Returns new arrays in layer order ``W1, b1, ...``.
    """
    L = len(s.net.Ws)
    batch = Y.shape[0]
    g: dict[str, Array] = {}
    # BP1: for every canonical pair dL/dz^L = (a^L - y) / B (see losses.py).
    delta = OUTPUTS[s.output].f(cache.z[-1])
    delta -= Y  # delta was just allocated by the output activation
    delta /= delta.dtype.type(batch)
    for l in range(L, 0, -1):
        W, a = s.net.Ws[l - 1], cache.a[l - 1]
        # BP4 and BP3: dW = a^(l-1).T @ delta, db = delta.sum(axis=0)
        dW = a.T @ delta
        if l2:
            dW += l2 * W  # dW was just allocated by the product above
        g[f"W{l}"] = dW
        g[f"b{l}"] = delta.sum(axis=0)
        if l > 1:
            delta = delta @ W.T  # BP2, first factor; a new array
            delta *= s.acts[l - 2].df(cache.z[l - 2], cache.h[l - 2])
            mask = cache.masks[l - 2]
            if mask is not None:
                delta *= mask
    return {k: g[k] for k in param_keys(L)}  # layer order: W1, b1, W2, ...


def loss_and_grads(
    params: Params,
    x: Batch,
    y: Targets,
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
    l2: float = 0.0,
    dropout: float = 0.0,
    training: bool = False,
    seed: Seed | None = None,
) -> tuple[float, Frozen[Array]]:
    """The loss and its gradient from one forward and one backward pass.

    Args:
        params: ``W1, b1, ..., WL, bL``.
        x: inputs, ``(batch, n_0)``.
        y: targets (see ``loss``).
        hidden: hidden activation name(s); None uses the params' record
            (see ``nnfunc.forward``).
        output: ``"sigmoid"``, ``"softmax"`` or ``"identity"``; fixes the
            loss. None uses the params' record.
        l2: weight of the penalty ``(l2/2) sum_l ||W^l||^2`` (biases excluded).
        dropout: drop probability of hidden units when ``training``.
        training: apply dropout with masks drawn from ``seed``.
        seed: seed of the dropout masks (required when dropping).

    Returns:
        ``(loss, grads)``; grads is read-only with the keys and shapes of params.

    Examples:
        >>> from nnfunc import init_params
        >>> p = init_params([2, 2, 1], seed=0)
        >>> value, g = loss_and_grads(p, np.eye(2), np.array([0.0, 1.0]))
        >>> sorted(g) == sorted(p), g["W1"].shape
        (True, (2, 2))
    """
    s, xs, Y, penalty = _prepare(
        params, x, y, hidden, output, l2, dropout, training, seed
    )
    with np.errstate(all="ignore"):  # an overflow is reported in words
        value, g = loss_and_grads_kernel(s, xs, Y, penalty)
        if not math.isfinite(value):
            raise overflow_error("the loss", s.net.dtype)
        return value, _freeze_finite(params, s, g)


def grads(
    params: Params,
    x: Batch,
    y: Targets,
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
    l2: float = 0.0,
    dropout: float = 0.0,
    training: bool = False,
    seed: Seed | None = None,
) -> Frozen[Array]:
    """``dL/dparams`` by backpropagation (see the module docstring).

    Same arguments as ``loss_and_grads``; returns only the gradient, a
    read-only mapping with exactly the keys and shapes of ``params``.

    Examples:
        >>> from nnfunc import init_params
        >>> p = init_params([3, 1], seed=0)
        >>> g = grads(p, np.ones((2, 3)), np.array([1.0, 0.0]))
        >>> g["b1"]  # (sigmoid(0) - 1 + sigmoid(0) - 0) / 2
        array([0.])
    """
    s, xs, Y, penalty = _prepare(
        params, x, y, hidden, output, l2, dropout, training, seed
    )
    with np.errstate(all="ignore"):  # an overflow is reported in words
        return _freeze_finite(params, s, backward(s, forward_cache(s, xs), Y, penalty))


def loss(
    params: Params,
    x: Batch,
    y: Targets,
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
    l2: float = 0.0,
    dropout: float = 0.0,
    training: bool = False,
    seed: Seed | None = None,
) -> float:
    """The mean loss over the batch of the output's canonical loss.

    ``y`` by output: ``sigmoid``, targets in ``[0, 1]`` of shape
    ``(batch, k)`` (or ``(batch,)`` when ``k == 1``); ``softmax``, integer
    labels ``(batch,)`` or probability rows ``(batch, k)``; ``identity``,
    real targets ``(batch, k)`` (or ``(batch,)``). Computed from the logits
    (``logaddexp``, log-sum-exp), so finite for any finite logits. ``l2``
    adds ``(l2/2) sum_l ||W^l||^2``.

    Examples:
        >>> from nnfunc import init_params
        >>> p = init_params([2, 1], seed=0)
        >>> round(loss(p, np.zeros((3, 2)), np.ones(3)), 6)  # -log(sigmoid(0))
        0.693147
    """
    s, xs, Y, penalty = _prepare(
        params, x, y, hidden, output, l2, dropout, training, seed
    )
    with np.errstate(all="ignore"):  # an overflow is reported below, in words
        value = loss_value(s, forward_cache(s, xs).z[-1], Y, penalty)
    if not math.isfinite(value):
        raise overflow_error("the loss", s.net.dtype)
    return value


def _prepare(
    params: Params,
    x: Batch,
    y: Targets,
    hidden: Hidden | None,
    output: OutputName | None,
    l2: float,
    dropout: float,
    training: bool,
    seed: Seed | None,
) -> tuple[Setup, Array, Array, float]:
    """Validate everything ``loss``/``grads`` take, once, at the boundary."""
    s = setup(params, hidden, output, dropout, training, seed)
    xs = check_x(x, s.net)
    Y = check_y(y, s.output, xs.shape[0], s.net.Ws[-1].shape[1], s.net.dtype)
    return s, xs, Y, check_float(l2, "l2")


def _freeze_finite(params: Params, s: Setup, g: dict[str, Array]) -> Frozen[Array]:
    """Freeze new gradient arrays once they are known to be finite.

    The gradient is packed into one buffer (so a step can treat the whole
    network as one array) and certified by one pass over it. It keeps the
    params' record.
    """
    value = pack(s.net, list(g.values()), *record_of(params))
    flat = value._net.flat if value._net is not None else None
    if flat is not None and all_finite(flat):
        return value
    for k, a in g.items():
        if not all_finite(a):
            raise ValueError(
                f"the gradient {k} overflowed {a.dtype}: the inputs or params are "
                "too large for it, or params hold NaN or inf; scale the inputs "
                "down or use float64"
            )
    return value
