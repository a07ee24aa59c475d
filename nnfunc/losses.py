r"""The output activation / loss pairs, each computed stably from the logits.

For logits ``z`` (the output layer's pre-activation), output ``a = f(z)`` and
targets ``y``, all of shape ``(batch, k)``, the loss is the mean over the
batch of the sum over the output units:

.. math:: L = \frac{1}{B} \sum_{i=1}^{B} \sum_{j=1}^{k} \ell(a_{ij}, y_{ij})

- ``sigmoid`` with binary cross-entropy,
  :math:`\ell = -y\log a - (1-y)\log(1-a) = \log(1+e^{z}) - y z`;
- ``softmax`` with categorical cross-entropy,
  :math:`\ell_j = -y_j \log a_j`, where ``log a = z - logsumexp(z)``;
- ``identity`` with half squared error, :math:`\ell = \tfrac12 (a - y)^2`.

Why these pairs: each is the negative log-likelihood of a distribution whose
natural parameter is ``z`` (Bernoulli, categorical, Gaussian), and for all
three the chain rule collapses to the same output error

.. math:: \frac{\partial L}{\partial z} = \frac{a - y}{B}.

For the sigmoid, :math:`\partial\ell/\partial a = (a - y)/(a(1-a))` and
:math:`\partial a/\partial z = a(1-a)`, so the two factors cancel; the softmax
Jacobian cancels the same way because each row of ``y`` sums to 1. That is
why backpropagation starts from ``delta = (a - y) / batch`` and why the
loss is taken from the logits: ``log(sigmoid(1e4))`` would round ``a`` to
1 first and lose everything, while ``logaddexp(0, z)`` stays exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from nnfunc._types import Array, OutputName
from nnfunc.activations import sigmoid


def softmax(z: Array) -> Array:
    r"""Row-wise softmax :math:`a_j = e^{z_j} / \sum_m e^{z_m}`.

    The row maximum is subtracted first (softmax is shift-invariant), so the
    largest exponent is ``e^0 = 1`` and nothing overflows.

    Shapes: ``(batch, k) -> (batch, k)``.

    Examples:
        >>> softmax(np.array([[1e4, 0.0], [0.0, 0.0]]))
        array([[1. , 0. ],
               [0.5, 0.5]])
    """
    e: Array = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)  # e was just allocated here
    return e


def log_softmax(z: Array) -> Array:
    r"""Row-wise :math:`\log \mathrm{softmax}(z) = z - \mathrm{logsumexp}(z)`.

    Examples:
        >>> log_softmax(np.array([[1e4, 0.0]]))
        array([[     0., -10000.]])
    """
    shifted: Array = z - z.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # just allocated
    return shifted


def bce_from_logits(z: Array, Y: Array) -> float:
    r"""Summed binary cross-entropy :math:`\sum \log(1 + e^{z}) - y z`.

    Examples:
        >>> bce_from_logits(np.array([[1e4, -1e4]]), np.array([[1.0, 0.0]]))
        0.0
    """
    return float((np.logaddexp(0.0, z) - Y * z).sum())


def cce_from_logits(z: Array, Y: Array) -> float:
    r"""Summed categorical cross-entropy :math:`-\sum_{ij} y_{ij} \log a_{ij}`.

    Examples:
        >>> round(cce_from_logits(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])), 6)
        0.693147
    """
    return float(-(Y * log_softmax(z)).sum())


def half_sse(z: Array, Y: Array) -> float:
    r"""Summed half squared error :math:`\tfrac12 \sum (z - y)^2`.

    Examples:
        >>> half_sse(np.array([[3.0]]), np.array([[1.0]]))
        2.0
    """
    r = z - Y
    return float(0.5 * np.vdot(r, r))


class OutputPair(NamedTuple):
    """An output activation with its canonical loss (summed over the batch)."""

    f: Callable[[Array], Array]
    loss_sum: Callable[[Array, Array], float]


def _identity(z: Array) -> Array:
    return z.copy()


#: The registry of canonical output/loss pairs.
OUTPUTS: dict[OutputName, OutputPair] = {
    "sigmoid": OutputPair(sigmoid, bce_from_logits),
    "softmax": OutputPair(softmax, cce_from_logits),
    "identity": OutputPair(_identity, half_sse),
}

__all__ = [
    "OUTPUTS",
    "OutputPair",
    "bce_from_logits",
    "cce_from_logits",
    "half_sse",
    "log_softmax",
    "softmax",
]
