"""Numerical extremes: logits near overflow, matmuls that overflow, deep and thin nets.

The rule: from finite inputs every public function returns finite values
(logits of +-1e4 give the exact limits), or, when a product leaves the
dtype's range, raises a ValueError saying it overflowed; never inf, NaN or
a warning (pytest turns warnings into errors).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import nnfunc as nf
from tests.strategies import HIDDEN, OUTPUT

DTYPES: tuple[type[np.floating[Any]], ...] = (np.float32, np.float64)
LOGITS = (80.0, 700.0, 1e4, 3e38, 1e300)


def one_layer(z: float, dtype: type[np.floating[Any]]) -> nf.Params:
    """A 1-2 layer whose logits on x = 1 are exactly (z, -z)."""
    return nf.freeze({"W1": np.array([[z, -z]], dtype), "b1": np.zeros(2, dtype)})


def targets(output: str) -> np.ndarray[Any, Any]:
    """Confidently wrong targets: the loss is about 2 z."""
    return np.array([1]) if output == "softmax" else np.array([[0.0, 1.0]])


def finite_or_overflow(f: Any) -> Any:
    """``f()`` if finite; None if it raised the overflow ValueError."""
    try:
        out = f()
    except ValueError as e:
        message = str(e)
    else:
        values = out.values() if hasattr(out, "values") else [out]
        assert all(np.isfinite(v).all() for v in values)
        return out
    assert "overflowed" in message or "too large" in message, message
    return None


@pytest.mark.parametrize(
    ("dtype", "output", "z"),
    [  # only logits that are finite in the dtype
        (dtype, output, z)
        for dtype, output, z in itertools.product(DTYPES, OUTPUT, LOGITS)
        if z <= float(np.finfo(dtype).max)
    ],
)
def test_logits_near_overflow(
    dtype: type[np.floating[Any]], output: nf.OutputName, z: float
) -> None:
    p, x, y = one_layer(z, dtype), np.ones((1, 1)), targets(output)
    kw: dict[str, Any] = {"output": output}
    a = finite_or_overflow(lambda: nf.forward(p, x, **kw))
    value = finite_or_overflow(lambda: nf.loss(p, x, y, **kw))
    g = finite_or_overflow(lambda: nf.grads(p, x, y, **kw))
    both = finite_or_overflow(lambda: nf.loss_and_grads(p, x, y, **kw)[0])
    pred = nf.predict(p, x, **kw) if output != "identity" else None
    assert (value is None) == (both is None)
    if z <= 1e4:  # comfortably inside both dtypes: everything is finite
        assert a is not None
        assert value is not None
        assert g is not None
    if output == "sigmoid":  # the loss from the logits is exact: 2 z
        # (float32 sums the loss in float32: 2 * 3e38 overflows it)
        assert value is None or value == pytest.approx(2 * z, rel=1e-6)
        assert g is not None
        assert a is not None
        assert a.tolist() == [[1.0, 0.0]]
    if output == "softmax":
        assert pred is not None
        assert pred.tolist() == [0]  # the label was 1: a confident wrong answer
        assert value is None or value == pytest.approx(2 * z, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", OUTPUT)
def test_a_matmul_that_overflows_is_a_clear_error(
    dtype: type[np.floating[Any]], output: nf.OutputName
) -> None:
    big = float(np.finfo(dtype).max) ** 0.5 * 4  # x * W is above the max
    p = nf.freeze({"W1": np.full((2, 2), big, dtype), "b1": np.zeros(2, dtype)})
    x = np.full((3, 2), big)
    y = np.array([0, 1, 1]) if output == "softmax" else np.zeros((3, 2))
    with pytest.raises(ValueError, match=rf"overflowed {np.dtype(dtype)}"):
        nf.loss(p, x, y, output=output)
    with pytest.raises(ValueError, match="overflowed"):
        nf.loss_and_grads(p, x, y, output=output)
    if output != "sigmoid":
        with pytest.raises(ValueError, match="scale the inputs"):
            nf.forward(p, x, output=output)
    else:  # sigmoid(+inf) = 1 is the exact limit: nothing is lost
        assert nf.forward(p, x, output=output).tolist() == [[1.0, 1.0]] * 3
    if output == "identity":
        with pytest.raises(ValueError, match="overflowed"):
            nf.predict(p, x, output=output)


def test_a_hidden_overflow_that_saturates_is_the_exact_limit() -> None:
    # z1 = +-inf in float32, tanh(z1) = +-1: the output is the exact limit.
    p = nf.freeze(
        {
            "W1": np.array([[1e30, -1e30]], np.float32),
            "b1": np.zeros(2, np.float32),
            "W2": np.array([[1.0], [1.0]], np.float32),
            "b2": np.zeros(1, np.float32),
        }
    )
    x = np.array([[1e20]])
    assert nf.forward(p, x, hidden="tanh", output="identity").tolist() == [[0.0]]
    g = nf.grads(p, x, np.array([0.5]), hidden="tanh", output="identity")
    assert all(np.isfinite(v).all() for v in g.values())
    with pytest.raises(ValueError, match="overflowed float32"):  # relu keeps inf
        nf.forward(p, x, hidden="relu", output="identity")


def off_the_kinks(p: nf.Params) -> nf.Params:
    """``p`` with biases of 0.1, so no ReLU sits exactly on its kink at 0.

    (A dead unit feeds exact zeros forward; with zero biases the next
    pre-activation is then exactly 0, where the derivative is undefined.)
    """
    d = nf.to_dict(p)
    for k in d:
        if k.startswith("b"):
            d[k] += 0.1
    return nf.freeze(d)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", OUTPUT)
def test_single_unit_layers_agree_with_finite_differences(
    hidden: nf.ActivationName, output: nf.OutputName
) -> None:
    k = 2 if output == "softmax" else 1
    p = off_the_kinks(nf.init_params([1, 1, 1, 1, k], seed=3, init="he"))
    x = np.array([[0.7], [-1.3], [0.2]])
    y = np.array([0, 1, 1]) if output == "softmax" else np.array([0.0, 1.0, 0.5])
    kw: dict[str, Any] = {"hidden": hidden, "output": output}
    g = nf.grads(p, x, y, **kw)
    check = nf.check_grads(lambda q: nf.loss(q, x, y, **kw), p, g, mode="coordinate")
    assert check.ok, check


@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "relu", "gelu", "elu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_twenty_layers_stay_finite_and_agree(
    hidden: nf.ActivationName, dtype: type[np.floating[Any]]
) -> None:
    sizes = [3] + [4] * 19 + [2]
    init: nf.InitName = "he" if "elu" in hidden else "xavier"
    p = off_the_kinks(nf.init_params(sizes, seed=5, init=init, dtype=dtype))
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    kw: dict[str, Any] = {"hidden": hidden, "output": "softmax"}
    value, g = nf.loss_and_grads(p, x, y, **kw)
    assert np.isfinite(value)
    assert all(np.isfinite(v).all() and v.dtype == dtype for v in g.values())
    if dtype == np.float64:  # finite differences need float64 to mean anything
        check = nf.check_grads(lambda q: nf.loss(q, x, y, **kw), p, g, n_directions=8)
        assert check.ok, check


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 100_000])
def test_batches_of_one_and_100k_rows_agree_with_finite_differences(
    dtype: type[np.floating[Any]], batch: int
) -> None:
    rng = np.random.default_rng(1)
    p = nf.init_params([3, 5, 1], hidden="tanh", seed=0, dtype=dtype)
    x, y = rng.standard_normal((batch, 3)), rng.random(batch)
    value, g = nf.loss_and_grads(p, x, y)  # tanh, from the params' record
    assert np.isfinite(value)
    assert all(np.isfinite(v).all() for v in g.values())
    if dtype == np.float64:
        p64 = nf.freeze(
            {k: v.astype(np.float64) for k, v in p.items()},
            hidden=p.hidden,
            output=p.output,
        )
        check = nf.check_grads(lambda q: nf.loss(q, x, y), p64, g)
        assert check.ok, check
