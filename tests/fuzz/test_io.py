"""Fuzz specs for ``save`` and ``load``: arbitrary arguments, damaged files.

Under the contract of ``tests/fuzz/harness.py``, where an ``OSError`` is
also allowed. ``tests/fuzz/test_files.py`` builds whole hostile archives
and kills saves mid-write.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

import nnfunc as nf
from tests.fuzz import strategies as fs
from tests.fuzz.harness import (
    FILES,
    Call,
    Spec,
    check_params_like,
    corrupt,
    fresh_path,
    fuzz,
    maybe,
    path_arg,
    refuse_subclasses,
    spec,
    subclass_specs,
)
from tests.strategies import OUTPUT


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
def save_call(draw: st.DrawFn) -> Call:
    widths = draw(fs.sizes())
    hidden = draw(fs.valid_hidden(len(widths) - 2))
    output = draw(st.sampled_from(OUTPUT))
    if output == "softmax" and widths[-1] < 2:
        widths[-1] = 2
    p = draw(fs.valid_params(widths, hidden=hidden, output=output))
    path = fresh_path()
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        state = draw(fs.opt_state_for(draw(st.sampled_from(sorted(fs.SLOTS))), p))
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
    # the record saved: the params' own (an argument may only agree with it),
    # else the arguments (None if neither)
    h, o = fs.record_of(a["params"])
    h = a.get("hidden") if h is None else h
    h = h if h is None or isinstance(h, str) else tuple(h)
    o = a.get("output") if o is None else o
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


# ------------------------------------------------------------------ registry

SPECS: dict[str, Spec] = {
    "save": spec(nf.save, save_call, check_save, allowed=FILES, weight=0.5),
    "load": spec(
        nf.load, load_call, check_load, allowed=FILES, finite=False, weight=0.5
    ),
}


# --------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fuzz(name: str) -> None:
    fuzz(name, SPECS[name])


@pytest.mark.parametrize("name", subclass_specs(SPECS))
def test_masked_arrays_and_matrices_are_refused(name: str) -> None:
    refuse_subclasses(name, SPECS[name])
