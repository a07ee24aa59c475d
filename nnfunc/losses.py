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
loss is taken from the logits: for ``z = 1e4`` and ``y = 0``,
``log(1 - sigmoid(z))`` rounds ``a`` to 1 first and gives ``-inf``, while
``logaddexp(0, z) - y z`` stays exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from nnfunc._checks import as_real_array, sum_of_squares
from nnfunc._types import Array, OutputName
from nnfunc.activations import identity, sigmoid


def softmax(z: npt.ArrayLike) -> Array:
    r"""Row-wise softmax :math:`a_j = e^{z_j} / \sum_m e^{z_m}`.

    The row maximum is subtracted first (softmax is shift-invariant), so the
    largest exponent is ``e^0 = 1`` and nothing overflows.

    Shapes: ``(batch, k) -> (batch, k)``; a float dtype is kept, integers
    become float64.

    Raises:
        TypeError: ``z`` is not an array of real numbers.
        ValueError: ``z`` is not 2-D with ``k >= 1`` columns, or not finite.

    Examples:
        >>> softmax(np.array([[1e4, 0.0], [0.0, 0.0]]))
        array([[1. , 0. ],
               [0.5, 0.5]])
    """
    zs = _check_logits(z)
    with np.errstate(over="ignore"):  # z - max may round to -inf: e^-inf is 0
        return _softmax(zs)


def log_softmax(z: npt.ArrayLike) -> Array:
    r"""Row-wise :math:`\log \mathrm{softmax}(z) = z - \mathrm{logsumexp}(z)`.

    Shapes and errors as for ``softmax``; also a ``ValueError`` when a
    log-probability is below the dtype's range (the logits of a row span
    more than the largest float).

    Examples:
        >>> log_softmax(np.array([[1e4, 0.0]]))
        array([[     0., -10000.]])
    """
    zs = _check_logits(z)
    with np.errstate(over="ignore"):  # reported below, in words
        out = _log_softmax(zs)
    if not np.isfinite(out).all():
        raise ValueError(
            f"log_softmax(z) overflows {zs.dtype}: the logits z of a row span "
            "more than the largest float; scale z"
        )
    return out


def _check_logits(z: object) -> Array:
    """``z`` as a finite 2-D float array with at least one column."""
    arr = as_real_array(z, "z")
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(
            f"z must be 2-D of shape (batch, k) with k >= 1, got shape {arr.shape}"
        )
    zs: Array = arr if arr.dtype.kind == "f" else arr.astype(np.float64)
    if not np.isfinite(zs).all():
        raise ValueError("z has NaN or infinite values")
    return zs


def _softmax(z: Array) -> Array:
    """``softmax`` on a valid 2-D float array (no checks)."""
    e: Array = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)  # e was just allocated here
    return e


def _log_softmax(z: Array) -> Array:
    """``log_softmax`` on a valid 2-D float array (no checks)."""
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
    return float(-(Y * _log_softmax(z)).sum())


def half_sse(z: Array, Y: Array) -> float:
    r"""Summed half squared error :math:`\tfrac12 \sum (z - y)^2`.

    Examples:
        >>> half_sse(np.array([[3.0]]), np.array([[1.0]]))
        2.0
    """
    r = z - Y
    return 0.5 * sum_of_squares(r)


class OutputPair(NamedTuple):
    """An output activation with its canonical loss (summed over the batch)."""

    f: Callable[[Array], Array]
    loss_sum: Callable[[Array, Array], float]


#: The registry of canonical output/loss pairs.
OUTPUTS: dict[OutputName, OutputPair] = {
    "sigmoid": OutputPair(sigmoid, bce_from_logits),
    "softmax": OutputPair(_softmax, cce_from_logits),
    "identity": OutputPair(identity, half_sse),
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
