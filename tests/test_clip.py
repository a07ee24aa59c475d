"""clip_by_global_norm and global_norm: the norm of everything, one factor.

The global norm is the L2 norm of all the arrays together, and does not
overflow; clipping scales every array by one factor (so the direction is
kept), only when the norm is above ``max_norm``, and changes nothing passed
in; bad arguments get a clear error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnfunc._types import Array
from nnfunc.clip import clip_by_global_norm, global_norm

seeds = st.integers(0, 2**16)


def _writable(m: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
    return {k: np.array(v, copy=True) for k, v in m.items()}


def _same_bits(a: Mapping[str, npt.NDArray[Any]], b: Mapping[str, Any]) -> bool:
    return sorted(a) == sorted(b) and all(
        a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes() for k in a
    )


@st.composite
def grad_maps(draw: st.DrawFn) -> dict[str, Array]:
    n = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(seeds))
    scale = 10.0 ** draw(st.integers(-3, 3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    out = {}
    for i in range(n):
        shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
        out[f"g{i}"] = (scale * rng.normal(size=shape)).astype(dtype)
    return out


def _norm64(g: Mapping[str, npt.NDArray[Any]]) -> float:
    return math.sqrt(sum(float(np.sum(v.astype(np.float64) ** 2)) for v in g.values()))


@given(grad_maps())
def test_global_norm_is_the_l2_norm_of_everything(g: dict[str, Array]) -> None:
    rtol = 1e-5 if g["g0"].dtype == np.float32 else 1e-12
    assert math.isclose(global_norm(g), _norm64(g), rel_tol=rtol)


@given(grad_maps(), st.floats(1e-3, 1e3))
@settings(deadline=None)
def test_clipping_bounds_the_norm_and_keeps_the_direction(
    g: dict[str, Array], max_norm: float
) -> None:
    before = _writable(g)
    out = clip_by_global_norm(g, max_norm)
    assert _same_bits(before, g)  # input unchanged
    assert all(not v.flags.writeable for v in out.values())
    assert all(out[k].dtype == g[k].dtype and out[k].shape == g[k].shape for k in g)
    norm = _norm64(g)
    rtol = 1e-5 if g["g0"].dtype == np.float32 else 1e-12
    if norm <= max_norm:
        assert _same_bits(g, out)
        assert all(out[k] is not g[k] for k in g)
    else:
        assert _norm64(out) <= max_norm * (1 + rtol)
        assert math.isclose(_norm64(out), max_norm, rel_tol=rtol)
        factor = max_norm / norm  # one factor for all arrays: same direction
        for k in g:
            np.testing.assert_allclose(
                out[k], factor * g[k].astype(np.float64), rtol=rtol
            )


def test_global_norm_does_not_overflow() -> None:
    # Any mapping of float arrays has a global norm; keys W1, b1, ... would
    # make the clipped result a network's grads (one dtype, shapes that chain).
    g = {"big": np.full((3, 3), 1e200), "small": np.full(4, 1e30, dtype=np.float32)}
    assert math.isclose(global_norm(g), 3e200, rel_tol=1e-12)
    assert math.isclose(global_norm({"small": g["small"]}), 2e30, rel_tol=1e-6)
    out = clip_by_global_norm(g, 1.0)
    assert math.isclose(_norm64(out), 1.0, rel_tol=1e-6)
    net = {"W1": np.full((3, 4), 1e300), "b1": np.full(4, 1e300)}  # a network's
    assert math.isclose(_norm64(clip_by_global_norm(net, 1.0)), 1.0, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("grads", "max_norm", "error", "match"),
    [
        ({"W1": np.ones(2)}, 0.0, ValueError, "max_norm"),
        ({"W1": np.ones(2)}, -1.0, ValueError, "max_norm"),
        ({"W1": np.ones(2)}, math.nan, ValueError, "max_norm"),
        ({"W1": np.ones(2)}, "1", TypeError, "max_norm"),
        ([np.ones(2)], 1.0, TypeError, "mapping"),
        ({"W1": np.ones(2, dtype=int)}, 1.0, TypeError, "float array"),
        ({"W1": [1.0, 2.0]}, 1.0, TypeError, "float array"),
        ({"W1": np.array([1.0, np.nan])}, 1.0, ValueError, "NaN"),
    ],
)
def test_clipping_errors(grads: Any, max_norm: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        clip_by_global_norm(grads, max_norm)
