r"""Activation functions and their derivatives, in one registry.

Each entry is a pair ``(f, df)``: ``a = f(z)`` elementwise, and
``df(z, a) = f'(z)``, which may read the cached output ``a`` (for sigmoid,
``f' = a (1 - a)``) so backpropagation does not recompute it.

Every function here is finite and warning-free for any finite input, in
``float32`` and ``float64``, and returns a new array of ``z``'s dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple, get_args

import numpy as np

from nnfunc._types import ActivationName, Array

#: Slope of leaky ReLU for ``z < 0``.
LEAKY_SLOPE = 0.01
#: ``sqrt(2 / pi)``, the constant of the tanh approximation of GELU.
_GELU_C = math.sqrt(2.0 / math.pi)
#: Beyond ``|z| > 10`` the tanh in GELU is exactly +-1 in floating point, so
#: clipping its argument there changes nothing and keeps ``z**3`` finite.
_GELU_CLIP = 10.0


def sigmoid(z: Array) -> Array:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, computed stably.

    Uses the identity :math:`\sigma(z) = \tfrac12 (1 + \tanh(z/2))`: ``tanh``
    never overflows, so no ``exp`` of a large number is ever taken, and the
    result is within an ulp of 1 of the exact value everywhere. (Tiny
    outputs lose relative precision; the losses never need it, since they
    are computed from the logits.)

    Shapes: any; returns ``z``'s shape and dtype.

    Examples:
        >>> sigmoid(np.array([-1e4, 0.0, 1e4]))
        array([0. , 0.5, 1. ])
    """
    a: Array = np.tanh(0.5 * z)
    a *= 0.5  # a was just allocated by tanh
    a += 0.5
    return a


def d_sigmoid(z: Array, a: Array) -> Array:
    r""":math:`\sigma'(z) = \sigma(z)(1 - \sigma(z)) = a (1 - a)`."""
    return a * (1.0 - a)


def tanh(z: Array) -> Array:
    r"""Hyperbolic tangent, :math:`\tanh z` (NumPy's is already stable).

    Examples:
        >>> tanh(np.array([-1e4, 0.0]))
        array([-1.,  0.])
    """
    r: Array = np.tanh(z)
    return r


def d_tanh(z: Array, a: Array) -> Array:
    r""":math:`\tanh'(z) = 1 - \tanh^2 z = 1 - a^2`."""
    return 1.0 - a * a


def relu(z: Array) -> Array:
    r"""Rectified linear unit, :math:`\max(0, z)` (Nair & Hinton, 2010).

    Examples:
        >>> relu(np.array([-2.0, 0.0, 3.0]))
        array([0., 0., 3.])
    """
    r: Array = np.maximum(z, 0.0)
    return r


def d_relu(z: Array, a: Array) -> Array:
    """:math:`1` where ``z > 0``, else :math:`0` (the subgradient 0 at ``z = 0``)."""
    r: Array = (z > 0).astype(z.dtype)
    return r


def leaky_relu(z: Array) -> Array:
    r"""Leaky ReLU, :math:`z` for ``z > 0`` else :math:`0.01 z` (Maas et al., 2013).

    Examples:
        >>> leaky_relu(np.array([-2.0, 3.0]))
        array([-0.02,  3.  ])
    """
    r: Array = np.where(z > 0, z, LEAKY_SLOPE * z)
    return r


def d_leaky_relu(z: Array, a: Array) -> Array:
    """:math:`1` where ``z > 0``, else :math:`0.01`."""
    r: Array = np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)
    return r


def elu(z: Array) -> Array:
    r"""Exponential linear unit, :math:`z` for ``z > 0`` else :math:`e^z - 1`.

    (Clevert et al., 2016, with :math:`\alpha = 1`.) ``expm1`` is taken of
    ``min(z, 0)`` only, so it cannot overflow and stays exact near 0.

    Examples:
        >>> elu(np.array([-1e4, 0.0, 2.0]))
        array([-1.,  0.,  2.])
    """
    r: Array = np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))
    return r


def d_elu(z: Array, a: Array) -> Array:
    r""":math:`1` for ``z > 0``, else :math:`e^z = a + 1`."""
    r: Array = np.where(z > 0, 1.0, a + 1.0).astype(z.dtype)
    return r


def softplus(z: Array) -> Array:
    r"""Softplus, :math:`\log(1 + e^z)`, as ``logaddexp(0, z)`` so it never overflows.

    Examples:
        >>> softplus(np.array([-1e4, 0.0, 1e4]))
        array([0.00000000e+00, 6.93147181e-01, 1.00000000e+04])
    """
    r: Array = np.logaddexp(0.0, z).astype(z.dtype, copy=False)
    return r


def d_softplus(z: Array, a: Array) -> Array:
    r""":math:`\mathrm{softplus}'(z) = \sigma(z)`."""
    return sigmoid(z)


def gelu(z: Array) -> Array:
    r"""GELU, tanh approximation (Hendrycks & Gimpel, 2016).

    .. math:: \mathrm{gelu}(z) = \tfrac12 z\,(1 + \tanh(c\,(z + 0.044715 z^3))),
       \quad c = \sqrt{2/\pi}

    Examples:
        >>> gelu(np.array([-1e4, 0.0, 1e4]))
        array([   -0.,     0., 10000.])
    """
    return 0.5 * z * (1.0 + _gelu_tanh(z))


def _gelu_tanh(z: Array) -> Array:
    u = np.clip(z, -_GELU_CLIP, _GELU_CLIP)
    r: Array = np.tanh(_GELU_C * (u + 0.044715 * u * u * u))
    return r


def d_gelu(z: Array, a: Array) -> Array:
    r"""Derivative of the tanh-approximate GELU.

    .. math:: \tfrac12 (1 + t) + \tfrac12 z (1 - t^2)\, c\,(1 + 3 \cdot 0.044715 z^2),
       \quad t = \tanh(c\,(z + 0.044715 z^3))

    Where the argument was clipped, ``1 - t**2`` is exactly 0, so the
    clipped ``u`` stands in for ``z`` in the last factor without error.
    """
    t = _gelu_tanh(z)
    u = np.clip(z, -_GELU_CLIP, _GELU_CLIP)
    return 0.5 * (1.0 + t) + 0.5 * u * (1.0 - t * t) * _GELU_C * (
        1.0 + 3.0 * 0.044715 * u * u
    )


def identity(z: Array) -> Array:
    """The identity, :math:`f(z) = z` (returns a copy, never ``z`` itself).

    Examples:
        >>> identity(np.array([1.5]))
        array([1.5])
    """
    return z.copy()


def d_identity(z: Array, a: Array) -> Array:
    """:math:`1` everywhere."""
    return np.ones_like(z)


class Activation(NamedTuple):
    """An activation ``f`` and its derivative ``df(z, a)``."""

    f: Callable[[Array], Array]
    df: Callable[[Array, Array], Array]


#: The registry: one name, one ``(f, df)`` pair.
ACTIVATIONS: dict[ActivationName, Activation] = {
    "sigmoid": Activation(sigmoid, d_sigmoid),
    "tanh": Activation(tanh, d_tanh),
    "relu": Activation(relu, d_relu),
    "leaky_relu": Activation(leaky_relu, d_leaky_relu),
    "elu": Activation(elu, d_elu),
    "softplus": Activation(softplus, d_softplus),
    "gelu": Activation(gelu, d_gelu),
    "identity": Activation(identity, d_identity),
}

#: Every valid hidden activation name, in registry order.
ACTIVATION_NAMES: tuple[ActivationName, ...] = get_args(ActivationName)

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_NAMES",
    "Activation",
    "d_elu",
    "d_gelu",
    "d_identity",
    "d_leaky_relu",
    "d_relu",
    "d_sigmoid",
    "d_softplus",
    "d_tanh",
    "elu",
    "gelu",
    "identity",
    "leaky_relu",
    "relu",
    "sigmoid",
    "softplus",
    "tanh",
]
