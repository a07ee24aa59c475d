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

import numpy as np

from nnfunc._checks import check_float, check_x, check_y
from nnfunc._types import Array, Batch, Grads, Hidden, OutputName, Params, Seed, Targets
from nnfunc.forward import Setup, forward_cache, setup
from nnfunc.losses import OUTPUTS
from nnfunc.params import freeze_owned


def loss_and_grads_kernel(
    s: Setup, x: Array, Y: Array, l2: float, *, want_grads: bool = True
) -> tuple[float, dict[str, Array]]:
    """One forward and one backward pass on validated inputs (no checks).

    Returns the loss and a dict of new, writable gradient arrays (empty when
    ``want_grads`` is false).
    """
    cache = forward_cache(s, x)
    pair = OUTPUTS[s.output]
    z_L = cache.z[-1]
    batch = x.shape[0]
    value = pair.loss_sum(z_L, Y) / batch
    if l2:
        value += 0.5 * l2 * sum(float(np.vdot(W, W)) for W in s.net.Ws)
    if not want_grads:
        return value, {}
    L = len(s.net.Ws)
    g: dict[str, Array] = {}
    # BP1: for every canonical pair dL/dz^L = (a^L - y) / B (see losses.py).
    delta = pair.f(z_L)
    delta -= Y  # delta was just allocated by pair.f
    delta *= delta.dtype.type(1.0 / batch)
    for l in range(L, 0, -1):
        W = s.net.Ws[l - 1]
        dW = cache.a[l - 1].T @ delta  # BP4
        if l2:
            dW += l2 * W  # dW was just allocated by the product
        g[f"W{l}"] = dW
        g[f"b{l}"] = delta.sum(axis=0)  # BP3
        if l > 1:
            delta = delta @ W.T  # BP2, first factor; a new array
            delta *= s.acts[l - 2].df(cache.z[l - 2], cache.h[l - 2])
            mask = cache.masks[l - 2]
            if mask is not None:
                delta *= mask
    return value, {k: g[k] for l in range(1, L + 1) for k in (f"W{l}", f"b{l}")}


def loss_and_grads(
    params: Params,
    x: Batch,
    y: Targets,
    *,
    hidden: Hidden = "relu",
    output: OutputName = "sigmoid",
    l2: float = 0.0,
    dropout: float = 0.0,
    training: bool = False,
    seed: Seed | None = None,
) -> tuple[float, Grads]:
    """The loss and its gradient from one forward and one backward pass.

    Args:
        params: ``W1, b1, ..., WL, bL``.
        x: inputs, ``(batch, n_0)``.
        y: targets (see ``loss``).
        hidden: hidden activation name(s).
        output: ``"sigmoid"``, ``"softmax"`` or ``"identity"``; fixes the loss.
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
    s = setup(params, hidden, output, dropout, training, seed)
    xs = check_x(x, s.net)
    Y = check_y(y, s.output, xs.shape[0], s.net.Ws[-1].shape[1], s.net.dtype)
    value, g = loss_and_grads_kernel(s, xs, Y, check_float(l2, "l2"))
    return value, freeze_owned(g)


def grads(
    params: Params,
    x: Batch,
    y: Targets,
    *,
    hidden: Hidden = "relu",
    output: OutputName = "sigmoid",
    l2: float = 0.0,
    dropout: float = 0.0,
    training: bool = False,
    seed: Seed | None = None,
) -> Grads:
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
    return loss_and_grads(
        params,
        x,
        y,
        hidden=hidden,
        output=output,
        l2=l2,
        dropout=dropout,
        training=training,
        seed=seed,
    )[1]


def loss(
    params: Params,
    x: Batch,
    y: Targets,
    *,
    hidden: Hidden = "relu",
    output: OutputName = "sigmoid",
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
    s = setup(params, hidden, output, dropout, training, seed)
    xs = check_x(x, s.net)
    Y = check_y(y, s.output, xs.shape[0], s.net.Ws[-1].shape[1], s.net.dtype)
    return loss_and_grads_kernel(s, xs, Y, check_float(l2, "l2"), want_grads=False)[0]
