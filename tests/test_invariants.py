"""Invariants of forward, loss, grads and sgd_step, drawn by hypothesis.

And one that no drawing is needed for: a call that raises changes nothing
the caller passed.
"""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc.testing import assert_pure
from tests.strategies import Case, cases


@given(cases())
def test_output_shape_and_range(case: Case) -> None:
    a = nf.forward(case.params, case.x, **case.kw)
    n_L = case.params[f"W{len(case.params) // 2}"].shape[1]
    assert a.shape == (case.x.shape[0], n_L)
    assert a.dtype == case.x.dtype
    assert np.isfinite(a).all()
    if case.output == "softmax":
        np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-12)
    if case.output != "identity":
        assert ((a >= 0) & (a <= 1)).all()


@given(cases())
def test_loss_is_finite_and_non_negative(case: Case) -> None:
    value = nf.loss(case.params, case.x, case.y, **case.kw)
    assert np.isfinite(value)
    assert value >= 0.0


@given(st.floats(-30.0, 30.0))
def test_sigmoid_is_strictly_inside_the_unit_interval_for_moderate_logits(
    z: float,
) -> None:
    # Beyond |z| ~ 36.7, 1 - sigmoid(z) is below half an ulp of 1.0 and
    # rounds to exactly 0 or 1 in float64; the closed range is tested above.
    a = nf.activations.sigmoid(np.array([z]))
    assert 0.0 < a[0] < 1.0


@given(cases(output=("softmax",)), st.floats(-1e3, 1e3))
def test_softmax_output_and_loss_are_shift_invariant(case: Case, c: float) -> None:
    L = len(case.params) // 2
    shifted = dict(case.params) | {f"b{L}": case.params[f"b{L}"] + c}
    a0 = nf.forward(case.params, case.x, hidden=case.hidden, output="softmax")
    a1 = nf.forward(shifted, case.x, hidden=case.hidden, output="softmax")
    np.testing.assert_allclose(a1, a0, rtol=1e-9, atol=1e-12)
    l0 = nf.loss(case.params, case.x, case.y, hidden=case.hidden, output="softmax")
    l1 = nf.loss(shifted, case.x, case.y, hidden=case.hidden, output="softmax")
    np.testing.assert_allclose(l1, l0, rtol=1e-9, atol=1e-9)


@given(cases())
def test_a_batch_is_the_stack_of_its_samples(case: Case) -> None:
    kw = case.kw
    whole = nf.forward(case.params, case.x, **kw)
    rows = [
        nf.forward(case.params, case.x[i : i + 1], **kw) for i in range(len(case.x))
    ]
    np.testing.assert_allclose(whole, np.concatenate(rows), rtol=1e-12, atol=1e-12)


@settings(deadline=None)
@given(cases())
def test_batch_grads_are_the_mean_of_per_sample_grads(case: Case) -> None:
    kw = case.kw
    g = nf.grads(case.params, case.x, case.y, **kw)
    per_sample = [
        nf.grads(case.params, case.x[i : i + 1], case.y[i : i + 1], **kw)
        for i in range(len(case.x))
    ]
    for k in g:
        mean = np.mean([gi[k] for gi in per_sample], axis=0)
        np.testing.assert_allclose(g[k], mean, rtol=1e-10, atol=1e-12)


@given(cases())
def test_lr_zero_is_the_identity(case: Case) -> None:
    g = nf.grads(case.params, case.x, case.y, **case.kw)
    same = nf.sgd_step(case.params, g, lr=0.0)
    for k, v in case.params.items():
        assert np.array_equal(same[k], v)
        assert same[k].dtype == v.dtype


@given(cases())
def test_sgd_step_is_params_minus_lr_times_grads(case: Case) -> None:
    g = nf.grads(case.params, case.x, case.y, **case.kw)
    new = nf.sgd_step(case.params, g, lr=0.3)
    for k, v in case.params.items():
        assert np.array_equal(new[k], v - 0.3 * g[k])


@settings(deadline=None)
@given(cases())
def test_a_small_step_lowers_the_loss(case: Case) -> None:
    kw = case.kw
    value, g = nf.loss_and_grads(case.params, case.x, case.y, **kw)
    norm2 = sum(float(np.vdot(v, v)) for v in g.values())
    assume(norm2 > 1e-6)
    lr = 1e-6 / max(1.0, np.sqrt(norm2))
    after = nf.loss(nf.sgd_step(case.params, g, lr=lr), case.x, case.y, **kw)
    assert after < value


@given(cases())
def test_loss_and_grads_agrees_with_loss_and_grads(case: Case) -> None:
    kw = case.kw
    value, g = nf.loss_and_grads(case.params, case.x, case.y, **kw)
    assert value == nf.loss(case.params, case.x, case.y, **kw)
    g2 = nf.grads(case.params, case.x, case.y, **kw)
    assert all(np.array_equal(g[k], g2[k]) for k in g)


@given(
    st.lists(st.integers(1, 8), min_size=2, max_size=5),
    st.integers(0, 2**63),
    st.sampled_from(sorted(nf.INITIALIZERS)),
)
def test_same_seed_same_bits_and_float32_is_float64_rounded(
    sizes: list[int], seed: int, init: nf.InitName
) -> None:
    a = nf.init_params(sizes, seed=seed, init=init)
    b = nf.init_params(sizes, seed=np.random.SeedSequence(seed), init=init)
    c = nf.init_params(sizes, seed=seed, init=init, dtype=np.float32)
    for k in a:
        assert a[k].tobytes() == b[k].tobytes()
        assert c[k].dtype == np.float32
        assert np.array_equal(c[k], a[k].astype(np.float32))
    if sum(x * y for x, y in itertools.pairwise(sizes)) > 4:
        other = nf.init_params(sizes, seed=seed + 1, init=init)
        assert any(not np.array_equal(a[k], other[k]) for k in a if k.startswith("W"))


@given(cases(dtype=np.float32))
def test_float32_params_give_float32_everything(case: Case) -> None:
    kw = case.kw
    x64 = case.x.astype(np.float64)  # inputs are cast to the params' dtype
    assert nf.forward(case.params, x64, **kw).dtype == np.float32
    value, g = nf.loss_and_grads(case.params, x64, case.y, **kw)
    assert isinstance(value, float)
    assert all(v.dtype == np.float32 for v in g.values())
    new = nf.sgd_step(
        case.params, {k: v.astype(np.float64) for k, v in g.items()}, lr=0.1
    )
    assert all(v.dtype == np.float32 for v in new.values())


@settings(deadline=None)
@given(cases(), st.booleans())
def test_purity_inputs_unchanged_results_read_only_and_unaliased(
    case: Case, dropout: bool
) -> None:
    params = nf.to_dict(case.params)  # writable caller arrays
    x, y = case.x.copy(), np.array(case.y, copy=True)
    rate = 0.5 if dropout else 0.0
    # assert_pure: the arguments keep their bits, every array of the result
    # is read-only and shares no memory with them, a second call is the same
    _, g = assert_pure(
        nf.loss_and_grads, params, x, y, **case.kw, dropout=rate, training=True, seed=3
    )
    assert_pure(nf.sgd_step, params, g, lr=0.1)
    assert_pure(nf.sgd_step, params, g, lr=0.0)
    # forward returns a new writable array, the one result that is no value
    x_before = x.copy()
    a = nf.forward(params, x, **case.kw, dropout=rate, training=True, seed=3)
    assert np.array_equal(x, x_before)
    assert not np.shares_memory(a, x)
    assert not any(np.shares_memory(a, p) for p in params.values())


def test_errors_change_nothing_the_caller_passed() -> None:
    params = nf.to_dict(nf.init_params([3, 4, 2], seed=0))
    x, y = np.arange(15.0).reshape(5, 3) / 10, np.array([0, 1, 1, 0, 1])
    saved = copy.deepcopy((params, x, y))
    with pytest.raises(ValueError, match="class labels"):
        nf.grads(params, x, y + 5, output="softmax")
    with pytest.raises(ValueError, match="lr"):
        nf.sgd_step(params, params, lr=-1.0)
    for k in params:
        assert np.array_equal(params[k], saved[0][k])
        assert params[k].flags.writeable
    assert np.array_equal(x, saved[1])
    assert np.array_equal(y, saved[2])
