"""Fuzz specs for what turns gradients into steps.

``sgd_step``, each optimizer's ``*_init``, ``*_step`` and constructor (whose
``Optimizer.step`` must agree with the public step function), clipping
(``clip_by_global_norm``, ``global_norm``) and the learning-rate schedules
(``schedules.*``), driven with arbitrary arguments under the contract of
``tests/fuzz/harness.py``.
"""

from __future__ import annotations

import contextlib
import math
import types
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nnfunc as nf
from nnfunc import schedules
from tests.fuzz import strategies as fs
from tests.fuzz.harness import (
    Call,
    Spec,
    call_and_check,
    check_params_like,
    corrupt,
    drawer,
    fuzz,
    maybe,
    params_dtype,
    refuse_subclasses,
    spec,
    subclass_specs,
    swapped,
)
from tests.strategies import FLOAT_DTYPES


@st.composite
def grads_for(draw: st.DrawFn, p: Mapping[str, Any]) -> Any:
    """A gradient for ``p``: drawn values of any real dtype, or a near miss."""
    dt = draw(st.sampled_from([params_dtype(p)] * 4 + list(fs.REAL_DTYPES)))
    scale = draw(fs.choice([1.0, 1.0, 1.0, 1e3], [1e30, 1e200]))
    g: dict[str, Any] = {}
    for k, v in p.items():
        vals = draw(arrays(np.float64, np.shape(v), elements=st.floats(-2, 2)))
        with np.errstate(over="ignore", invalid="ignore"):
            g[k] = draw(fs.laid_out((vals * scale).astype(dt)))
    g = {k: v if isinstance(v, np.ndarray) else np.asarray(v) for k, v in g.items()}
    forms: list[Any] = [g]
    hidden, output = fs.record_of(p)
    # as nf.grads returns it: a value with the params' record (unless g is
    # not float32/64, or too large for its dtype: then it cannot be a value)
    with contextlib.suppress(TypeError, ValueError):
        forms += [nf.freeze(g), nf.freeze(g, hidden=hidden, output=output)]
    return draw(fs.params_arg(draw(st.sampled_from(forms))))


def lr_arg(draw: st.DrawFn) -> Any:
    return maybe(
        draw,
        draw(
            st.one_of(
                fs.choice([0.0, 1e-3, 0.1, 1.0], [1e30, 1e300]),
                st.builds(schedules.constant, st.sampled_from([0.0, 0.01, 1.0])),
                st.just(lambda t: 0.1 / (1 + t)),
                st.just(lambda t: float("nan")),
                st.just(lambda t: "fast"),
            )
        ),
    )


@st.composite
def sgd_step_call(draw: st.DrawFn) -> Call:
    p = draw(fs.valid_params())
    args = (
        ("params", draw(fs.params_arg(p))),
        ("grads", maybe(draw, draw(grads_for(p)))),
    )
    lr = maybe(draw, draw(fs.choice([0.0, 1e-3, 0.5, 1.0], [1e30, 1e300])))
    return corrupt(draw, Call(args, {"lr": lr}, {}))


def check_sgd_step(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    p, g, lr = a["params"], a["grads"], a["lr"]
    check_params_like(r, p)
    for k in p:
        ref = np.asarray(p[k], np.float64) - lr * np.asarray(g[k], np.float64)
        tol = 1e-2 if params_dtype(p) == np.float32 else 1e-9
        np.testing.assert_allclose(r[k], ref, rtol=tol, atol=tol * (1 + abs(lr)))


# ---------------------------------------------------------------- optimizers

HYPER: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "sgd": {},
    "momentum": {
        "beta": fs.choice([0.0, 0.5, 0.9, 0.999], [1.0, -0.1]),
        "nesterov": st.booleans(),
    },
    "rmsprop": {
        "decay": fs.choice([0.0, 0.9, 0.99], [1.0]),
        "eps": st.sampled_from([1e-8, 1.0, 0.0, 1e-300]),
    },
    "adam": {
        "b1": fs.choice([0.0, 0.9, 0.999999], [1.0]),
        "b2": fs.choice([0.0, 0.999, 0.9999999999], [1.0]),
        "eps": st.sampled_from([1e-8, 1.0, 0.0, 1e-300]),
    },
}
HYPER["adamw"] = {
    **HYPER["adam"],
    "weight_decay": fs.choice([0.0, 0.01, 1.0], [1e300, -1.0]),
    "decay_biases": st.booleans(),
}


def step_spec(name: str) -> Spec:
    fn = getattr(nf, f"{name}_step")

    @st.composite
    def draw_call(draw: st.DrawFn) -> Call:
        p = draw(fs.valid_params())
        args = (
            ("params", draw(fs.params_arg(p))),
            ("grads", maybe(draw, draw(grads_for(p)))),
            ("state", maybe(draw, draw(fs.opt_state_for(name, p)))),
        )
        kw = {"lr": lr_arg(draw)}
        for h, strategy in HYPER[name].items():
            if draw(st.booleans()):
                kw[h] = maybe(draw, draw(strategy))
        return corrupt(draw, Call(args, kw, {}))

    def check(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
        new_p, new_s = r
        check_params_like(new_p, a["params"])
        assert isinstance(new_s, nf.Frozen)
        assert (new_s.hidden, new_s.output) == (None, None)
        assert sorted(new_s) == sorted(map(str, a["state"]))
        assert int(new_s["count"]) == int(a["state"]["count"]) + 1
        if "epoch" in a["state"]:
            assert int(new_s["epoch"]) == int(a["state"]["epoch"])
        assert all(not v.flags.writeable for v in new_s.values())

    return Spec(fn, drawer(draw_call), check)


def init_spec(name: str) -> Spec:
    fn = getattr(nf, f"{name}_init")

    @st.composite
    def draw_call(draw: st.DrawFn) -> Call:
        p = draw(fs.valid_params())
        return corrupt(draw, Call((("params", draw(fs.params_arg(p))),), {}, {}))

    def check(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
        assert isinstance(r, nf.Frozen)
        slots = fs.SLOTS[name]
        keys = ["count"] + [f"{s}.{k}" for s in slots for k in a["params"]]
        assert sorted(r) == sorted(keys)
        assert int(r["count"]) == 0
        assert r["count"].dtype == np.int64
        assert all(not v.flags.writeable and not v.any() for v in r.values())

    return Spec(fn, drawer(draw_call), check)


SMALL_P = nf.init_params([3, 2, 2], seed=1)
SMALL_G = nf.grads(
    SMALL_P, np.ones((2, 3)), np.array([0.0, 1.0]).repeat(2).reshape(2, 2)
)


def constructor_spec(name: str) -> Spec:
    fn = getattr(nf, name)

    @st.composite
    def draw_call(draw: st.DrawFn) -> Call:
        kw = {}
        for h, strategy in HYPER[name].items():
            if draw(st.booleans()):
                kw[h] = maybe(draw, draw(strategy))
        return corrupt(draw, Call((("lr", lr_arg(draw)),), kw, {}))

    def check(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
        assert isinstance(r, nf.Optimizer)
        lr = a["lr"]
        assert r.lr is lr if callable(lr) else r.lr == lr
        state = r.init(SMALL_P)
        hyper = {k: v for k, v in a.items() if k != "lr"}

        def public_step() -> tuple[Any, Any]:
            """The same step through the public function (sgd_step takes a float)."""
            if name == "sgd":
                eta = lr(0) if callable(lr) else lr
                return nf.sgd_step(SMALL_P, SMALL_G, lr=eta), None
            step = getattr(nf, f"{name}_step")
            result: tuple[Any, Any] = step(SMALL_P, SMALL_G, state, lr=lr, **hyper)
            return result

        # The optimizer's step is fuzzed as X_step; here: it runs, or says
        # why, exactly as X_step with the same hyperparameters does.
        out = call_and_check(r.step, (SMALL_P, SMALL_G, state), {}, ("lr", "step"))
        ref = call_and_check(public_step, (), {}, ("lr",))
        assert (out.error is None) == (ref.error is None), (out, ref)
        if out.error is None:
            p1, s1 = out.result
            check_params_like(p1, SMALL_P)
            assert p1 == ref.result[0]
            assert isinstance(s1, nf.Frozen)
            assert int(s1["count"]) == 1
            assert name == "sgd" or s1 == ref.result[1]

    return Spec(fn, drawer(draw_call), check)


# ------------------------------------------------------------ clip, norm


@st.composite
def any_grads(draw: st.DrawFn) -> Any:
    """Mappings of float arrays of any shape and dtype, values up to float max."""
    kind = draw(fs.choice(["arrays"], ["arrays", "arrays", "hostile"]))
    if kind == "hostile":
        return draw(fs.hostile())
    out: dict[Any, Any] = {}
    for i in range(draw(st.integers(0, 4))):
        dtype: np.dtype[Any] = draw(
            st.sampled_from((*FLOAT_DTYPES, np.dtype(np.float16)))
        )
        shape = draw(st.tuples(*[st.integers(0, 3)] * draw(st.integers(0, 3))))
        big = float(np.finfo(dtype).max)
        el = st.one_of(
            st.floats(-2, 2, width=16),
            st.sampled_from([big, -big, big / 3, 1e-30, 0.0]).map(dtype.type),
        )
        a = draw(arrays(dtype, shape, elements=el))
        out[f"g{i}"] = draw(fs.laid_out(a))
    if not fs.MODE.strict and draw(st.integers(0, 9)) == 0:
        out["bad"] = draw(fs.hostile())
    return draw(st.sampled_from([out, types.MappingProxyType(out)]))


def _norm64(g: Mapping[str, Any]) -> float:
    """The exact global norm, via integers scaled by a power of two."""
    total = 0.0
    top = max(
        (float(np.abs(np.asarray(v, np.float64)).max(initial=0)) for v in g.values()),
        default=0.0,
    )
    if top == 0.0:
        return 0.0
    for v in g.values():
        w = np.asarray(v, np.float64) / top
        total += float(np.vdot(w, w))
    return math.sqrt(total) * top


def check_global_norm(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert type(r) is float
    assert r >= 0.0
    assert math.isclose(r, _norm64(a["grads"]), rel_tol=1e-3)


def check_clip(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    g, c = a["grads"], float(a["max_norm"])
    like = {k: np.asarray(v) for k, v in g.items()}
    check_params_like(r, like, record=fs.record_of(g))
    n = _norm64(r)
    assert n <= c * (1 + 1e-2) or n <= _norm64(g) * (1 + 1e-2)
    if _norm64(g) > c:
        assert n == pytest.approx(c, rel=1e-2)


@st.composite
def clip_call(draw: st.DrawFn) -> Call:
    c = maybe(draw, draw(fs.choice([1e-300, 1e-3, 1.0, 10.0, 1e300], [0.0, -1.0])))
    return corrupt(draw, Call((("grads", draw(any_grads())), ("max_norm", c)), {}, {}))


@st.composite
def norm_call(draw: st.DrawFn) -> Call:
    return corrupt(draw, Call((("grads", draw(any_grads())),), {}, {}))


# ------------------------------------------------------------------ schedules

STEPS = st.one_of(
    st.integers(0, 10**6),
    fs.choice([2**63 - 1], [2**64, 10**400, -1]),
    fs.scalars(),
)
RATES = fs.choice([0.0, 0.1, 1.0, 1e300], [-1.0, float("nan")])
COUNTS = fs.choice([1, 10, 2**63 - 1], [0, 10**400, -1])


@st.composite
def schedule_call(draw: st.DrawFn, name: str) -> Call:
    args: list[tuple[str, Any]]
    kw: dict[str, Any] = {}
    if name == "constant":
        args = [("lr", draw(RATES))]
    elif name == "piecewise":
        bs = draw(st.lists(st.one_of(st.integers(0, 100), COUNTS), max_size=3))
        if fs.MODE.strict:
            bs = sorted({b for b in bs if 1 <= b < 2**63})
        m = len(bs) + draw(fs.choice([1], [1, 1, 0, 2]))
        vs = draw(st.lists(RATES, min_size=m, max_size=m))
        args = [("boundaries", maybe(draw, bs)), ("values", maybe(draw, vs))]
    elif name == "exponential_decay":
        rate = draw(fs.choice([0.5, 1.0, 1e-300], [0.0, 2.0]))
        args = [
            ("lr", draw(RATES)),
            ("decay_rate", rate),
            ("decay_steps", draw(COUNTS)),
        ]
        if draw(st.booleans()):
            kw["staircase"] = maybe(draw, draw(st.booleans()))
    elif name == "inverse_time":
        args = [
            ("lr", draw(RATES)),
            ("decay_rate", draw(fs.choice([0.0, 0.5, 1e300]))),
        ]
        if draw(st.booleans()):
            args.append(("decay_steps", draw(COUNTS)))
    else:
        args = [("lr", draw(RATES)), ("total_steps", draw(COUNTS))]
        if draw(st.booleans()):
            kw["warmup_steps"] = draw(COUNTS)
        if draw(st.booleans()):
            kw["final_lr"] = draw(RATES)
    args = [(k, maybe(draw, v, 0.05)) for k, v in args]
    steps = draw(st.lists(STEPS, min_size=1, max_size=4))
    return corrupt(draw, Call(tuple(args), kw, {"steps": steps}))


def check_schedule(r: Any, a: dict[str, Any], extra: dict[str, Any]) -> None:
    assert callable(r)
    for step in extra["steps"]:
        out = call_and_check(r, (step,), {}, ("step",))
        if out.error is None:
            assert type(out.result) is float
            assert 0.0 <= out.result < math.inf


# ------------------------------------------------------------------ registry

SPECS: dict[str, Spec] = {
    "sgd_step": spec(nf.sgd_step, sgd_step_call, check_sgd_step),
    "clip_by_global_norm": spec(nf.clip_by_global_norm, clip_call, check_clip),
    "global_norm": spec(nf.global_norm, norm_call, check_global_norm),
}
for _name in ("momentum", "rmsprop", "adam", "adamw"):
    SPECS[f"{_name}_step"] = step_spec(_name)
for _name in fs.SLOTS:
    SPECS[f"{_name}_init"] = init_spec(_name)
    SPECS[_name] = constructor_spec(_name)
for _name in schedules.__all__:
    SPECS[f"schedules.{_name}"] = spec(
        getattr(schedules, _name), lambda n=_name: schedule_call(n), check_schedule
    )


# --------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fuzz(name: str) -> None:
    fuzz(name, SPECS[name])


@pytest.mark.parametrize("name", subclass_specs(SPECS))
def test_masked_arrays_and_matrices_are_refused(name: str) -> None:
    refuse_subclasses(name, SPECS[name])


@pytest.mark.parametrize("name", sorted(fs.SLOTS))
def test_an_optimizers_own_step_refuses_masked_arrays_and_matrices(
    name: str,
) -> None:
    opt: nf.Optimizer = getattr(nf, name)(0.1)
    state = opt.init(SMALL_P)
    good = {"params": SMALL_P, "grads": SMALL_G, "state": state}
    for arg, value in good.items():
        for key, a in value.items():
            for kind, new in fs.subclassed(a):
                arguments = {**good, arg: swapped(value, key, new)}
                args = (arguments["params"], arguments["grads"], arguments["state"])
                out = call_and_check(opt.step, args, {}, (arg,))
                assert isinstance(out.error, TypeError), (name, kind, arg, key, out)
                out = call_and_check(opt.init, (arguments["params"],), {}, ("params",))
                assert (out.error is None) == (arg != "params"), (name, kind, key)
