"""The workspace path of ``train`` gives the textbook path's bits.

``train`` runs the library's optimizers in a workspace (``nnfunc._workspace``):
``forward_into``, ``backward_into`` and the optimizers' ``*_into`` kernels
writing into buffers allocated once. These tests prove that it computes
exactly what the textbook path computes: ``forward_cache`` and ``backward``
allocating fresh arrays, and each optimizer's public ``step``. Every
comparison is bit for bit (``tobytes``): the same operations run in the
same order on the same values, and BLAS gives the same bits for a product
whether it writes into a new array or into a buffer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc._workspace import _views, backward_into, forward_into
from nnfunc.backprop import backward
from nnfunc.forward import forward_cache, setup
from tests.strategies import Case, cases

#: Every library optimizer, as a constructor of its lr.
OPTIMIZERS: dict[str, Callable[[nf.LearningRate], nf.Optimizer]] = {
    "sgd": nf.sgd,
    "momentum": nf.momentum,
    "nesterov": lambda lr: nf.momentum(lr, nesterov=True),
    "rmsprop": nf.rmsprop,
    "adam": nf.adam,
    "adamw": nf.adamw,
    "adamw-biases": lambda lr: nf.adamw(lr, weight_decay=0.1, decay_biases=True),
}


def same(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _buffers(case: Case, rows: int) -> tuple[tuple[nf.Array, ...], ...]:
    """z and delta buffers with more rows than the batch (as for a last batch)."""
    sizes = (case.x.shape[1], *(case.params[f"b{l}"].shape[0] for l in _layers(case)))
    dt = case.x.dtype
    z = tuple(np.full((rows, n), np.nan, dt) for n in sizes[1:])
    delta = tuple(np.full((rows, n), np.nan, dt) for n in sizes[1:])
    return z, delta


def _layers(case: Case) -> range:
    return range(1, len(case.params) // 2 + 1)


@settings(max_examples=60, deadline=None)
@given(
    case=cases(dtype=np.float64) | cases(dtype=np.float32),
    extra=st.integers(0, 3),
    l2=st.sampled_from([0.0, 0.3]),
    dropout=st.sampled_from([0.0, 0.4]),
    seed=st.integers(0, 2**16),
)
def test_forward_and_backward_into_equal_the_textbook_pass(
    case: Case, extra: int, l2: float, dropout: float, seed: int
) -> None:
    kw: dict[str, Any] = {"dropout": dropout, "training": dropout > 0}
    if dropout:
        kw["seed"] = seed
    s1 = setup(case.params, case.hidden, case.output, **kw)
    s2 = setup(case.params, case.hidden, case.output, **kw)  # its own rng
    Y = nf.forward(case.params, case.x, **case.kw) * 0.0 + 0.5  # targets in (0, 1)
    if case.output == "softmax":
        Y = np.full_like(Y, 1.0 / Y.shape[1])
    ref = forward_cache(s1, case.x)
    z_bufs, d_bufs = _buffers(case, case.x.shape[0] + extra)
    got = forward_into(s2, case.x, z_bufs)
    for field in ("a", "h", "z"):
        for r, g in zip(getattr(ref, field), getattr(got, field), strict=True):
            assert same(r, g), field
    want = backward(s1, ref, Y, l2)
    flat = np.full(sum(a.size for a in want.values()), np.nan, case.x.dtype)
    layout = nf.freeze({k: np.zeros_like(v) for k, v in want.items()})._net
    assert layout is not None
    views = _views(layout, flat)
    backward_into(s2, got, Y, l2, views, d_bufs)
    for (k, r), (_, w) in zip(want.items(), views.items(), strict=True):
        assert same(r, w), k


@settings(max_examples=40, deadline=None)
@given(
    case=cases(max_batch=12, output=("sigmoid", "softmax", "identity")),
    name=st.sampled_from(sorted(OPTIMIZERS)),
    batch=st.integers(1, 5),
    drop_last=st.booleans(),
    l2=st.sampled_from([0.0, 0.01]),
    clip=st.sampled_from([None, 0.05]),
    dropout=st.sampled_from([0.0, 0.3]),
    schedule=st.booleans(),
    f32=st.booleans(),
)
def test_train_in_the_workspace_equals_train_through_step(
    case: Case,
    name: str,
    batch: int,
    drop_last: bool,
    l2: float,
    clip: float | None,
    dropout: float,
    schedule: bool,
    f32: bool,
) -> None:
    lr: nf.LearningRate = 0.05
    if schedule:
        lr = nf.schedules.exponential_decay(0.05, 0.9, 3)
    opt = OPTIMIZERS[name](lr)
    assert opt.kernel is not None  # the library's optimizers use the workspace
    textbook = opt._replace(kernel=None)  # the same optimizer through its step
    dt = np.float32 if f32 else np.float64
    params = nf.freeze({k: v.astype(dt) for k, v in case.params.items()})
    x = case.x.astype(dt)
    if drop_last and batch > x.shape[0]:
        batch = x.shape[0]
    kw: dict[str, Any] = dict(
        epochs=3, batch_size=batch, drop_last=drop_last, l2=l2, clip_norm=clip,
        dropout=dropout, seed=7, validation=(x, case.y), verbose=False, **case.kw,
    )  # fmt: skip
    a, b = (_outcome(params, x, case.y, o, kw) for o in (opt, textbook))
    _assert_same(a, b)
    if isinstance(a, nf.TrainResult) and isinstance(b, nf.TrainResult):
        # resuming from the workspace's state continues the textbook run
        c = _outcome(a.params, x, case.y, opt, kw | {"opt_state": a.opt_state})
        d = _outcome(b.params, x, case.y, textbook, kw | {"opt_state": b.opt_state})
        _assert_same(c, d)


def _outcome(
    params: nf.Params, x: Any, y: Any, opt: nf.Optimizer, kw: dict[str, Any]
) -> nf.TrainResult | nf.TrainingError:
    """What train gives: its result, or the divergence error it raised."""
    try:
        return nf.train(params, x, y, optimizer=opt, **kw)
    except nf.TrainingError as e:  # a diverging case: both paths must agree
        return e


def _assert_same(
    a: nf.TrainResult | nf.TrainingError, b: nf.TrainResult | nf.TrainingError
) -> None:
    assert type(a) is type(b)
    if isinstance(a, nf.TrainingError) and isinstance(b, nf.TrainingError):
        assert (a.epoch, a.step) == (b.epoch, b.step)
    pa, pb = a.result if isinstance(a, nf.TrainingError) else a, (
        b.result if isinstance(b, nf.TrainingError) else b
    )
    assert all(same(pa.params[k], pb.params[k]) for k in pa.params)
    assert pa.params == pb.params  # the record too
    assert list(pa.opt_state) == list(pb.opt_state)
    assert all(same(pa.opt_state[k], pb.opt_state[k]) for k in pa.opt_state)
    for ra, rb in zip(pa.history, pb.history, strict=True):
        assert ra._replace(seconds=0.0) == rb._replace(seconds=0.0)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_diverging_run_stops_at_the_same_step_with_the_same_state(name: str) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 3)) * 50.0, rng.standard_normal(64) * 50.0
    params = nf.init_params([3, 8, 1], output="identity", seed=0)
    errors = []
    lr = 1e150  # overflows within a few steps, whatever the optimizer
    for opt in (OPTIMIZERS[name](lr), OPTIMIZERS[name](lr)._replace(kernel=None)):
        with pytest.raises(nf.TrainingError) as info:
            nf.train(params, x, y, optimizer=opt, epochs=200, batch_size=8)
        errors.append(info.value)
    a, b = errors
    assert (a.epoch, a.step) == (b.epoch, b.step)
    assert a.params == b.params
    assert all(same(a.opt_state[k], b.opt_state[k]) for k in a.opt_state)
    assert len(a.history) == len(b.history)


def test_the_workspace_leaves_no_writable_array_in_the_result() -> None:
    x = np.random.default_rng(1).standard_normal((10, 2))
    y = (x[:, 0] > 0).astype(float)
    r = nf.train(nf.init_params([2, 4, 1]), x, y, optimizer=nf.adam(0.1), epochs=2)
    for value in (r.params, r.opt_state):
        for arr in value.values():
            assert not arr.flags.writeable
            assert arr.base is None or not arr.base.flags.writeable
