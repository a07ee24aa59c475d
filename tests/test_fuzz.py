"""Hostile input: every public function, driven with arbitrary arguments.

Each call must end in one of two ways: a correct result, or a ``ValueError``
or ``TypeError`` whose message names an argument. Never another exception
type, never a NumPy warning, never a change to anything passed in (bytes,
flags and mapping contents are compared before and after), and never a
non-finite result from finite input. One harness (``call_and_check``) does
these checks; each public function has a ``Spec`` that draws its arguments,
mostly valid (so that results get checked too), sometimes subtly wrong,
sometimes anything at all. Params, grads and states come back as ``nf.Frozen``
values with the record the contract gives them.

``test_masked_arrays_and_matrices_are_refused`` takes valid calls and swaps
one array (an argument, a value of a params, grads or state mapping, one of
``validation``) for a masked array or an ``np.matrix``: a TypeError naming
that argument, whatever the function.

The number of examples follows the active hypothesis profile
(``FUZZ_EXAMPLES = settings().max_examples``): the default and ``ci``
profiles run 100 per function, ``HYPOTHESIS_PROFILE=thorough`` 1000. Set
``NNFUNC_FUZZ_STATS=FILE`` to append per-function counts to ``FILE``.
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import math
import os
import pathlib
import re
import shutil
import tempfile
import time
import types
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nnfunc as nf
from nnfunc import datasets, schedules
from nnfunc.training import TrainingError
from tests import fuzz_strategies as fs

#: Examples per function in the active profile.
FUZZ_EXAMPLES: int = settings().max_examples

# ------------------------------------------------------------------ harness


class Outcome(NamedTuple):
    """What one fuzzed call did: its result, or the error it raised."""

    result: Any
    error: BaseException | None


def snapshot(obj: Any, depth: int = 0) -> Any:
    """Everything observable about ``obj``: bytes, flags, type, contents."""
    if depth > 8:
        return ("deep", id(obj))
    if isinstance(obj, np.ndarray):
        flags = obj.flags
        data: Any = (
            [id(o) for o in obj.flat] if obj.dtype.kind == "O" else obj.tobytes()
        )
        return (
            "array", type(obj), obj.dtype, obj.shape, obj.strides, flags.writeable,
            flags.c_contiguous, flags.f_contiguous, flags.owndata, data,
        )  # fmt: skip
    if isinstance(obj, Mapping):
        items = [(repr(k), snapshot(v, depth + 1)) for k, v in obj.items()]
        return ("mapping", type(obj), items)
    if isinstance(obj, (list, tuple)):
        return (type(obj), [snapshot(v, depth + 1) for v in obj])
    if isinstance(obj, (set, frozenset)):
        return (type(obj), sorted(map(repr, obj)))
    return ("object", type(obj), id(obj))


def is_finite(obj: Any, depth: int = 0) -> bool:
    """Whether every number in ``obj`` (arrays, floats, containers) is finite."""
    if depth > 8:
        return True
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            return bool(np.isfinite(obj).all())
        if obj.dtype.kind == "O":
            return all(is_finite(v, depth + 1) for v in obj.flat)
        return True
    if isinstance(obj, (float, complex, np.floating, np.complexfloating)):
        return bool(np.isfinite(obj))
    if isinstance(obj, Mapping):
        return all(is_finite(v, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(is_finite(v, depth + 1) for v in obj)
    return True


def names_word(name: str, message: str) -> bool:
    """Whether ``message`` mentions ``name`` as a whole word (``x``, not ``max``)."""
    return (
        re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message)
        is not None
    )


def call_and_check(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    names: tuple[str, ...],
    *,
    allowed: tuple[type[BaseException], ...] = (ValueError, TypeError),
    named: tuple[type[BaseException], ...] = (ValueError, TypeError),
    consume: bool = False,
    finite: bool = True,
) -> Outcome:
    """Call ``fn(*args, **kwargs)`` and check the contract of every public call.

    The call raises only ``allowed`` exceptions, and those of the types in
    ``named`` mention one of ``names`` (the arguments); it emits no warning;
    it leaves its arguments as they were; and from finite arguments it
    returns finite numbers (when ``finite``). ``consume`` lists an iterator
    result, so that lazy errors count as the call's.
    """
    before = snapshot((args, kwargs))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
            if consume:
                result = list(result)
            error: BaseException | None = None
        except BaseException as e:  # every exception is judged below
            result, error = None, e
    where = f"{getattr(fn, '__name__', fn)}(*{args!r:.300}, **{kwargs!r:.300})"
    assert not caught, f"{where} warned: {[str(w.message) for w in caught]}"
    assert snapshot((args, kwargs)) == before, f"{where} changed its arguments"
    if error is not None:
        if not isinstance(error, allowed):
            raise AssertionError(f"{where} raised {type(error).__name__}") from error
        if isinstance(error, named):
            message = str(error)
            assert any(names_word(n, message) for n in names), (
                f"{where} raised {type(error).__name__}({message!r}), "
                f"which names none of {names}"
            )
        return Outcome(None, error)
    if finite and is_finite((args, kwargs)):
        assert is_finite(result), f"{where} returned non-finite {result!r:.500}"
    return Outcome(result, None)


# -------------------------------------------------------------------- specs


class Call(NamedTuple):
    """Drawn arguments: positional and keyword, plus extra data for the check."""

    args: tuple[tuple[str, Any], ...]
    kwargs: dict[str, Any]
    extra: dict[str, Any]


@dataclass(frozen=True)
class Spec:
    """How to fuzz one public function.

    ``draw`` builds a ``Call``; ``check(result, arguments, extra)`` tests a
    successful result; ``weight`` scales the number of examples.
    """

    fn: Callable[..., Any]
    draw: Callable[[st.DrawFn], Call]
    check: Callable[[Any, dict[str, Any], dict[str, Any]], None] | None = None
    allowed: tuple[type[BaseException], ...] = (ValueError, TypeError)
    consume: bool = False
    finite: bool = True
    weight: float = 1.0
    stats: dict[str, int] = field(default_factory=dict)


def rarely(draw: st.DrawFn, p: float) -> bool:
    """True with probability about ``p`` (never when strict).

    The rare value sits mid-range: hypothesis favours (and shrinks to) the
    ends of an integer range, which would make it common.
    """
    n = max(2, round(1 / p))
    return not fs.MODE.strict and draw(st.integers(0, n - 1)) == n // 2


def maybe(draw: st.DrawFn, value: Any, p: float = 0.1, *, size: bool = False) -> Any:
    """``value``, or (unless strict) with probability ``p`` anything at all.

    ``size``: the argument is a size or a count, so no huge ints (see
    ``fs.scalars``).
    """
    if rarely(draw, p):
        return draw(fs.hostile(huge=not size))
    return value


def corrupt(draw: st.DrawFn, call: Call, p: float = 0.05) -> Call:
    """Sometimes (unless strict) add an argument the function does not take."""
    if rarely(draw, p):
        kwargs = {**call.kwargs, "bogus_arg": draw(fs.hostile())}
        return Call(call.args, kwargs, call.extra)
    return call


def check_params_like(
    r: Any,
    like: Mapping[str, Any],
    dtype: Any = None,
    record: tuple[Any, Any] | None = None,
) -> None:
    """``r`` is a ``Frozen`` value of read-only arrays shaped like ``like``.

    Its record is ``record``, by default the one ``like`` has (None, None
    for a plain mapping): every function keeps the record of its input.
    """
    assert isinstance(r, nf.Frozen)
    assert (r.hidden, r.output) == (fs.record_of(like) if record is None else record)
    assert sorted(map(repr, r)) == sorted(map(repr, like))
    for k, v in r.items():
        ref = np.asarray(like[k])
        assert isinstance(v, np.ndarray)
        assert not v.flags.writeable
        assert v.shape == ref.shape
        assert v.dtype == (ref.dtype if dtype is None else dtype)


def params_dtype(p: Mapping[str, Any]) -> np.dtype[Any]:
    return np.asarray(p["W1"]).dtype


# ------------------------------------------------------ network functions


@st.composite
def net_call(draw: st.DrawFn, *, with_y: bool, train_kw: bool) -> Call:
    """params, x (and y), hidden, output (and l2, dropout, training, seed).

    The params are drawn for an architecture, which they record (or not);
    ``hidden``/``output`` are then given as ``fs.arch_kwargs`` says.
    """
    output = draw(st.sampled_from(fs.OUTPUTS))
    widths = draw(fs.sizes())
    if output == "softmax" and (fs.MODE.strict or draw(st.integers(0, 9)) > 0):
        widths[-1] = max(widths[-1], 2)
    hidden = draw(fs.valid_hidden(len(widths) - 2))
    p = draw(fs.valid_params(widths, hidden=hidden, output=output))
    rows = draw(st.integers(1, 5))
    cols = widths[0] + draw(fs.choice([0] * 19, [1]))
    x = draw(fs.real_batch(rows, cols))
    args = [("params", draw(fs.params_arg(p))), ("x", maybe(draw, x))]
    if with_y:
        args.append(("y", maybe(draw, draw(fs.targets(output, rows, widths[-1])))))
    arch = draw(fs.arch_kwargs(p, hidden, output, len(widths) - 2))
    kw: dict[str, Any] = {k: maybe(draw, v, 0.05) for k, v in arch.items()}
    if train_kw:
        if with_y and draw(st.booleans()):  # forward has no l2
            kw["l2"] = maybe(draw, draw(fs.choice([0.0, 1e-3, 0.5], [1e300])))
        if draw(st.booleans()):
            kw["dropout"] = maybe(draw, draw(fs.choice([0.0, 0.2, 0.9], [1.0])))
            kw["training"] = maybe(draw, draw(st.booleans()))
        if draw(st.booleans()):
            kw["seed"] = maybe(draw, draw(st.one_of(fs.seeds(), st.none())))
    return corrupt(draw, Call(tuple(args), kw, {}))


def arch(a: dict[str, Any]) -> tuple[Any, str]:
    """The architecture a successful call ran: the arguments, else the record.

    As the library records it: one name, or a tuple of one per hidden layer.
    """
    rec_h, rec_o = fs.record_of(a["params"])
    h = a.get("hidden")
    h = h if h is not None else rec_h if rec_h is not None else "relu"
    o = a.get("output")
    o = o if o is not None else rec_o if rec_o is not None else "sigmoid"
    return (h if isinstance(h, str) else tuple(h)), str(o)


def _out(a: dict[str, Any]) -> str:
    return arch(a)[1]


def check_forward(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    sizes = nf.layer_sizes(a["params"])
    assert isinstance(r, np.ndarray)
    assert r.shape == (np.shape(a["x"])[0], sizes[-1])
    assert r.dtype == params_dtype(a["params"])
    if _out(a) == "sigmoid":
        assert ((r >= 0) & (r <= 1)).all()
    elif _out(a) == "softmax":
        assert ((r >= 0) & (r <= 1)).all()
        np.testing.assert_allclose(r.sum(axis=1), 1.0, rtol=1e-3)


def check_predict(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    k = nf.layer_sizes(a["params"])[-1]
    rows = np.shape(a["x"])[0]
    assert isinstance(r, np.ndarray)
    if _out(a) == "softmax":
        assert r.shape == (rows,)
        assert r.dtype == np.int64
        assert ((r >= 0) & (r < k)).all()
        return
    assert r.shape == ((rows,) if k == 1 else (rows, k))
    if _out(a) == "sigmoid":
        assert r.dtype == np.int64
        assert set(np.unique(r)) <= {0, 1}


def check_loss(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert type(r) is float
    assert r >= 0.0


def check_grads_result(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    check_params_like(r, a["params"])


def check_loss_and_grads(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    value, g = r
    check_params_like(g, a["params"])
    kw = {k: v for k, v in a.items() if k not in ("params", "x", "y")}
    assert value == nf.loss(a["params"], a["x"], a["y"], **kw)
    again = nf.grads(a["params"], a["x"], a["y"], **kw)
    assert all(np.array_equal(g[k], again[k]) for k in g)


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

SLOTS = {"sgd": "", "momentum": "m", "rmsprop": "v", "adam": "mv", "adamw": "mv"}
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


@st.composite
def opt_state_for(draw: st.DrawFn, name: str, p: Mapping[str, Any]) -> Any:
    """A state for optimizer ``name``: fresh, stepped, or one of many lies."""
    init = getattr(nf, f"{name}_init") if name != "sgd" else nf.sgd_init
    state = dict(init(p))
    if draw(st.booleans()):
        state["count"] = np.array(draw(st.integers(0, 2**40)), dtype=np.int64)
        for k in state:
            if k != "count":
                v = draw(arrays(np.float64, state[k].shape, elements=st.floats(0, 2)))
                state[k] = v.astype(state[k].dtype)
    if draw(st.booleans()):  # a state from train: every step keeps its epoch
        state["epoch"] = np.array(draw(st.integers(0, 2**40)), dtype=np.int64)
    lie = draw(fs.choice(["none"], ["none"] * 5 + ["count", "drop", "other", "neg"]))
    if lie == "count":
        state["count"] = draw(st.sampled_from([0, np.int32(0), np.array([0]), 1.5]))
    elif lie == "drop" and len(state) > 1:
        del state[sorted(state)[0]]
    elif lie == "other":
        return dict(nf.adam_init(p)) if name != "adam" else dict(nf.sgd_init(p))
    elif lie == "neg":
        state["count"] = np.array(-1, dtype=np.int64)
    if draw(st.booleans()):
        return nf.freeze(state)
    return {k: draw(fs.laid_out(v)) if k != "count" else v for k, v in state.items()}


def step_spec(name: str) -> Spec:
    fn = getattr(nf, f"{name}_step")

    @st.composite
    def draw_call(draw: st.DrawFn) -> Call:
        p = draw(fs.valid_params())
        args = (
            ("params", draw(fs.params_arg(p))),
            ("grads", maybe(draw, draw(grads_for(p)))),
            ("state", maybe(draw, draw(opt_state_for(name, p)))),
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

    return Spec(fn, _drawer(draw_call), check)


def init_spec(name: str) -> Spec:
    fn = getattr(nf, f"{name}_init")

    @st.composite
    def draw_call(draw: st.DrawFn) -> Call:
        p = draw(fs.valid_params())
        return corrupt(draw, Call((("params", draw(fs.params_arg(p))),), {}, {}))

    def check(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
        assert isinstance(r, nf.Frozen)
        slots = SLOTS[name]
        keys = ["count"] + [f"{s}.{k}" for s in slots for k in a["params"]]
        assert sorted(r) == sorted(keys)
        assert int(r["count"]) == 0
        assert r["count"].dtype == np.int64
        assert all(not v.flags.writeable and not v.any() for v in r.values())

    return Spec(fn, _drawer(draw_call), check)


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

    return Spec(fn, _drawer(draw_call), check)


# ------------------------------------------------------------ clip, norm


@st.composite
def any_grads(draw: st.DrawFn) -> Any:
    """Mappings of float arrays of any shape and dtype, values up to float max."""
    kind = draw(fs.choice(["arrays"], ["arrays", "arrays", "hostile"]))
    if kind == "hostile":
        return draw(fs.hostile())
    out: dict[Any, Any] = {}
    for i in range(draw(st.integers(0, 4))):
        dtype: np.dtype[Any] = draw(st.sampled_from((*fs.FLOATS, np.dtype(np.float16))))
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


# --------------------------------------------------------- batches, seeds


@st.composite
def batches_call(draw: st.DrawFn) -> Call:
    n = draw(st.integers(1, 9))
    x = draw(fs.any_array())
    if draw(st.integers(0, 3)):
        shape = (n, *draw(st.tuples(*[st.integers(0, 3)] * draw(st.integers(0, 2)))))
        dt = draw(st.sampled_from(fs.ALL_DTYPES))
        x = draw(fs.laid_out(draw(arrays(dt, shape, elements=fs.elements(dt)))))
    y = draw(fs.laid_out(np.arange(n + draw(fs.choice([0], [0, 0, 1, -1])))))
    kw = {
        "batch_size": maybe(draw, draw(st.integers(0 if fs.MODE.strict else -1, 12))),
        "seed": maybe(draw, draw(fs.seeds())),
    }
    if draw(st.booleans()):
        kw["drop_last"] = maybe(draw, draw(st.booleans()))
    args = (("x", maybe(draw, x)), ("y", maybe(draw, y)))
    return corrupt(draw, Call(args, kw, {"arange": y}))


def check_batches(r: Any, a: dict[str, Any], extra: dict[str, Any]) -> None:
    n, size = len(np.asarray(a["y"])), a["batch_size"]
    rows = sum(len(yb) for _, yb in r)
    assert rows == (n - n % size if a.get("drop_last") else n)
    assert all(len(xb) == len(yb) <= size for xb, yb in r)
    if a["y"] is extra["arange"]:  # y is the arange drawn: each sample once
        ys = np.concatenate([yb for _, yb in r]) if r else np.array([])
        assert len(np.unique(ys)) == len(ys)


@st.composite
def derive_seed_call(draw: st.DrawFn) -> Call:
    keys = [maybe(draw, k) for k in draw(st.lists(st.integers(0, 2**70), max_size=3))]
    args = [("seed", maybe(draw, draw(fs.seeds())))] + [("keys", k) for k in keys]
    return Call(tuple(args), {}, {})


def check_derive_seed(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert isinstance(r, np.random.SeedSequence)


# -------------------------------------------------------------- check_grads


@st.composite
def check_grads_call(draw: st.DrawFn) -> Call:
    widths = draw(fs.sizes(max_layers=3, max_width=3))
    x = np.linspace(-1, 1, 2 * widths[0]).reshape(2, widths[0])
    y = np.full((2, widths[-1]), 0.5)
    hidden = draw(st.sampled_from(fs.HIDDEN))
    p = draw(fs.valid_params(widths, hidden=hidden))  # records it, or nothing

    def loss_fn(q: nf.Params) -> float:
        # q is params, perturbed, with their record: it agrees with hidden
        return nf.loss(q, x, y, hidden=hidden)  # type: ignore[arg-type]

    fns: list[Any] = [loss_fn] * 4 + [
        lambda q: float("nan"), lambda q: math.inf, lambda q: "low",
        lambda q: None, lambda q: np.float32(1.0), lambda q: 1e308, 3,
    ]  # fmt: skip
    try:
        g = nf.grads(p, x, y, hidden=hidden)  # type: ignore[arg-type]
    except ValueError:  # params scaled so large that the gradient overflows
        g = nf.freeze({k: np.zeros_like(v) for k, v in p.items()}, **fs.record(p))
    args = (
        ("loss_fn", draw(fs.choice(fns[:4], fns[4:]))),
        ("params", draw(fs.params_arg(p))),
        ("grads", maybe(draw, draw(st.sampled_from([g, dict(g)])))),
    )
    kw: dict[str, Any] = {}
    options = {
        "mode": fs.choice(["direction", "coordinate"], ["random"]),
        "n_directions": fs.choice([1, 2], [0]),
        "h": fs.choice([1e-6, 1e-3], [0.0, 1e300, -1.0]),
        "rtol": fs.choice([1e-5, 0.0, 1e300]),
        "atol": fs.choice([1e-8, 0.0], [-1.0]),
        "seed": fs.seeds(),
    }
    for k, s in options.items():
        if draw(st.booleans()):
            kw[k] = maybe(draw, draw(s), 0.05, size=k == "n_directions")
    return corrupt(draw, Call(args, kw, {}))


def check_check_grads(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert isinstance(r, nf.GradCheck)
    assert r.numeric.shape == r.analytic.shape
    assert math.isfinite(r.max_error)
    assert r.max_error >= 0


# ---------------------------------------------------- params and helpers


@st.composite
def mapping_call(draw: st.DrawFn, name: str) -> Call:
    p = draw(fs.valid_params())
    return corrupt(draw, Call(((name, draw(fs.params_arg(p))),), {}, {}))


@st.composite
def freeze_call(draw: st.DrawFn) -> Call:
    """Params (maybe with a record to give them) or an optimizer state."""
    widths = draw(fs.sizes())
    p = draw(fs.valid_params(widths))
    kw: dict[str, Any] = {}
    if draw(st.integers(0, 3)) == 0:
        state = draw(opt_state_for(draw(st.sampled_from(sorted(SLOTS))), p))
        return corrupt(draw, Call((("arrays", maybe(draw, state)),), kw, {}))
    if draw(st.booleans()):
        kw["hidden"] = maybe(draw, draw(fs.hidden_arg(len(widths) - 2)))
    if draw(st.booleans()):
        kw["output"] = maybe(draw, draw(fs.choice(fs.OUTPUTS, ["mse"])))
    return corrupt(draw, Call((("arrays", draw(fs.params_arg(p))),), kw, {}))


def check_freeze(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    src = a["arrays"]
    assert isinstance(r, nf.Frozen)
    h, o = a.get("hidden"), a.get("output")
    assert r.hidden == (h if h is None or isinstance(h, str) else tuple(h))
    assert r.output == o
    assert sorted(r) == sorted(src)
    for k, v in r.items():
        assert not v.flags.writeable
        ref = np.asarray(src[k])
        assert not np.shares_memory(v, ref)
        assert v.dtype == ref.dtype
        assert np.array_equal(v, ref)


def check_to_dict(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert type(r) is dict
    for k, v in a["params"].items():
        assert r[str(k)].flags.writeable
        assert not np.shares_memory(r[str(k)], np.asarray(v))


def check_layer_sizes(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert isinstance(r, tuple)
    assert all(type(n) is int and n >= 1 for n in r)


@st.composite
def init_params_call(draw: st.DrawFn) -> Call:
    widths: Any = draw(fs.sizes(max_layers=5, max_width=6))
    n_hidden = len(widths) - 2
    widths = draw(
        fs.choice(
            [widths, tuple(widths), np.array(widths), [np.int8(2), np.uint64(3)]],
            [[*widths[:-1], 0], [*widths[:-1], -1], [*widths[:-1], 2.0], [3],
             [True, 2], "34"],
        )
    )  # fmt: skip
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        kw["seed"] = maybe(draw, draw(fs.seeds()))
    if draw(st.booleans()):
        kw["init"] = maybe(draw, draw(fs.choice(fs.INITS, ["glorot"])))
    if draw(st.booleans()):
        kw["dtype"] = maybe(
            draw,
            draw(
                fs.choice(
                    [np.float32, np.float64, "float32", "f8", np.dtype("f4"), ">f8"],
                    [np.float16, np.int64, "complex128", None],
                )
            ),
        )  # fmt: skip
    if draw(st.booleans()):
        kw["hidden"] = maybe(draw, draw(fs.hidden_arg(n_hidden)))
    if draw(st.booleans()):
        kw["output"] = maybe(draw, draw(fs.choice(fs.OUTPUTS, ["mse"])))
    return corrupt(draw, Call((("sizes", maybe(draw, widths)),), kw, {}))


def check_init_params(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    widths = [int(n) for n in a["sizes"]]
    assert isinstance(r, nf.Frozen)
    assert nf.layer_sizes(r) == tuple(widths)
    assert all(not v.flags.writeable for v in r.values())
    h = a.get("hidden", "relu")
    assert r.hidden == (h if isinstance(h, str) else tuple(h))
    assert r.output == a.get("output", "sigmoid")


# ------------------------------------------------------------------ softmax


@st.composite
def logits_call(draw: st.DrawFn) -> Call:
    kind = draw(fs.choice(["batch"], ["batch", "batch", "any"]))
    if kind == "any":
        z = draw(fs.hostile())
    else:
        dt: Any = draw(st.sampled_from([np.float32, np.float64, np.float64, np.int64]))
        rows, k = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        el: st.SearchStrategy[Any]
        if dt == np.int64:
            el = st.one_of(st.integers(-50, 50), st.sampled_from([2**62, -(2**62)]))
        else:
            big = float(np.finfo(dt).max)
            el = st.one_of(
                st.floats(-50, 50, width=32),
                st.sampled_from([big, -big, 80.0, -700.0, 1e4]),
            )
        z = draw(fs.laid_out(draw(arrays(dt, (rows, k), elements=el))))
    return corrupt(draw, Call((("z", z),), {}, {}))


def check_softmax(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert isinstance(r, np.ndarray)
    assert r.shape == np.shape(a["z"])
    assert ((r >= 0) & (r <= 1)).all()
    np.testing.assert_allclose(r.sum(axis=1), 1.0, rtol=1e-3)


def check_log_softmax(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert isinstance(r, np.ndarray)
    assert r.shape == np.shape(a["z"])
    assert (r <= 0).all()
    # the probabilities sum to 1: logsumexp(r) = 0
    np.testing.assert_allclose(np.exp(r.astype(np.float64)).sum(axis=1), 1.0, rtol=1e-3)


# ------------------------------------------------------------------ metrics


@st.composite
def labels(draw: st.DrawFn, n: int, ndim: int) -> Any:
    dt = draw(st.sampled_from([np.int64, np.int8, np.uint8, np.uint64, np.bool_,
                               np.float64, np.float16]))  # fmt: skip
    shape = (n,) if ndim == 1 else (n, draw(st.integers(0, 3)))
    hi = 1 if dt == np.bool_ else 5
    a = draw(arrays(dt, shape, elements=st.integers(0, hi).map(dt)))
    return draw(fs.laid_out(a))


@st.composite
def metric_call(draw: st.DrawFn, with_k: bool) -> Call:
    n = draw(st.integers(1, 8))
    ndim = 1 if with_k or draw(st.booleans()) else 2
    t = draw(labels(n, ndim))
    p = draw(st.one_of(labels(n, ndim), labels(n, ndim), st.just(np.asarray(t)[::-1])))
    if np.shape(p) != np.shape(t) and draw(st.booleans()):
        p = np.asarray(t).copy()
    args = [("y_true", maybe(draw, t)), ("y_pred", maybe(draw, p))]
    if with_k and draw(st.booleans()):
        args.append(("k", maybe(draw, draw(st.integers(0, 8)))))
    return corrupt(draw, Call(tuple(args), {}, {}))


def check_accuracy(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert type(r) is float
    assert 0.0 <= r <= 1.0


def check_confusion(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert r.dtype == np.int64
    assert r.ndim == 2
    assert r.shape[0] == r.shape[1]
    assert r.sum() == len(np.asarray(a["y_true"]))
    acc = nf.accuracy(a["y_true"], a["y_pred"])
    assert acc == pytest.approx(np.trace(r) / r.sum())


def check_precision_recall(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    precision, recall = r
    assert precision.shape == recall.shape
    assert precision.ndim == 1
    assert ((precision >= 0) & (precision <= 1) & (recall >= 0) & (recall <= 1)).all()


# ------------------------------------------------------------- save, load

_DIR = pathlib.Path(tempfile.mkdtemp(prefix="nnfunc-fuzz-io-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
_files = iter(range(10**9))


def fresh_path() -> pathlib.Path:
    return _DIR / f"f{next(_files)}.npz"


def json_values() -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False,
        allow_infinity=False), st.text(max_size=4)
    )  # fmt: skip
    return st.recursive(
        leaf,
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(st.text(max_size=3), c, max_size=3)
        ),
        max_leaves=6,
    )


@st.composite
def path_arg(draw: st.DrawFn, path: pathlib.Path) -> Any:
    return draw(
        fs.choice(
            [path, str(path)],
            [path, path, _DIR / "missing" / "x.npz", _DIR, "", bytes(path),
             "bad\0name", None, 3],
        )
    )  # fmt: skip


@st.composite
def save_call(draw: st.DrawFn) -> Call:
    widths = draw(fs.sizes())
    hidden = draw(fs.valid_hidden(len(widths) - 2))
    output = draw(st.sampled_from(fs.OUTPUTS))
    if output == "softmax" and widths[-1] < 2:
        widths[-1] = 2
    p = draw(fs.valid_params(widths, hidden=hidden, output=output))
    path = fresh_path()
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        state = draw(opt_state_for(draw(st.sampled_from(sorted(SLOTS))), p))
        if draw(st.booleans()):
            state = {**state, "epoch": np.array(3)}
        kw["opt_state"] = maybe(draw, state)
    if draw(st.booleans()):  # else only the params' record, if any, is saved
        arch = draw(fs.arch_kwargs(p, hidden, output, len(widths) - 2))
        kw.update((k, maybe(draw, v)) for k, v in arch.items())
    if draw(st.booleans()):
        kw["meta"] = draw(
            st.one_of(json_values(), fs.choice([None], [(1, 2), {1: 2}, float("nan"),
                      object()]))
        )  # fmt: skip
    args = (("path", draw(path_arg(path))), ("params", draw(fs.params_arg(p))))
    return corrupt(draw, Call(args, kw, {}))


def check_save(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert r is None
    back = nf.load(a["path"])
    for k, v in a["params"].items():
        assert back.params[k].tobytes() == np.ascontiguousarray(v).tobytes()
    assert back.meta == a.get("meta")
    # the record saved: the arguments, else the params' own (None if none)
    h, o = fs.record_of(a["params"])
    h = a.get("hidden") if a.get("hidden") is not None else h
    h = h if h is None or isinstance(h, str) else tuple(h)
    o = a.get("output") if a.get("output") is not None else o
    assert (back.hidden, back.output) == (h, o)
    assert isinstance(back.params, nf.Frozen)
    assert (back.params.hidden, back.params.output) == (h, o)
    state = a.get("opt_state")
    if state is None:
        assert back.opt_state is None
        return
    assert isinstance(back.opt_state, nf.Frozen)
    assert sorted(back.opt_state) == sorted(state)
    for k, v in state.items():
        assert back.opt_state[k].dtype == v.dtype
        assert back.opt_state[k].tobytes() == np.ascontiguousarray(v).tobytes()


def checkpoint_bytes(p: nf.Params) -> bytes:
    path = fresh_path()
    hidden: Any = "tanh" if fs.record_of(p)[0] is None else None  # None: the record
    nf.save(path, p, opt_state=nf.adam_init(p), hidden=hidden, meta={"a": [1]})
    return path.read_bytes()


@st.composite
def load_call(draw: st.DrawFn) -> Call:
    path = fresh_path()
    good = checkpoint_bytes(draw(fs.valid_params()))
    kind = draw(fs.choice(["good"], ["cut", "flip", "junk", "empty"]))
    data = good
    if kind == "cut":
        data = good[: draw(st.integers(0, len(good) - 1))]
    elif kind == "flip":
        at = draw(st.integers(0, len(good) - 1))
        data = (
            good[:at] + bytes([good[at] ^ draw(st.integers(1, 255))]) + good[at + 1 :]
        )
    elif kind == "junk":
        data = draw(st.binary(max_size=200))
    elif kind == "empty":
        data = b""
    path.write_bytes(data)
    return Call((("path", draw(path_arg(path))),), {}, {})


def check_load(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert isinstance(r, nf.Checkpoint)
    check_params_like(r.params, r.params, record=(r.hidden, r.output))
    assert all(math.isfinite(float(np.abs(v).max())) for v in r.params.values())


# --------------------------------------------------------------------- train


def optimizers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(nf.sgd, st.sampled_from([0.0, 0.1, 1.0])),
        st.builds(
            nf.momentum, st.sampled_from([0.01, 0.1]), st.sampled_from([0.0, 0.9])
        ),
        st.builds(nf.adam, st.sampled_from([1e-3, 0.1])),
        st.builds(nf.rmsprop, st.sampled_from([1e-3, 0.1])),
        st.builds(nf.adamw, st.sampled_from([1e-3, 0.1])),
        st.builds(nf.sgd, fs.choice([0.01], [1e30, 1e300])),
    )


@st.composite
def train_call(draw: st.DrawFn) -> Call:
    output = draw(st.sampled_from(fs.OUTPUTS))
    widths = draw(fs.sizes(max_layers=3, max_width=4))
    if output == "softmax":
        widths[-1] = max(widths[-1], 2)
    hidden = draw(fs.valid_hidden(len(widths) - 2))
    p = draw(fs.valid_params(widths, hidden=hidden, output=output))
    n = draw(st.integers(1, 12))
    x = draw(fs.real_batch(n, widths[0]))
    y = draw(fs.targets(output, n, widths[-1]))
    opt = draw(optimizers())
    args = (
        ("params", draw(fs.params_arg(p))),
        ("x", maybe(draw, x)),
        ("y", maybe(draw, y)),
    )
    kw: dict[str, Any] = {
        "optimizer": maybe(draw, opt, 0.05),
        "epochs": maybe(
            draw, draw(st.integers(int(fs.MODE.strict), 3)), 0.05, size=True
        ),
        "verbose": False,
    }
    arch = draw(fs.arch_kwargs(p, hidden, output, len(widths) - 2))
    kw.update((k, maybe(draw, v, 0.05)) for k, v in arch.items())
    options: dict[str, st.SearchStrategy[Any]] = {
        "batch_size": st.integers(int(fs.MODE.strict), 9),
        "seed": fs.seeds(),
        "l2": fs.choice([0.0, 1e-2], [1e300]),
        "dropout": fs.choice([0.0, 0.5], [1.0]),
        "clip_norm": fs.choice([None, 1.0, 1e-300], [0.0]),
        "validation": fs.choice([(x, y)], [[x, y], (x,)]),
        "patience": fs.choice([None], [1, 0]),
        "restore_best": st.booleans(),
        "drop_last": st.booleans(),
        "opt_state": st.one_of(st.none(), st.just(opt.init(p)), st.just({"count": 0})),
    }
    for k, s in options.items():
        if draw(st.integers(0, 3)) == 0:
            kw[k] = maybe(draw, draw(s), 0.05)
    return corrupt(draw, Call(args, kw, {}))


def check_train(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert isinstance(r, nf.TrainResult)
    check_params_like(r.params, a["params"], record=arch(a))  # the run's
    assert isinstance(r.opt_state, nf.Frozen)
    assert 1 <= len(r.history) <= a["epochs"]
    assert int(r.opt_state["epoch"]) >= len(r.history)
    assert all(math.isfinite(h.train_loss) for h in r.history)


# ------------------------------------------------------------------ datasets


def n_arg(draw: st.DrawFn) -> Any:
    return maybe(draw, draw(st.integers(0, 40)), 0.05, size=True)


@st.composite
def generator_call(draw: st.DrawFn, name: str) -> Call:
    floats = fs.choice([0.0, 0.05, 0.5, 1.0, 1e3, 1e150], [1e300, 1.7e308, -1.0])
    options: dict[str, st.SearchStrategy[Any]] = {"noise": floats, "seed": fs.seeds()}
    if name == "spirals":
        options["turns"] = floats
    if name == "circles":
        options["factor"] = fs.choice([0.0, 0.5, 0.999], [1.0, -0.5])
    kw = {
        k: maybe(draw, draw(s), 0.05) for k, s in options.items() if draw(st.booleans())
    }
    return corrupt(draw, Call((("n", n_arg(draw)),), kw, {}))


def check_generator(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    x, y = r
    n = a["n"]
    assert x.shape == (n, 2)
    assert x.dtype == np.float64
    assert y.shape == (n,)
    assert y.dtype == np.int64
    assert set(np.unique(y)) <= {0, 1}


@st.composite
def split_call(draw: st.DrawFn) -> Call:
    n = draw(st.integers(0, 12))
    x = draw(fs.laid_out(draw(arrays(np.float64, (n, 2), elements=st.floats(-9, 9)))))
    y = draw(fs.laid_out(np.arange(n) % draw(st.integers(1, 3))))
    if not fs.MODE.strict and draw(st.integers(0, 5)) == 0:
        y = draw(fs.any_array())
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        kw["fractions"] = maybe(
            draw,
            draw(
                fs.choice(
                    [(0.5, 0.5), [0.7, 0.15, 0.15], np.array([0.25, 0.75]), (1.0,)],
                    [(0.6, 0.6), (), (1.5, -0.5), "0.5", (0.5, float("nan"))],
                )
            ),
        )  # fmt: skip
    for k, s in (("seed", fs.seeds()), ("stratify", st.booleans())):
        if draw(st.booleans()):
            kw[k] = maybe(draw, draw(s), 0.05)
    return corrupt(draw, Call((("x", maybe(draw, x)), ("y", maybe(draw, y))), kw, {}))


def check_split(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert sum(len(yp) for _, yp in r) == len(np.asarray(a["y"]))
    assert all(len(xp) == len(yp) for xp, yp in r)


@st.composite
def fit_standardize_call(draw: st.DrawFn) -> Call:
    rows, cols = draw(st.integers(0, 5)), draw(st.integers(1, 3))
    x = draw(fs.real_batch(rows, cols))
    x = maybe(draw, x, 0.3)
    return corrupt(draw, Call((("x_train", x),), {}, {}))


def check_fit_standardize(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    mean, std = r
    x = np.asarray(a["x_train"])
    assert mean.shape == std.shape == x.shape[1:]
    assert (std > 0).all()


@st.composite
def standardize_call(draw: st.DrawFn) -> Call:
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    x = draw(fs.real_batch(rows, cols))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            mean, std = datasets.fit_standardize(x)
        except ValueError:
            mean, std = np.zeros(cols), np.ones(cols)
    m64, s64 = mean.astype(np.float64), std.astype(np.float64)
    mean = draw(fs.choice([mean], [mean, m64 + 1e300, np.zeros(cols + 1)]))
    std = draw(fs.choice([std], [std, s64 * 1e-300, -std, std.astype(object)]))
    args = (
        ("x", maybe(draw, x)),
        ("mean", maybe(draw, mean)),
        ("std", maybe(draw, std)),
    )
    return corrupt(draw, Call(args, {}, {}))


def check_standardize(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert r.shape == np.shape(a["x"])


@st.composite
def one_hot_call(draw: st.DrawFn) -> Call:
    n = draw(st.integers(0, 6))
    dt = draw(fs.choice([np.int64, np.uint8, np.int8], [np.float64, np.bool_]))
    lo = 0 if np.dtype(dt).kind in "ub" or fs.MODE.strict else -1
    hi = 1 if np.dtype(dt).kind == "b" else 6
    y = draw(fs.laid_out(draw(arrays(dt, (n,), elements=st.integers(lo, hi).map(dt)))))
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        kw["dtype"] = maybe(
            draw,
            draw(fs.choice([np.float32, np.int64, "f8"], [np.bool_, "U2", "x"])),
        )
    args = [("labels", maybe(draw, y))]
    if draw(st.booleans()):
        args.append(("k", maybe(draw, draw(st.integers(0, 9)), size=True)))
    return corrupt(draw, Call(tuple(args), kw, {}))


def check_one_hot(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    y = np.asarray(a["labels"])
    assert r.shape[0] == len(y)
    assert (r.sum(axis=1) == 1).all()
    assert (np.argmax(r, axis=1) == y).all()


def idx_bytes(a: np.ndarray[Any, Any]) -> bytes:
    code = {v: k for k, v in datasets.IDX_TYPES.items()}[a.dtype.newbyteorder(">")]
    head = bytes([0, 0, code, a.ndim]) + b"".join(n.to_bytes(4, "big") for n in a.shape)
    return head + a.astype(a.dtype.newbyteorder(">")).tobytes()


@st.composite
def idx_file(draw: st.DrawFn, path: pathlib.Path) -> pathlib.Path:
    import gzip

    dt = draw(
        st.sampled_from(
            sorted({d.newbyteorder("=") for d in datasets.IDX_TYPES.values()}, key=str)
        )
    )
    shape = draw(array_shapes_small())
    data = idx_bytes(draw(arrays(dt, shape)))
    lie = draw(fs.choice(["none"], ["none", "cut", "extra", "junk", "code"]))
    if lie == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif lie == "extra":
        data += b"\0"
    elif lie == "junk":
        data = draw(st.binary(max_size=40))
    elif lie == "code":
        data = data[:2] + bytes([draw(st.integers(0, 255))]) + data[3:]
    if draw(st.booleans()):
        data = gzip.compress(data, mtime=0)
        if draw(st.integers(0, 3)) == 0:
            data = data[: draw(st.integers(0, len(data)))]
    path.write_bytes(data)
    return path


def array_shapes_small() -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple)


@st.composite
def read_idx_call(draw: st.DrawFn) -> Call:
    path = draw(idx_file(fresh_path()))
    return Call((("path", draw(path_arg(path))),), {}, {})


def check_read_idx(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert isinstance(r, np.ndarray)
    assert r.dtype.isnative


@st.composite
def load_mnist_call(draw: st.DrawFn) -> Call:
    folder = pathlib.Path(tempfile.mkdtemp(dir=_DIR))
    n = draw(st.integers(0, 3))
    images = np.arange(n * 784, dtype=np.uint8).reshape(n, 28, 28)
    labs = np.arange(n, dtype=np.uint8) % 10
    for i, name in enumerate(datasets.MNIST_FILES):
        what = draw(fs.choice(["good"], ["good"] * 5 + ["missing", "fuzz", "wrong"]))
        a = images if i % 2 == 0 else labs
        if what == "good":
            (folder / name).write_bytes(idx_bytes(a))
        elif what == "fuzz":
            draw(idx_file(folder / name))
        elif what == "wrong":
            (folder / name).write_bytes(idx_bytes(labs if i % 2 == 0 else images))
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        kw["dtype"] = maybe(
            draw, draw(fs.choice([np.float32, np.float64], [np.int8, "?"]))
        )
    d = draw(fs.choice([folder, str(folder)], [None, folder / "no"]))
    return Call((("directory", d),), kw, {})


def check_load_mnist(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert r.x_train.shape[1:] == (784,)
    assert len(r.x_train) == len(r.y_train)
    assert ((r.x_train >= 0) & (r.x_train <= 1)).all()


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


def _spec(fn: Callable[..., Any], draw: Any, check: Any = None, **kw: Any) -> Spec:
    return Spec(fn, _drawer(draw), check, **kw)


def _drawer(
    strategy: Callable[[], st.SearchStrategy[Call]],
) -> Callable[[st.DrawFn], Call]:
    def draw(d: st.DrawFn) -> Call:
        return d(strategy())

    return draw


FILES = (ValueError, TypeError, OSError)

SPECS: dict[str, Spec] = {
    "init_params": _spec(nf.init_params, init_params_call, check_init_params),
    "forward": _spec(
        nf.forward, lambda: net_call(with_y=False, train_kw=True), check_forward
    ),
    "predict": _spec(
        nf.predict, lambda: net_call(with_y=False, train_kw=False), check_predict
    ),
    "loss": _spec(nf.loss, lambda: net_call(with_y=True, train_kw=True), check_loss),
    "grads": _spec(
        nf.grads, lambda: net_call(with_y=True, train_kw=True), check_grads_result
    ),
    "loss_and_grads": _spec(
        nf.loss_and_grads,
        lambda: net_call(with_y=True, train_kw=True),
        check_loss_and_grads,
    ),
    "sgd_step": _spec(nf.sgd_step, sgd_step_call, check_sgd_step),
    "clip_by_global_norm": _spec(nf.clip_by_global_norm, clip_call, check_clip),
    "global_norm": _spec(nf.global_norm, norm_call, check_global_norm),
    "batches": _spec(nf.batches, batches_call, check_batches, consume=True),
    "derive_seed": _spec(nf.derive_seed, derive_seed_call, check_derive_seed),
    "check_grads": _spec(
        nf.check_grads, check_grads_call, check_check_grads, weight=0.5
    ),
    "freeze": _spec(nf.freeze, freeze_call, check_freeze),
    "to_dict": _spec(nf.to_dict, lambda: mapping_call("params"), check_to_dict),
    "layer_sizes": _spec(
        nf.layer_sizes, lambda: mapping_call("params"), check_layer_sizes
    ),
    "softmax": _spec(nf.softmax, logits_call, check_softmax),
    "log_softmax": _spec(nf.log_softmax, logits_call, check_log_softmax),
    "accuracy": _spec(nf.accuracy, lambda: metric_call(False), check_accuracy),
    "confusion_matrix": _spec(
        nf.confusion_matrix, lambda: metric_call(True), check_confusion
    ),
    "precision_recall": _spec(
        nf.precision_recall, lambda: metric_call(True), check_precision_recall
    ),
    "save": _spec(nf.save, save_call, check_save, allowed=FILES, weight=0.5),
    "load": _spec(
        nf.load, load_call, check_load, allowed=FILES, finite=False, weight=0.5
    ),
    "train": _spec(
        nf.train,
        train_call,
        check_train,
        allowed=(ValueError, TypeError, TrainingError),
        weight=0.5,
    ),
    "datasets.split": _spec(datasets.split, split_call, check_split),
    "datasets.fit_standardize": _spec(
        datasets.fit_standardize, fit_standardize_call, check_fit_standardize
    ),
    "datasets.standardize": _spec(
        datasets.standardize, standardize_call, check_standardize
    ),
    "datasets.one_hot": _spec(datasets.one_hot, one_hot_call, check_one_hot),
    "datasets.read_idx": _spec(
        datasets.read_idx, read_idx_call, check_read_idx, allowed=FILES, finite=False
    ),
    "datasets.load_mnist": _spec(
        datasets.load_mnist,
        load_mnist_call,
        check_load_mnist,
        allowed=FILES,
        finite=False,
        weight=0.5,
    ),
}
for _name in ("momentum", "rmsprop", "adam", "adamw"):
    SPECS[f"{_name}_step"] = step_spec(_name)
for _name in SLOTS:
    SPECS[f"{_name}_init"] = init_spec(_name)
    SPECS[_name] = constructor_spec(_name)
for _name in ("xor", "spirals", "moons", "circles"):
    SPECS[f"datasets.{_name}"] = _spec(
        getattr(datasets, _name), lambda n=_name: generator_call(n), check_generator
    )
for _name in schedules.__all__:
    SPECS[f"schedules.{_name}"] = _spec(
        getattr(schedules, _name), lambda n=_name: schedule_call(n), check_schedule
    )

#: Public names that are not functions to fuzz, and why.
NOT_FUZZED: dict[str, str] = {
    **dict.fromkeys(
        ("ACTIVATIONS", "ACTIVATION_NAMES", "INITIALIZERS", "OUTPUTS"),
        "a registry (dict or tuple) of names, not a function",
    ),
    **dict.fromkeys(
        (
            "ActivationName",
            "Array",
            "Batch",
            "Callback",
            "FloatDType",
            "Grads",
            "Hidden",
            "History",
            "InitName",
            "LearningRate",
            "OptState",
            "OutputName",
            "Params",
            "Schedule",
            "Seed",
            "State",
            "Targets",
        ),
        "a type alias for annotations",
    ),
    **dict.fromkeys(
        ("Checkpoint", "EpochRecord", "GradCheck", "TrainResult", "Optimizer"),
        "a record type (NamedTuple) the library returns",
    ),
    **dict.fromkeys(
        (
            "CallbackError",
            "CheckpointError",
            "TrainingError",
            "TrainingFailed",
            "TrainingInterrupted",
        ),
        "an exception class",
    ),
    "Frozen": "the value type; Frozen(...) is a TypeError (tested below): "
    "values are built by freeze and init_params, fuzzed",
    "__version__": "a string",
    "datasets": "a module; its functions are fuzzed as datasets.*",
    "schedules": "a module; its functions are fuzzed as schedules.*",
    "datasets.IDX_TYPES": "a table of IDX type codes",
    "datasets.MNIST": "a record type (NamedTuple) load_mnist returns",
    "datasets.MNIST_FILES": "a tuple of file names",
}


def public_names() -> list[str]:
    """Every public name: nnfunc's, and those of its two public submodules."""
    return [
        *nf.__all__,
        *(f"datasets.{n}" for n in datasets.__all__),
        *(f"schedules.{n}" for n in schedules.__all__),
    ]


def resolve(name: str) -> Any:
    obj: Any = nf
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


# --------------------------------------------------------------------- tests


def test_every_public_function_is_fuzzed() -> None:
    names = public_names()
    missing = [n for n in names if n not in SPECS and n not in NOT_FUZZED]
    assert not missing, (
        f"public names neither fuzzed nor listed in NOT_FUZZED: {missing}"
    )
    for n in NOT_FUZZED:  # nothing listed there is a plain function
        assert not inspect.isfunction(resolve(n)), f"{n} is a function: fuzz it"
    assert sorted(SPECS) == sorted(n for n in names if n in SPECS)
    for n, spec in SPECS.items():
        assert spec.fn is resolve(n)


def _stats_line(name: str, spec: Spec, seconds: float) -> str:
    s = spec.stats
    return (
        f"{name}\texamples={s.get('examples', 0)}\tok={s.get('ok', 0)}"
        f"\terrors={s.get('errors', 0)}\tseconds={seconds:.1f}"
    )


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fuzz(name: str) -> None:
    spec = SPECS[name]
    spec.stats.clear()
    examples = max(5, round(FUZZ_EXAMPLES * spec.weight))

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        fs.MODE.strict = data.draw(st.booleans(), label="strict")
        call = data.draw(st.composite(lambda d: spec.draw(d))())
        args = tuple(v for _, v in call.args)
        names = tuple(k for k, _ in call.args) + tuple(call.kwargs)
        names += tuple(str(v) for v in (*args, *call.kwargs.values())
                       if isinstance(v, (str, os.PathLike)))  # fmt: skip
        out = call_and_check(
            spec.fn, args, call.kwargs, names, allowed=spec.allowed,
            consume=spec.consume, finite=spec.finite,
        )  # fmt: skip
        spec.stats["examples"] = spec.stats.get("examples", 0) + 1
        if out.error is not None:
            spec.stats["errors"] = spec.stats.get("errors", 0) + 1
            if path := os.environ.get("NNFUNC_FUZZ_ERRORS"):
                with open(path, "a") as f:
                    print(name, type(out.error).__name__, str(out.error)[:150], file=f)
            if isinstance(out.error, TrainingError):
                assert is_finite(dict(out.error.params))
            return
        spec.stats["ok"] = spec.stats.get("ok", 0) + 1
        if spec.check is not None:
            named = dict(call.args)
            if name == "derive_seed":
                named["keys"] = [v for k, v in call.args if k == "keys"]
            spec.check(out.result, {**named, **call.kwargs}, call.extra)

    t0 = time.perf_counter()
    try:
        run()
    finally:  # the files the examples wrote
        shutil.rmtree(_DIR, ignore_errors=True)
        _DIR.mkdir()
    if path := os.environ.get("NNFUNC_FUZZ_STATS"):
        with open(path, "a") as f:
            print(_stats_line(name, spec, time.perf_counter() - t0), file=f)


# ------------------------------------------- masked arrays and np.matrix

#: Arguments that hold arrays, or mappings of arrays (params, grads, states).
ARRAY_ARGS = frozenset(
    {"x", "y", "z", "params", "grads", "state", "arrays", "opt_state",
     "validation", "y_true", "y_pred", "labels", "x_train", "mean", "std"}
)  # fmt: skip


def takes_arrays(fn: Callable[..., Any]) -> bool:
    return bool(ARRAY_ARGS & set(inspect.signature(fn).parameters))


#: Every fuzzed function that takes an array (all of them must refuse these).
SUBCLASS_SPECS = sorted(n for n, spec in SPECS.items() if takes_arrays(spec.fn))


def array_slots(
    arguments: dict[str, Any],
) -> list[tuple[str, str | int | None]]:
    """Where an array sits in a call: ``(argument, None)`` for an array-like
    argument, ``(argument, key)`` for a value of a mapping argument,
    ``("validation", 0 or 1)``."""
    slots: list[tuple[str, str | int | None]] = []
    for name, value in arguments.items():
        if name not in ARRAY_ARGS:
            continue
        if isinstance(value, Mapping):
            slots += [(name, k) for k, v in value.items() if isinstance(v, np.ndarray)]
        elif name == "validation" and isinstance(value, tuple):
            slots += [(name, i) for i in range(len(value))]
        elif isinstance(value, (np.ndarray, list)):
            slots.append((name, None))
    return slots


def swapped(value: Any, key: str | int | None, new: Any) -> Any:
    """``value`` with the array at ``key`` (or itself, for None) replaced."""
    if key is None:
        return new
    if isinstance(key, int):  # validation = (x_val, y_val)
        return tuple(new if i == key else v for i, v in enumerate(value))
    return {k: new if k == key else v for k, v in value.items()}


@pytest.mark.parametrize("name", SUBCLASS_SPECS)
def test_masked_arrays_and_matrices_are_refused(name: str) -> None:
    spec = SPECS[name]
    tried: list[str] = []

    @settings(
        max_examples=max(10, round(FUZZ_EXAMPLES * spec.weight)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        fs.MODE.strict = True  # a valid call, so that only the swap can fail
        call = data.draw(st.composite(lambda d: spec.draw(d))())
        arguments = {**dict(call.args), **call.kwargs}
        slots = array_slots(arguments)
        if not slots:
            return
        args = tuple(v for _, v in call.args)
        names = (*(k for k, _ in call.args), *call.kwargs)
        ok = call_and_check(
            spec.fn, args, call.kwargs, names, allowed=spec.allowed,
            consume=spec.consume, finite=spec.finite,
        )  # fmt: skip
        if ok.error is not None:  # the call itself was refused: nothing to swap
            return
        arg, key = data.draw(st.sampled_from(slots), label="slot")
        old = arguments[arg] if key is None else arguments[arg][key]
        kind, new = data.draw(st.sampled_from(fs.subclassed(old)), label="kind")
        value = swapped(arguments[arg], key, new)
        positional = [k for k, _ in call.args]
        if arg in positional:
            args = tuple(value if k == arg else v for k, v in call.args)
            kwargs = call.kwargs
        else:
            kwargs = {**call.kwargs, arg: value}
        where = f"{kind} as {arg}" + ("" if key is None else f"[{key!r}]")
        out = call_and_check(
            spec.fn, args, kwargs, (arg,), allowed=(TypeError, ValueError),
            consume=spec.consume,
        )  # fmt: skip
        assert out.error is not None, f"{name} accepted a {where}"
        assert isinstance(out.error, TypeError), (
            f"{name} with a {where} raised {type(out.error).__name__}: "
            f"{out.error} (expected a TypeError naming {arg})"
        )
        tried.append(where)

    try:
        run()
    finally:
        fs.MODE.strict = False
        shutil.rmtree(_DIR, ignore_errors=True)
        _DIR.mkdir()
    assert tried, f"no valid call of {name} was drawn: nothing was swapped"


@pytest.mark.parametrize("name", sorted(SLOTS))
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


@given(args=st.lists(fs.hostile(), max_size=2), hidden=fs.hostile())
def test_frozen_cannot_be_built_directly(args: list[Any], hidden: Any) -> None:
    with pytest.raises(TypeError, match=r"nnfunc\.freeze"):
        nf.Frozen(*args, hidden=hidden)
