"""The losses from logits: finite, warning-free and exact at extreme logits.

Logits of +-1e4, at the output and in the hidden layers, in both dtypes: a
confident right answer costs about 0, a confident wrong one exactly the
limit, and nothing overflows. pytest turns every warning into an error, so
an overflow inside any function fails these tests too.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nnfunc as nf
from tests.strategies import HIDDEN, OUTPUT

DTYPES = (np.float32, np.float64)


def _net(scale: float, dtype: type[np.floating]) -> nf.Params:
    """A 2-3-3-2 network whose pre-activations are +-scale on inputs of +-1."""
    W1 = np.array([[1.0, -1.0, 0.5], [0.0, 0.0, 0.5]]) * scale
    W2 = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0], [-1.0, 1.0, 0.0]])
    W3 = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    return nf.freeze(
        {
            "W1": W1.astype(dtype),
            "b1": np.zeros(3, dtype),
            "W2": W2.astype(dtype),
            "b2": np.zeros(3, dtype),
            "W3": W3.astype(dtype),
            "b3": np.zeros(2, dtype),
        }
    )


def _targets(output: str) -> np.ndarray:
    if output == "softmax":
        return np.array([0, 1, 1, 0])
    return np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])


X = np.array([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])


@pytest.mark.parametrize(
    ("dtype", "hidden", "output"), list(itertools.product(DTYPES, HIDDEN, OUTPUT))
)
def test_hidden_and_output_logits_of_1e4_stay_finite(
    dtype: type[np.floating],
    hidden: nf.ActivationName,
    output: nf.OutputName,
) -> None:
    params = _net(1e4, dtype)
    y = _targets(output)
    a = nf.forward(params, X, hidden=hidden, output=output)
    value, g = nf.loss_and_grads(params, X, y, hidden=hidden, output=output)
    assert a.dtype == dtype
    assert np.isfinite(a).all()
    assert np.isfinite(value)
    assert value >= 0
    assert all(np.isfinite(v).all() and v.dtype == dtype for v in g.values())


@pytest.mark.parametrize(("dtype", "output"), list(itertools.product(DTYPES, OUTPUT)))
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_output_logits_of_pm_1e4_give_the_exact_limits(
    dtype: type[np.floating],
    output: nf.OutputName,
    sign: float,
) -> None:
    # One layer: z = +-1e4 exactly. A confident right answer costs ~0, a
    # confident wrong one costs ~1e4, and neither overflows.
    params = nf.freeze(
        {"W1": np.array([[sign * 1e4, 0.0]], dtype), "b1": np.zeros(2, dtype)}
    )
    x = np.ones((1, 1))
    if output == "softmax":
        right, wrong = (
            np.array([0 if sign > 0 else 1]),
            np.array([1 if sign > 0 else 0]),
        )
    else:
        right = np.array([[1.0 if sign > 0 else 0.0, 0.5]])
        wrong = 1.0 - right
    if output == "identity":
        right = np.array([[sign * 1e4, 0.0]])
        wrong = np.array([[0.0, 0.0]])
    lo = nf.loss(params, x, right, hidden="relu", output=output)
    hi = nf.loss(params, x, wrong, hidden="relu", output=output)
    expected_hi = {"sigmoid": 1e4, "softmax": 1e4, "identity": 0.5e8}[output]
    assert (
        0.0 <= lo <= (0.7 if output == "sigmoid" else 1e-6)
    )  # the 0.5 target costs log 2
    assert hi == pytest.approx(expected_hi, rel=1e-3)
    assert all(
        np.isfinite(v).all() for v in nf.grads(params, x, wrong, output=output).values()
    )
