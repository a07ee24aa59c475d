"""Fuzz specs for the network and its values.

``init_params``, ``forward``, ``predict``, ``loss``, ``grads``,
``loss_and_grads``, ``check_grads``, ``freeze``, ``to_dict``,
``layer_sizes``, ``softmax`` and ``log_softmax``, driven with arbitrary
arguments under the contract of ``tests/fuzz/harness.py``; and
``nf.Frozen(...)``, which nothing may build directly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nnfunc as nf
from tests.fuzz import strategies as fs
from tests.fuzz.harness import (
    Call,
    Spec,
    arch,
    check_params_like,
    corrupt,
    fuzz,
    maybe,
    params_dtype,
    refuse_subclasses,
    spec,
    subclass_specs,
)
from tests.strategies import HIDDEN, INITS, OUTPUT

# ------------------------------------------------------ network functions


@st.composite
def net_call(draw: st.DrawFn, *, with_y: bool, train_kw: bool) -> Call:
    """params, x (and y), hidden, output (and l2, dropout, training, seed).

    The params are drawn for an architecture, which they record (or not);
    ``hidden``/``output`` are then given as ``fs.arch_kwargs`` says.
    """
    output = draw(st.sampled_from(OUTPUT))
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


# -------------------------------------------------------------- check_grads


@st.composite
def check_grads_call(draw: st.DrawFn) -> Call:
    widths = draw(fs.sizes(max_layers=3, max_width=3))
    x = np.linspace(-1, 1, 2 * widths[0]).reshape(2, widths[0])
    y = np.full((2, widths[-1]), 0.5)
    hidden = draw(st.sampled_from(HIDDEN))
    p = draw(fs.valid_params(widths, hidden=hidden))  # records it, or nothing

    def loss_fn(q: nf.Params) -> float:
        # q is params, perturbed, with their record: it agrees with hidden
        return nf.loss(q, x, y, hidden=hidden)

    fns: list[Any] = [loss_fn] * 4 + [
        lambda q: float("nan"), lambda q: math.inf, lambda q: "low",
        lambda q: None, lambda q: np.float32(1.0), lambda q: 1e308, 3,
    ]  # fmt: skip
    try:
        g = nf.grads(p, x, y, hidden=hidden)
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
        state = draw(fs.opt_state_for(draw(st.sampled_from(sorted(fs.SLOTS))), p))
        return corrupt(draw, Call((("arrays", maybe(draw, state)),), kw, {}))
    if draw(st.booleans()):
        kw["hidden"] = maybe(draw, draw(fs.hidden_arg(len(widths) - 2)))
    if draw(st.booleans()):
        kw["output"] = maybe(draw, draw(fs.choice(OUTPUT, ["mse"])))
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


def check_num_params(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert type(r) is int
    assert r == sum(int(np.asarray(v).size) for v in a["params"].values())


def check_summary(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    assert isinstance(r, str)
    total = sum(int(np.asarray(v).size) for v in a["params"].values())
    assert "total" in r
    assert str(total) in r


@st.composite
def tree_map_call(draw: st.DrawFn) -> Call:
    """``tree_map(np.negative, params)``: a params mapping, maybe not valid."""
    p = draw(fs.valid_params())
    return corrupt(
        draw, Call((("fn", np.negative), ("value", draw(fs.params_arg(p)))), {}, {})
    )


def check_tree_map(r: Any, a: dict[str, Any], _: dict[str, Any]) -> None:
    src = a["value"]
    assert isinstance(r, nf.Frozen)
    assert sorted(r) == sorted(src)
    for k, v in r.items():
        assert not v.flags.writeable
        assert np.array_equal(v, np.negative(np.asarray(src[k])))


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
        kw["init"] = maybe(draw, draw(fs.choice(INITS, ["glorot"])))
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
        kw["output"] = maybe(draw, draw(fs.choice(OUTPUT, ["mse"])))
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


# ------------------------------------------------------------------ registry

SPECS: dict[str, Spec] = {
    "init_params": spec(nf.init_params, init_params_call, check_init_params),
    "forward": spec(
        nf.forward, lambda: net_call(with_y=False, train_kw=True), check_forward
    ),
    "predict": spec(
        nf.predict, lambda: net_call(with_y=False, train_kw=False), check_predict
    ),
    "loss": spec(nf.loss, lambda: net_call(with_y=True, train_kw=True), check_loss),
    "grads": spec(
        nf.grads, lambda: net_call(with_y=True, train_kw=True), check_grads_result
    ),
    "loss_and_grads": spec(
        nf.loss_and_grads,
        lambda: net_call(with_y=True, train_kw=True),
        check_loss_and_grads,
    ),
    "check_grads": spec(
        nf.check_grads, check_grads_call, check_check_grads, weight=0.5
    ),
    "freeze": spec(nf.freeze, freeze_call, check_freeze),
    "to_dict": spec(nf.to_dict, lambda: mapping_call("params"), check_to_dict),
    "layer_sizes": spec(
        nf.layer_sizes, lambda: mapping_call("params"), check_layer_sizes
    ),
    "num_params": spec(
        nf.num_params, lambda: mapping_call("params"), check_num_params
    ),
    "summary": spec(nf.summary, lambda: mapping_call("params"), check_summary),
    "tree_map": spec(nf.tree_map, tree_map_call, check_tree_map),
    "softmax": spec(nf.softmax, logits_call, check_softmax),
    "log_softmax": spec(nf.log_softmax, logits_call, check_log_softmax),
}


# --------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fuzz(name: str) -> None:
    fuzz(name, SPECS[name])


@pytest.mark.parametrize("name", subclass_specs(SPECS))
def test_masked_arrays_and_matrices_are_refused(name: str) -> None:
    refuse_subclasses(name, SPECS[name])


@given(args=st.lists(fs.hostile(), max_size=2), hidden=fs.hostile())
def test_frozen_cannot_be_built_directly(args: list[Any], hidden: Any) -> None:
    with pytest.raises(TypeError, match=r"nnfunc\.freeze"):
        nf.Frozen(*args, hidden=hidden)
