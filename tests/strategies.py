"""Hypothesis strategies for networks, batches and targets.

``cases()`` draws a ``Case`` from the public strategies of
``nnfunc.testing`` (a network recording its activations, a batch whose
ReLU pre-activations keep away from the kink, and targets of the documented
kind); ``make_case`` builds one from a seed, for tests of a fixed example.

The names the library accepts (``HIDDEN``, ``OUTPUT``, ``INITS``) and its two
float dtypes (``FLOAT_DTYPES``) are defined here once for the whole suite,
the fuzz suite's hostile strategies (``tests/fuzz/strategies.py``) included.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypedDict, get_args

import numpy as np
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc import testing as nft

HIDDEN: tuple[nf.ActivationName, ...] = nf.ACTIVATION_NAMES
OUTPUT: tuple[nf.OutputName, ...] = nft.OUTPUT_NAMES
KINKED = nft.KINKED
INITS: tuple[nf.InitName, ...] = get_args(nf.InitName)
FLOAT_DTYPES: tuple[np.dtype[Any], ...] = (np.dtype(np.float32), np.dtype(np.float64))


class NetKw(TypedDict):
    """The keyword arguments that name a network's activations."""

    hidden: nf.ActivationName
    output: nf.OutputName


class Case(NamedTuple):
    """A network, a batch and matching targets."""

    params: nf.Params
    x: nf.Array
    y: np.ndarray[Any, Any]
    hidden: nf.ActivationName
    output: nf.OutputName

    @property
    def kw(self) -> NetKw:
        """``hidden=..., output=...`` for this case."""
        return NetKw(hidden=self.hidden, output=self.output)


def random_targets(
    rng: np.random.Generator, output: nf.OutputName, batch: int, k: int
) -> np.ndarray[Any, Any]:
    """Targets of the documented kind and shape for ``output``."""
    if output == "softmax":
        if rng.random() < 0.5:
            return rng.integers(0, k, size=batch)
        p = rng.random((batch, k)) + 0.1
        rows: nf.Array = p / p.sum(axis=1, keepdims=True)
        return rows
    if output == "sigmoid":
        y = rng.random((batch, k))
        y = np.where(rng.random((batch, k)) < 0.5, np.round(y), y)
    else:
        y = 2.0 * rng.standard_normal((batch, k))
    return y[:, 0] if k == 1 and rng.random() < 0.5 else y


def make_case(
    sizes: list[int],
    batch: int,
    seed: int,
    hidden: nf.ActivationName,
    output: nf.OutputName,
    dtype: Any = np.float64,
) -> Case:
    """A network with random (non-zero) biases, a batch and targets.

    The network is the one ``nnfunc.testing.params`` draws for this seed,
    without its record: the tests pass hidden and output explicitly.
    """
    arch = nft.Architecture(tuple(sizes), hidden, output)
    params = nf.freeze(dict(nft.network(arch, dtype, seed)))
    rng = np.random.default_rng([seed, 1])  # a stream of its own for the data
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = random_targets(rng, output, batch, sizes[-1])
    return Case(params, x, y, hidden, output)


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    max_layers: int = 4,
    max_width: int = 6,
    max_batch: int = 8,
    hidden: tuple[nf.ActivationName, ...] = HIDDEN,
    output: tuple[nf.OutputName, ...] = OUTPUT,
    dtype: Any = np.float64,
) -> Case:
    """A random network of 1..max_layers layers with a matching batch.

    The params record ``hidden`` (one name for every hidden layer) and
    ``output``; ``Case.kw`` passes the same names again, explicitly.
    """
    name = draw(st.sampled_from(hidden))
    arch = nft.architectures(
        max_depth=max_layers,
        max_width=max_width,
        hidden=st.just(name),
        output=st.sampled_from(output),
    )
    params = draw(nft.params(arch, dtype=dtype))
    x = draw(nft.inputs(params, batch=st.integers(1, max_batch)))
    y = draw(nft.targets(params, batch=len(x)))
    assert params.output is not None  # nft.params records it
    return Case(params, x, y, name, params.output)


def min_abs_hidden_z(case: Case) -> float:
    """Smallest ``|z|`` over the hidden layers (inf when there are none)."""
    from nnfunc.forward import forward_cache, setup

    s = setup(case.params, case.hidden, case.output)
    zs = forward_cache(s, case.x).z[:-1]
    return min((float(np.abs(z).min()) for z in zs), default=float("inf"))
