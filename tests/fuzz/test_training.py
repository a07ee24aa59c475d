"""Fuzz spec for ``train``: any optimizer, options and data, arbitrary arguments.

Under the contract of ``tests/fuzz/harness.py``, with one more way to end:
a ``TrainingError`` (the run diverged) that carries finite params.
``tests/fuzz/test_faults.py`` drives the faults themselves (divergence,
callbacks that raise, interrupts).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc.training import TrainingError
from tests.fuzz import strategies as fs
from tests.fuzz.harness import (
    Call,
    Spec,
    arch,
    check_params_like,
    corrupt,
    fuzz,
    maybe,
    refuse_subclasses,
    spec,
    subclass_specs,
)
from tests.strategies import OUTPUT


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
    output = draw(st.sampled_from(OUTPUT))
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


# ------------------------------------------------------------------ registry

SPECS: dict[str, Spec] = {
    "train": spec(
        nf.train,
        train_call,
        check_train,
        allowed=(ValueError, TypeError, TrainingError),
        weight=0.5,
    ),
}


# --------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fuzz(name: str) -> None:
    fuzz(name, SPECS[name])


@pytest.mark.parametrize("name", subclass_specs(SPECS))
def test_masked_arrays_and_matrices_are_refused(name: str) -> None:
    refuse_subclasses(name, SPECS[name])
