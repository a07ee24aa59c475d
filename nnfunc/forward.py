r"""Forward propagation: ``z = a_prev @ W + b``, ``a = f(z)``, layer by layer.

For a batch ``x`` of shape ``(batch, n_0)`` (one sample per row) and layers
``l = 1..L``:

.. math::
    a^{0} = x, \qquad z^{l} = a^{l-1} W^{l} + b^{l}, \qquad a^{l} = f^{l}(z^{l})

with ``f^l`` the hidden activation for ``l < L`` and the output activation at
``l = L``. The textbook column form ``z = W x + b`` is the same equation
transposed; rows let one matrix product serve the whole batch.

Dropout (Srivastava et al., JMLR 2014), when training, multiplies each hidden
activation by a mask ``m = (u >= rate) / (1 - rate)`` with ``u ~ U[0, 1)``
drawn from an explicit seed: a unit is dropped with probability ``rate`` and
the survivors are scaled up so the expected activation is unchanged
("inverted" dropout, so evaluation needs no rescaling).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from nnfunc._checks import (
    check_float,
    check_params,
    check_record,
    check_seed,
    check_x,
)
from nnfunc._types import (
    Array,
    Batch,
    Frozen,
    Hidden,
    Net,
    Output,
    OutputName,
    Params,
    Seed,
)
from nnfunc.activations import ACTIVATIONS, Activation
from nnfunc.losses import OUTPUTS


class Cache(NamedTuple):
    """What backpropagation reads from the forward pass.

    ``a[0] = x`` and ``a[l]`` is the (dropped-out) input of layer ``l + 1``;
    ``h[l - 1] = f(z^l)`` before dropout (for ``f'``); ``z[l - 1] = z^l``;
    ``masks[l - 1]`` is the scaled dropout mask of hidden layer ``l`` or None.
    """

    a: tuple[Array, ...]
    h: tuple[Array, ...]
    z: tuple[Array, ...]
    masks: tuple[Array | None, ...]


class Setup(NamedTuple):
    """Validated options shared by forward, loss and grads.

    ``hidden`` is the architecture as recorded (one name, or one per hidden
    layer) and ``acts`` its activation per hidden layer.
    """

    net: Net
    acts: tuple[Activation, ...]
    output: OutputName
    rate: float
    rng: np.random.Generator | None
    hidden: Hidden = "relu"


def setup(
    params: Params,
    hidden: Hidden | None,
    output: OutputName | None,
    dropout: float = 0.0,
    training: bool = False,
    seed: Seed | None = None,
) -> Setup:
    """Validate params and the options; the kernels then trust them.

    ``hidden``/``output`` None: the params' record (see ``check_record``).
    """
    net = check_params(params)
    record, names, out = check_record(
        params, hidden, output, len(net.Ws) - 1, net.sizes[-1]
    )
    rate = check_float(dropout, "dropout", hi=1.0, hi_open=True)
    if not isinstance(training, bool):
        raise TypeError(f"training must be a bool, got {type(training).__name__}")
    rng = None
    if training and rate > 0.0:
        if seed is None:
            raise ValueError(
                "dropout in training needs an explicit seed for its masks, got "
                "seed=None; pass seed=<int> (a new one per step)"
            )
        rng = np.random.default_rng(check_seed(seed))
    elif seed is not None:
        check_seed(seed)
    acts = tuple(ACTIVATIONS[n] for n in names)
    return Setup(net, acts, out, rate, rng, record)


def record_of(params: Params) -> tuple[Hidden | None, OutputName | None]:
    """The ``(hidden, output)`` a params value records, ``(None, None)`` if none."""
    if isinstance(params, Frozen):
        return params.hidden, params.output
    return None, None


def forward_cache(s: Setup, x: Array) -> Cache:
    """The forward pass keeping every ``z``, ``f(z)`` and mask (no checks)."""
    a = x
    As, Hs, Zs, Ms = [x], [], [], []
    L = len(s.net.Ws)
    for l, (W, b) in enumerate(zip(s.net.Ws, s.net.bs, strict=True), 1):
        z = a @ W
        z += b  # z was just allocated by the product above
        Zs.append(z)
        if l == L:
            break
        a, h, mask = activate(s, l, z)
        As.append(a)
        Hs.append(h)
        Ms.append(mask)
    return Cache(tuple(As), tuple(Hs), tuple(Zs), tuple(Ms))


def activate(s: Setup, l: int, z: Array) -> tuple[Array, Array, Array | None]:
    """Hidden layer ``l``'s output ``a = f(z) * m``: ``(a, f(z), m)``.

    ``m`` is the scaled dropout mask when training with dropout, else None
    (and ``a`` is ``f(z)`` itself).
    """
    h = s.acts[l - 1].f(z)
    if s.rng is None:
        return h, h, None
    keep = s.rng.random(z.shape) >= s.rate
    mask = keep.astype(z.dtype) * z.dtype.type(1.0 / (1.0 - s.rate))
    return h * mask, h, mask


def overflow_error(what: str, dtype: np.dtype[Any]) -> ValueError:
    """The error for a result that overflowed although every input was finite."""
    return ValueError(
        f"{what} overflowed {dtype}: x (or the params, or l2) are too large for "
        "this network to give finite values; scale the inputs down"
    )


def forward(
    params: Params,
    x: Batch,
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
    dropout: float = 0.0,
    training: bool = False,
    seed: Seed | None = None,
) -> Output:
    """Run the network on a batch: the output activations ``a^L``.

    Args:
        params: ``W1, b1, ..., WL, bL`` as from ``init_params``.
        x: inputs of shape ``(batch, n_0)``; cast once to the params' dtype.
        hidden: one activation for every hidden layer, or one name per
            layer; None (the default) uses the params' record (``"relu"``
            for a plain mapping). A name that contradicts the record is a
            ValueError.
        output: ``"sigmoid"``, ``"softmax"`` or ``"identity"``; None uses
            the record (``"sigmoid"`` for a plain mapping).
        dropout: probability of dropping each hidden unit, used only when
            ``training`` is true (then ``seed`` is required).
        training: apply dropout (True) or not (False, evaluation).
        seed: the seed of the dropout masks.

    Returns:
        A new array of shape ``(batch, n_L)`` in the params' dtype.

    Examples:
        >>> from nnfunc import init_params
        >>> p = init_params([2, 3, 1], seed=0)
        >>> forward(p, np.zeros((4, 2))).shape
        (4, 1)
    """
    s = setup(params, hidden, output, dropout, training, seed)
    xs = check_x(x, s.net)
    with np.errstate(all="ignore"):  # an overflow is reported below, in words
        a = OUTPUTS[s.output].f(forward_cache(s, xs).z[-1])
    if not np.isfinite(a).all():
        raise overflow_error("the output", s.net.dtype)
    return a


def predict(
    params: Params,
    x: Batch,
    *,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
) -> Array:
    """Predictions shaped like the labels they are compared with.

    ``softmax``: class labels ``argmax_j z_j`` of shape ``(batch,)`` (int64).
    ``sigmoid``: 0/1 (int64) where ``a > 0.5``, i.e. ``z > 0``; shape
    ``(batch, k)``, or ``(batch,)`` when ``k == 1``.
    ``identity``: the outputs; shape ``(batch, k)``, or ``(batch,)`` when ``k == 1``.
    ``hidden`` and ``output`` as for ``forward``: the params' record by default.

    Examples:
        >>> from nnfunc import init_params
        >>> p = init_params([2, 3, 4], output="softmax", seed=0)
        >>> predict(p, np.ones((5, 2))).shape
        (5,)
    """
    s = setup(params, hidden, output)
    xs = check_x(x, s.net)
    with np.errstate(all="ignore"):  # an overflow is reported below, in words
        z = forward_cache(s, xs).z[-1]
    # +-inf logits still rank (and sign) right, except for identity outputs
    if (np.isnan(z) if s.output != "identity" else ~np.isfinite(z)).any():
        raise overflow_error("the output", s.net.dtype)
    if s.output == "softmax":
        labels: Array = np.argmax(z, axis=1).astype(np.int64)
        return labels
    out: Array = (z > 0).astype(np.int64) if s.output == "sigmoid" else z
    return out[:, 0] if out.shape[1] == 1 else out
