"""nnfunc.testing: public strategies that draw valid values, and two assertions."""

from __future__ import annotations

import importlib
import itertools
import math
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc.testing import (
    OUTPUT_NAMES,
    Architecture,
    activations,
    architectures,
    assert_grads_close,
    assert_pure,
    inputs,
    network,
    outputs,
    params,
    targets,
)
from nnfunc.tree import num_params, summary
from tests.strategies import Case, min_abs_hidden_z

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([0.0, 1.0, 1.0, 0.0])
P0 = nf.init_params([2, 3, 1], hidden="tanh")


# The README's example, word for word: a user's own test, nothing but
# nnfunc.testing and hypothesis.
@given(st.data())
def test_grads_agree_with_finite_differences(data: st.DataObject) -> None:
    p = data.draw(params())  # a network, recording its activations
    x = data.draw(inputs(p))  # a batch for it
    y = data.draw(targets(p, batch=len(x)))  # targets for its output
    assert_grads_close(lambda q: nf.loss(q, x, y), p, nf.grads(p, x, y))


# ---------------------------------------------------------------- the extra


def test_import_nnfunc_never_imports_hypothesis() -> None:
    code = (
        "import sys, nnfunc, nnfunc.tree; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'hypothesis'))"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.stdout.strip() == "[]"


def test_without_hypothesis_the_import_error_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "nnfunc.testing")
    with pytest.raises(ImportError, match=r"pip install 'nnfunc\[testing\]'"):
        importlib.import_module("nnfunc.testing")


# ------------------------------------------------------------ the strategies

OPTIMIZERS = (nf.sgd(0.1), nf.momentum(0.1), nf.rmsprop(0.01), nf.adam(0.01))


@settings(deadline=None, max_examples=40)
@given(st.data())
def test_drawn_values_are_valid_for_every_function(data: st.DataObject) -> None:
    p = data.draw(params())
    x = data.draw(inputs(p))
    y = data.draw(targets(p, batch=len(x)))
    sizes = nf.layer_sizes(p)
    assert p.output is not None
    assert p.hidden is not None
    assert x.shape == (len(x), sizes[0])
    assert x.dtype == y.dtype or y.dtype == np.int64
    assert x.dtype == p["W1"].dtype
    a = nf.forward(p, x)
    assert a.shape == (len(x), sizes[-1])
    assert a.dtype == x.dtype
    assert np.isfinite(a).all()
    assert len(nf.predict(p, x)) == len(x)
    value, g = nf.loss_and_grads(p, x, y)
    assert math.isfinite(value)
    assert value >= 0.0
    assert value == nf.loss(p, x, y)
    assert g == nf.grads(p, x, y)
    assert_grads_close(lambda q: nf.loss(q, x, y), p, g)
    assert nf.sgd_step(p, g, lr=0.1).hidden == p.hidden
    for opt in OPTIMIZERS:
        new, _ = opt.step(p, g, opt.init(p))
        assert isinstance(new, nf.Frozen)
        assert (new.hidden, new.output) == (p.hidden, p.output)
    assert math.isfinite(nf.global_norm(nf.clip_by_global_norm(g, 1.0)))
    opt = nf.adam(1e-3)
    r = nf.train(p, x, y, optimizer=opt, epochs=2, batch_size=3, verbose=False)
    val = nf.train(p, x, y, optimizer=opt, epochs=1, validation=(x, y), verbose=False)
    assert val.history[0].val_loss is not None
    assert (r.params.hidden, r.params.output) == (p.hidden, p.output)
    assert pickle.loads(pickle.dumps(p)) == p
    assert nf.freeze(dict(p), hidden=p.hidden, output=p.output) == p
    with tempfile.TemporaryDirectory() as d:
        nf.save(Path(d) / "p.npz", p)
        assert nf.load(Path(d) / "p.npz").params == p
    assert num_params(p) == sum(v.size for v in p.values())
    assert str(p["W1"].dtype) in summary(p)


@given(st.data())
def test_architectures_respect_their_bounds(data: st.DataObject) -> None:
    lo_d = data.draw(st.integers(1, 3))
    hi_d = data.draw(st.integers(lo_d, 4))
    lo_w = data.draw(st.integers(1, 4))
    hi_w = data.draw(st.integers(lo_w, 6))
    arch = data.draw(
        architectures(min_depth=lo_d, max_depth=hi_d, min_width=lo_w, max_width=hi_w)
    )
    assert lo_d <= len(arch.sizes) - 1 <= hi_d
    assert all(lo_w <= n <= hi_w for n in arch.sizes[:-1])
    if arch.output == "softmax":
        assert max(lo_w, 2) <= arch.sizes[-1] <= max(hi_w, 2)
    else:
        assert lo_w <= arch.sizes[-1] <= hi_w
    if not isinstance(arch.hidden, str):
        assert len(arch.hidden) == len(arch.sizes) - 2 >= 2
    p = nf.init_params(arch.sizes, hidden=arch.hidden, output=arch.output)
    assert nf.layer_sizes(p) == arch.sizes


SMOOTH_IDENTITY = architectures(
    min_depth=3,
    hidden=activations(smooth=True),
    output=st.just("identity"),
    per_layer=False,
)


@given(SMOOTH_IDENTITY, activations(), outputs())
def test_architecture_names_come_from_the_given_strategies(
    arch: Architecture, name: nf.ActivationName, out: nf.OutputName
) -> None:
    assert isinstance(arch.hidden, str)
    assert arch.hidden not in ("relu", "leaky_relu")
    assert arch.output == "identity"
    assert name in nf.ACTIVATION_NAMES
    assert out in OUTPUT_NAMES


@given(params(Architecture((3, 5, 2), ("tanh",), "softmax"), dtype=np.float32))
def test_params_of_a_given_architecture_and_dtype(p: nf.Frozen[nf.Array]) -> None:
    assert nf.layer_sizes(p) == (3, 5, 2)
    assert (p.hidden, p.output) == (("tanh",), "softmax")
    assert all(v.dtype == np.float32 and not v.flags.writeable for v in p.values())
    assert all((p[k] != 0).all() for k in ("b1", "b2"))  # no kink at x = 0


@given(st.data())
def test_inputs_keep_relu_pre_activations_off_the_kink(data: st.DataObject) -> None:
    kinked: st.SearchStrategy[nf.ActivationName] = st.sampled_from(
        ["relu", "leaky_relu"]
    )
    arch = data.draw(architectures(min_depth=2, hidden=kinked, per_layer=False))
    p = data.draw(params(arch))
    x = data.draw(inputs(p, batch=st.integers(5, 8), kink_margin=0.05))
    assert 5 <= len(x) <= 8
    assert isinstance(arch.hidden, str)
    case = Case(p, x, np.zeros(len(x)), arch.hidden, arch.output)
    assert min_abs_hidden_z(case) >= 0.05 - 1e-5  # float32 rounds z


def test_targets_cover_every_documented_kind() -> None:
    seen: set[tuple[str, str, int]] = set()

    @settings(max_examples=300, derandomize=True, database=None)
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        arch = data.draw(architectures(max_depth=1, max_width=2))
        p = data.draw(params(arch))
        y = data.draw(targets(p, batch=4))
        assert len(y) == 4
        assert np.isfinite(nf.loss(p, np.ones((4, arch.sizes[0])), y))
        kind: str = y.dtype.kind
        if arch.output == "sigmoid" and np.isin(y, (0.0, 1.0)).all():
            kind = "binary"
        if arch.output == "softmax" and y.ndim == 2 and np.isin(y, (0.0, 1.0)).all():
            kind = "one_hot"
        seen.add((arch.output, kind, y.ndim))

    collect()
    assert {
        ("softmax", "i", 1),
        ("softmax", "one_hot", 2),
        ("softmax", "f", 2),
        ("sigmoid", "f", 1),
        ("sigmoid", "binary", 2),
        ("sigmoid", "f", 2),
        ("identity", "f", 1),
        ("identity", "f", 2),
    } <= seen


def test_targets_of_a_plain_mapping_are_for_a_sigmoid() -> None:
    @settings(max_examples=20, database=None)
    @given(targets(nf.to_dict(nf.init_params([2, 3], output="identity")), batch=3))
    def check(y: Any) -> None:
        assert y.shape == (3, 3)
        assert ((y >= 0) & (y <= 1)).all()

    check()


def test_strategies_refuse_bad_arguments_when_built() -> None:
    with pytest.raises(ValueError, match="min_depth must be >= 1"):
        architectures(min_depth=0)
    with pytest.raises(ValueError, match="max_width must be >= 3"):
        architectures(min_width=3, max_width=2)
    with pytest.raises(TypeError, match="per_layer"):
        architectures(per_layer="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="softmax"):
        params(Architecture((2, 1), "relu", "softmax"))
    with pytest.raises(TypeError, match="dtype"):
        params(dtype=np.int32)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="architecture must be"):
        params((2, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="keys"):
        inputs({"W1": np.ones((2, 1))})
    with pytest.raises(ValueError, match="batch must be >= 1"):
        targets(P0, batch=0)
    with pytest.raises(ValueError, match="kink_margin"):
        inputs(P0, kink_margin=-1.0)


# -------------------------------------------------------- assert_grads_close


def _softmax_case() -> tuple[nf.Frozen[nf.Array], nf.Array, nf.Array]:
    p = network(Architecture((3, 4, 2), "tanh", "softmax"), np.float64, 7)
    x = np.random.default_rng(0).standard_normal((5, 3))
    return p, x, np.array([0, 1, 1, 0, 1])


@pytest.mark.parametrize("mode", ["direction", "coordinate"])
def test_assert_grads_close_names_the_worst_coordinate(mode: Any) -> None:
    p, x, y = _softmax_case()

    def f(q: nf.Params) -> float:
        return nf.loss(q, x, y)

    g = nf.grads(p, x, y)
    assert_grads_close(f, p, g, mode=mode)
    wrong = nf.to_dict(g)
    wrong["W2"][1, 0] += 0.5  # the worst
    wrong["b1"][2] += 1e-3  # wrong too, but less
    with pytest.raises(AssertionError) as info:
        assert_grads_close(f, p, wrong, mode=mode)
    message = str(info.value)
    assert message.startswith(
        "grads differ from central differences at W2[1, 0] (the worst coordinate)"
    )
    found = re.search(r"analytic (\S+), numeric (\S+),", message)
    assert found is not None
    analytic, numeric = map(float, found.groups())
    assert analytic == pytest.approx(wrong["W2"][1, 0], rel=1e-7)
    assert numeric == pytest.approx(g["W2"][1, 0], rel=1e-6, abs=1e-9)
    assert f"the {mode} check's largest error was" in message


def test_assert_grads_close_tolerances() -> None:
    p, x, y = _softmax_case()

    def f(q: nf.Params) -> float:
        return nf.loss(q, x, y)

    slightly = nf.to_dict(nf.grads(p, x, y))
    slightly["b2"][0] += 1e-4
    with pytest.raises(AssertionError, match=r"at b2\[0\]"):
        assert_grads_close(f, p, slightly, mode="coordinate")
    assert_grads_close(f, p, slightly, mode="coordinate", atol=1e-3)
    with pytest.raises(ValueError, match="grads"):
        assert_grads_close(f, p, {"W1": slightly["W1"]})  # a misuse, not a mismatch


@settings(deadline=None, max_examples=30)
@given(st.data())
def test_assert_grads_close_passes_on_float32_networks(data: st.DataObject) -> None:
    p = data.draw(params(dtype=np.float32))
    x = data.draw(inputs(p))
    y = data.draw(targets(p, batch=len(x)))
    g = nf.grads(p, x, y)
    assert g["W1"].dtype == np.float32
    assert_grads_close(lambda q: nf.loss(q, x, y), p, g)  # float32 tolerances


# --------------------------------------------------------------- assert_pure


def test_assert_pure_passes_the_library_and_returns_the_result() -> None:
    g = nf.grads(P0, X, Y)
    assert assert_pure(nf.sgd_step, P0, g, lr=0.1) == nf.sgd_step(P0, g, lr=0.1)
    state = nf.adam_init(P0)
    assert_pure(nf.adam_step, P0, g, state, lr=0.1)
    assert_pure(nf.grads, nf.to_dict(P0), X.copy(), Y.copy(), hidden="tanh")
    assert assert_pure(nf.loss, P0, X, Y) == nf.loss(P0, X, Y)
    assert_pure(nf.freeze, {"m": np.ones(2), "count": np.array(3)})


def _write_input(p: dict[str, nf.Array]) -> nf.Frozen[nf.Array]:
    p["W1"][0, 0] += 1.0
    return nf.freeze(p)


def _add_key(p: dict[str, nf.Array]) -> nf.Frozen[nf.Array]:
    p["extra"] = np.zeros(1)
    return nf.freeze({"a": np.ones(1)})


def _scale(*, x: nf.Array) -> nf.Frozen[nf.Array]:
    x *= 2.0
    return nf.freeze({"x": x})


def _lock(x: nf.Array) -> nf.Frozen[nf.Array]:
    x.flags.writeable = False
    return nf.freeze({"x": x})


def _nested(xs: list[Any]) -> float:
    xs[1][0][0] = 5.0
    return 0.0


def _draw(rng: np.random.Generator) -> float:
    return float(rng.random())


@pytest.mark.parametrize(
    ("fn", "arg", "message"),
    [
        (_write_input, nf.to_dict(P0), r"args\[0\]\['W1'\] \(its bytes\)"),
        (_add_key, nf.to_dict(P0), r"args\[0\] \(its items\)"),
        (_lock, X.copy(), r"args\[0\] \(its writeable flag\)"),
        (_nested, [X.copy(), [Y.copy()]], r"args\[0\]\[1\]\[0\] \(its bytes\)"),
        (_draw, np.random.default_rng(0), r"args\[0\] \(\('generator'"),
    ],
)
def test_assert_pure_fails_on_a_function_that_changes_its_input(
    fn: Any, arg: Any, message: str
) -> None:
    with pytest.raises(AssertionError, match="^fn changed its argument " + message):
        assert_pure(fn, arg)


def test_assert_pure_names_keyword_arguments() -> None:
    with pytest.raises(AssertionError, match=r"argument kwargs\['x'\] \(its bytes\)"):
        assert_pure(_scale, x=X.copy())


def test_assert_pure_fails_on_writable_or_aliased_results() -> None:
    with pytest.raises(AssertionError, match=r"^result is a writable array"):
        assert_pure(nf.forward, P0, X)  # a new array, but writable: no value
    with pytest.raises(AssertionError, match=r"^result\[1\]\['W1'\] is a writable"):
        assert_pure(lambda p: (0.0, nf.to_dict(p)), P0)

    def view(x: nf.Array) -> nf.Array:
        v = x[1:]
        v.flags.writeable = False
        return v

    with pytest.raises(AssertionError, match="shares memory with a writable argument"):
        assert_pure(view, X.copy())
    frozen = X.copy()
    frozen.flags.writeable = False
    assert_pure(view, frozen)  # a view of a read-only argument is fine


def test_assert_pure_fails_when_a_second_call_differs() -> None:
    counter = itertools.count()

    def count() -> nf.Frozen[nf.Array]:
        return nf.freeze({"a": np.array([float(next(counter))])})

    with pytest.raises(
        AssertionError,
        match=r"^a second call with the same arguments gave a different "
        r"result\['a'\] \(its bytes\)",
    ):
        assert_pure(count)
    with pytest.raises(AssertionError, match=r"different result \(\('float'"):
        assert_pure(lambda: float(next(counter)))
