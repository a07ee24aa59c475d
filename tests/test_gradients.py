"""Backpropagation agrees with central differences, for every pairing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import nnfunc as nf
from tests.strategies import (
    HIDDEN,
    KINKED,
    OUTPUT,
    Case,
    cases,
    make_case,
    min_abs_hidden_z,
)


def _check(case: Case, mode: str = "direction", l2: float = 0.0) -> nf.GradCheck:
    if case.hidden in KINKED:
        # A central difference straddling a ReLU kink is not a derivative.
        assume(min_abs_hidden_z(case) > 1e-4)

    def f(p: nf.Params) -> float:
        return nf.loss(p, case.x, case.y, hidden=case.hidden, output=case.output, l2=l2)

    g = nf.grads(
        case.params, case.x, case.y, hidden=case.hidden, output=case.output, l2=l2
    )
    return nf.check_grads(f, case.params, g, mode=mode)  # type: ignore[arg-type]


@pytest.mark.parametrize(("hidden", "output"), list(itertools.product(HIDDEN, OUTPUT)))
@settings(deadline=None, max_examples=15)
@given(data=st.data())
def test_grads_match_finite_differences_along_random_directions(
    hidden: nf.ActivationName, output: nf.OutputName, data: st.DataObject
) -> None:
    case = data.draw(cases(hidden=(hidden,), output=(output,)))
    result = _check(case)
    assert result.ok, result


@settings(deadline=None)
@given(cases(max_layers=2, max_width=3, max_batch=3))
def test_grads_match_finite_differences_coordinate_by_coordinate(case: Case) -> None:
    result = _check(case, mode="coordinate")
    assert result.ok, result


@settings(deadline=None)
@given(cases(max_layers=3), st.floats(0.0, 2.0))
def test_l2_penalty_gradient_matches_finite_differences(case: Case, l2: float) -> None:
    result = _check(case, l2=l2)
    assert result.ok, result


@settings(deadline=None)
@given(cases(max_layers=3), st.floats(0.05, 0.9), st.integers(0, 2**32 - 1))
def test_dropout_gradient_with_a_fixed_mask_matches_finite_differences(
    case: Case, rate: float, seed: int
) -> None:
    if case.hidden in KINKED:
        assume(min_abs_hidden_z(case) > 1e-4)

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
    result = nf.check_grads(f, case.params, g)
    assert result.ok, result


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


def test_check_grads_catches_a_wrong_gradient() -> None:
    case = make_case([3, 4, 2], 5, seed=1, hidden="tanh", output="softmax")
    g = nf.grads(case.params, case.x, case.y, hidden="tanh", output="softmax")
    wrong = nf.freeze({k: v * (1.01 if k == "W1" else 1.0) for k, v in g.items()})

    def f(p: nf.Params) -> float:
        return nf.loss(p, case.x, case.y, hidden="tanh", output="softmax")

    assert nf.check_grads(f, case.params, g).ok
    assert not nf.check_grads(f, case.params, wrong).ok
    assert not nf.check_grads(f, case.params, wrong, mode="coordinate").ok


@pytest.mark.parametrize("name", HIDDEN)
def test_each_activation_derivative_matches_finite_differences(name: str) -> None:
    f, df = nf.ACTIVATIONS[name]  # type: ignore[index]
    z = np.linspace(-6.0, 6.0, 241)
    z = z[np.abs(z) > 1e-3]  # away from the ReLU kink at 0
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(df(z, f(z)), numeric, rtol=1e-6, atol=1e-8)
