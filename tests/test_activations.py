"""The activations: each derivative agrees with central differences."""

from __future__ import annotations

import numpy as np
import pytest

import nnfunc as nf
from tests.strategies import HIDDEN


@pytest.mark.parametrize("name", HIDDEN)
def test_each_activation_derivative_matches_finite_differences(name: str) -> None:
    f, df = nf.ACTIVATIONS[name]  # type: ignore[index]
    z = np.linspace(-6.0, 6.0, 241)
    z = z[np.abs(z) > 1e-3]  # away from the ReLU kink at 0
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(df(z, f(z)), numeric, rtol=1e-6, atol=1e-8)
