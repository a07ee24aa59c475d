"""Invariants of forward, loss, grads and sgd_step, drawn by hypothesis."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import nnfunc as nf
from tests.strategies import Case, NetKw, cases, make_case


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


def _snapshot(obj: object) -> object:
    if isinstance(obj, np.ndarray):
        return (obj.copy(), obj.flags.writeable, obj.dtype, obj.strides)
    if isinstance(obj, dict):
        return {k: _snapshot(v) for k, v in obj.items()}
    return obj


def _same(a: object, b: object) -> bool:
    if isinstance(a, tuple) and isinstance(a[0], np.ndarray):
        assert isinstance(b, tuple)
        return bool(np.array_equal(a[0], b[0])) and a[1:] == b[1:]
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@settings(deadline=None)
@given(cases(), st.booleans())
def test_purity_inputs_unchanged_results_read_only_and_unaliased(
    case: Case, dropout: bool
) -> None:
    params = {k: v.copy() for k, v in case.params.items()}  # writable caller arrays
    x, y = case.x.copy(), np.array(case.y, copy=True)
    before = _snapshot({"params": params, "x": x, "y": y})
    rate = 0.5 if dropout else 0.0
    kw = case.kw
    a = nf.forward(params, x, **kw, dropout=rate, training=True, seed=3)
    value, g = nf.loss_and_grads(
        params, x, y, **kw, dropout=rate, training=True, seed=3
    )
    new = nf.sgd_step(params, g, lr=0.1)
    zero = nf.sgd_step(params, g, lr=0.0)
    assert _same(_snapshot({"params": params, "x": x, "y": y}), before)
    for result in (g, new, zero):
        for v in result.values():
            assert not v.flags.writeable
            assert not any(np.shares_memory(v, p) for p in params.values())
            assert not np.shares_memory(v, x)
    assert not np.shares_memory(a, x)
    # Same inputs, same bits.
    value2, g2 = nf.loss_and_grads(
        params, x, y, **kw, dropout=rate, training=True, seed=3
    )
    assert value2 == value
    assert all(g[k].tobytes() == g2[k].tobytes() for k in g)


def test_dropout_rate_zero_equals_no_dropout_and_eval_mode_ignores_it() -> None:
    case = make_case([4, 6, 5, 3], 7, seed=2, hidden="relu", output="softmax")
    plain = nf.loss_and_grads(case.params, case.x, case.y, **case.kw)
    rate_zero = nf.loss_and_grads(
        case.params, case.x, case.y, **case.kw, dropout=0.0, training=True, seed=1
    )
    evaluation = nf.loss_and_grads(
        case.params, case.x, case.y, **case.kw, dropout=0.7, training=False
    )
    for other in (rate_zero, evaluation):
        assert other[0] == plain[0]
        assert all(np.array_equal(other[1][k], plain[1][k]) for k in plain[1])


def test_dropout_preserves_the_mean_activation() -> None:
    # One hidden identity layer fed by a constant: with inverted dropout the
    # expected output equals the output without dropout.
    params = nf.freeze(
        {
            "W1": np.ones((1, 200)),
            "b1": np.zeros(200),
            "W2": np.full((200, 1), 1 / 200),
            "b2": np.zeros(1),
        }
    )
    x = np.ones((2000, 1))
    kw = NetKw(hidden="identity", output="identity")
    a = nf.forward(params, x, dropout=0.3, training=True, seed=0, **kw)
    # Each output is the mean of 200 units, each 0 or 1/0.7 with mean 1:
    # the standard error of the grand mean is about 0.65 / sqrt(400000).
    assert abs(float(a.mean()) - 1.0) < 0.01
    assert float(a.std()) > 0.01  # the masks really vary
    b = nf.forward(params, x, dropout=0.3, training=True, seed=0, **kw)
    assert np.array_equal(a, b)
