"""Hypothesis strategies for networks, batches and targets."""

from __future__ import annotations

from typing import Any, NamedTuple, TypedDict, get_args

import numpy as np
from hypothesis import strategies as st

import nnfunc as nf

HIDDEN: tuple[nf.ActivationName, ...] = get_args(nf.ActivationName)
OUTPUT: tuple[nf.OutputName, ...] = get_args(nf.OutputName)
KINKED = frozenset({"relu", "leaky_relu"})


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
    """A network with random (non-zero) biases, a batch and targets."""
    rng = np.random.default_rng(seed)
    base = nf.init_params(sizes, seed=seed, init="xavier_normal")
    params = nf.freeze(
        {
            k: (v + 0.5 * rng.standard_normal(v.shape)).astype(dtype)
            if k.startswith("b")
            else v.astype(dtype)
            for k, v in base.items()
        }
    )  # no record: the tests pass hidden and output explicitly
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
    """A random network of 1..max_layers layers with a matching batch."""
    out = draw(st.sampled_from(output))
    n_layers = draw(st.integers(1, max_layers))
    sizes = draw(
        st.lists(
            st.integers(1, max_width), min_size=n_layers + 1, max_size=n_layers + 1
        )
    )
    if out == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    return make_case(
        sizes,
        draw(st.integers(1, max_batch)),
        draw(st.integers(0, 2**32 - 1)),
        draw(st.sampled_from(hidden)),
        out,
        dtype,
    )


def min_abs_hidden_z(case: Case) -> float:
    """Smallest ``|z|`` over the hidden layers (inf when there are none)."""
    from nnfunc.forward import forward_cache, setup

    s = setup(case.params, case.hidden, case.output)
    zs = forward_cache(s, case.x).z[:-1]
    return min((float(np.abs(z).min()) for z in zs), default=float("inf"))
