"""loss, grads and loss_and_grads: central differences, batches, bad input.

Backpropagation agrees with central differences for every pairing of a
hidden activation and an output (with L2, with dropout, in float32); batches
of one row and of 100,000 give finite results; bad targets (``y``) and
options get a ``ValueError`` or ``TypeError`` that names the argument.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc.testing import assert_grads_close
from tests.strategies import HIDDEN, OUTPUT, Case, cases

# A central difference straddling a ReLU kink is not a derivative: the
# batches that cases() draws keep every ReLU pre-activation at least 1e-3
# from 0 (nnfunc.testing.inputs), far beyond the step h = 1e-6.


def _check(
    case: Case, mode: Literal["direction", "coordinate"] = "direction", l2: float = 0.0
) -> None:
    def f(p: nf.Params) -> float:
        return nf.loss(p, case.x, case.y, hidden=case.hidden, output=case.output, l2=l2)

    g = nf.grads(
        case.params, case.x, case.y, hidden=case.hidden, output=case.output, l2=l2
    )
    assert_grads_close(f, case.params, g, mode=mode)


@pytest.mark.parametrize(("hidden", "output"), list(itertools.product(HIDDEN, OUTPUT)))
@settings(deadline=None, max_examples=15)
@given(data=st.data())
def test_grads_match_finite_differences_along_random_directions(
    hidden: nf.ActivationName, output: nf.OutputName, data: st.DataObject
) -> None:
    _check(data.draw(cases(hidden=(hidden,), output=(output,))))


@settings(deadline=None)
@given(cases(max_layers=2, max_width=3, max_batch=3))
def test_grads_match_finite_differences_coordinate_by_coordinate(case: Case) -> None:
    _check(case, mode="coordinate")


@settings(deadline=None)
@given(cases(max_layers=3), st.floats(0.0, 2.0))
def test_l2_penalty_gradient_matches_finite_differences(case: Case, l2: float) -> None:
    _check(case, l2=l2)


@settings(deadline=None)
@given(cases(max_layers=3), st.floats(0.05, 0.9), st.integers(0, 2**32 - 1))
def test_dropout_gradient_with_a_fixed_mask_matches_finite_differences(
    case: Case, rate: float, seed: int
) -> None:
    def f(p: nf.Params) -> float:
        return nf.loss(
            p,
            case.x,
            case.y,
            hidden=case.hidden,
            output=case.output,
            dropout=rate,
            training=True,
            seed=seed,
        )

    g = nf.grads(
        case.params,
        case.x,
        case.y,
        hidden=case.hidden,
        output=case.output,
        dropout=rate,
        training=True,
        seed=seed,
    )
    assert_grads_close(f, case.params, g)


@settings(deadline=None)
@given(cases(hidden=("tanh", "sigmoid", "softplus", "gelu", "elu", "identity")))
def test_float32_grads_are_close_to_float64(case: Case) -> None:
    p32 = {k: v.astype(np.float32) for k, v in case.params.items()}
    x32 = case.x.astype(np.float32)
    g64 = nf.grads(case.params, case.x, case.y, hidden=case.hidden, output=case.output)
    g32 = nf.grads(p32, x32, case.y, hidden=case.hidden, output=case.output)
    scale = max(float(np.abs(v).max()) for v in g64.values()) + 1.0
    for k in g64:
        assert g32[k].dtype == np.float32
        # The inputs were rounded to float32 first, so compare with a
        # tolerance of a few thousand float32 ulps of the gradient's scale.
        np.testing.assert_allclose(g32[k], g64[k], rtol=0, atol=1e-3 * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 100_000])
def test_tiny_and_huge_batches(dtype: type[np.floating], batch: int) -> None:
    rng = np.random.default_rng(0)
    params = nf.init_params([4, 8, 3], output="softmax", seed=0, dtype=dtype)
    x = rng.standard_normal((batch, 4))
    y = rng.integers(0, 3, batch)
    value, g = nf.loss_and_grads(params, x, y)  # softmax, as recorded
    assert np.isfinite(value)
    assert all(np.isfinite(v).all() and v.dtype == dtype for v in g.values())
    assert nf.predict(params, x).shape == (batch,)


# ---------------------------------------------------------------- bad input

P = nf.init_params([3, 4, 2], seed=0)  # records hidden="relu", output="sigmoid"
P_SOFT = nf.init_params([3, 4, 2], output="softmax", seed=0)
X = np.arange(15.0).reshape(5, 3) / 10
Y_BIN = np.array([[0.0, 1.0]] * 5)
Y_LAB = np.array([0, 1, 1, 0, 1])

# The calls below are deliberately ill-typed; ``anf`` lets them through.
anf: Any = nf

CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    # y
    (
        "y rows",
        lambda: anf.loss(P, X, Y_BIN[:4]),
        ValueError,
        "y has 4 rows but x has 5",
    ),
    (
        "y width",
        lambda: anf.loss(P, X, np.zeros((5, 3))),
        ValueError,
        "y has 3 columns but the network has 2 outputs",
    ),
    (
        "y 1-D for k=2 sigmoid",
        lambda: anf.loss(P, X, np.zeros(5)),
        ValueError,
        r"y has shape \(5,\) but the network has 2 outputs",
    ),
    (
        "y 3-D",
        lambda: anf.loss(P, X, np.zeros((5, 2, 1))),
        ValueError,
        "y must be of shape",
    ),
    (
        "y out of [0,1]",
        lambda: anf.loss(P, X, Y_BIN * 2),
        ValueError,
        r"y must lie in \[0, 1\] for output='sigmoid'",
    ),
    ("y nan", lambda: anf.grads(P, X, Y_BIN * np.nan), ValueError, "y has NaN"),
    (
        "y masked",
        lambda: anf.loss(P, X, np.ma.masked_array(Y_BIN)),
        TypeError,
        "y is a masked array",
    ),
    (
        "label too big",
        lambda: anf.loss(P_SOFT, X, Y_LAB + 1),
        ValueError,
        r"class labels must lie in \[0, 1\] for 2 outputs, got values in \[1, 2\]",
    ),
    (
        "label negative",
        lambda: anf.loss(P_SOFT, X, Y_LAB - 1),
        ValueError,
        r"class labels must lie in \[0, 1\]",
    ),
    (
        "label fractional",
        lambda: anf.loss(P_SOFT, X, Y_LAB + 0.5),
        ValueError,
        "fractional values such as 0.5",
    ),
    (
        "soft rows",
        lambda: anf.loss(P_SOFT, X, np.full((5, 2), 0.7)),
        ValueError,
        "rows must sum to 1",
    ),
    (
        "soft rows negative",
        lambda: anf.loss(P_SOFT, X, np.tile([1.5, -0.5], (5, 1))),
        ValueError,
        "probabilities in",
    ),
    # options
    (
        "l2 negative",
        lambda: anf.loss(P, X, Y_BIN, l2=-1.0),
        ValueError,
        "l2 must be finite",
    ),
]


@pytest.mark.parametrize(
    ("what", "call", "exc", "match"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_gets_a_clear_error(
    what: str, call: Callable[[], object], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        call()
