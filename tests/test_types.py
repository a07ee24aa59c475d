"""The public types, pinned: ``mypy --strict`` checks every ``assert_type`` here.

A change to a public signature that changes what a caller's type checker
sees fails this file under mypy. At run time ``assert_type`` returns its
argument unchanged, so each test also runs its calls once and checks the
values agree with the types.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeAlias, assert_type

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis.strategies import SearchStrategy

import nnfunc as nf
from nnfunc.testing import (
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
from nnfunc.tree import num_params, summary, tree_map

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
Value: TypeAlias = nf.Frozen[nf.Array]
Step: TypeAlias = tuple[Value, nf.State]

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([0.0, 1.0, 1.0, 0.0])


def test_the_core_functions() -> None:
    p = assert_type(nf.init_params([2, 3, 1], hidden="tanh"), Value)
    assert_type(p["W1"], nf.Array)
    assert_type(p.hidden, nf.Hidden | None)
    assert_type(p.output, nf.OutputName | None)
    assert_type(nf.forward(p, X), nf.Array)
    assert_type(nf.predict(p, X), nf.Array)
    assert_type(nf.loss(p, X, Y), float)
    g = assert_type(nf.grads(p, X, Y), Value)
    assert_type(nf.loss_and_grads(p, X, Y), tuple[float, Value])
    assert_type(nf.sgd_step(p, g, lr=0.1), Value)
    assert_type(nf.freeze({"W1": X, "b1": Y[:2]}), Value)
    assert_type(nf.to_dict(p), dict[str, nf.Array])
    assert_type(nf.layer_sizes(p), tuple[int, ...])
    assert_type(nf.global_norm(g), float)
    assert_type(nf.clip_by_global_norm(g, 1.0), Value)
    check = assert_type(nf.check_grads(lambda q: nf.loss(q, X, Y), p, g), nf.GradCheck)
    assert_type(check.ok, bool)
    assert check.ok
    assert isinstance(p, nf.Frozen)
    assert isinstance(g, nf.Frozen)


def test_optimizer_steps_return_params_and_a_state() -> None:
    p = nf.init_params([2, 3, 1], hidden="tanh")
    g = nf.grads(p, X, Y)
    s = assert_type(nf.momentum_init(p), nf.State)
    assert_type(nf.momentum_step(p, g, s, lr=0.1), Step)
    s = assert_type(nf.rmsprop_init(p), nf.State)
    assert_type(nf.rmsprop_step(p, g, s, lr=0.1), Step)
    s = assert_type(nf.adam_init(p), nf.State)
    assert_type(nf.adam_step(p, g, s, lr=0.1), Step)
    s = assert_type(nf.adamw_init(p), nf.State)
    new, state = assert_type(nf.adamw_step(p, g, s, lr=0.1), Step)
    assert isinstance(new, nf.Frozen)
    assert int(state["count"]) == 1
    assert_type(nf.sgd_init(p), nf.State)
    opt = assert_type(nf.adam(1e-3), nf.Optimizer)
    assert_type(opt.lr, nf.LearningRate)
    assert opt.lr == 1e-3


def test_train_result_fields() -> None:
    p = nf.init_params([2, 3, 1], hidden="tanh")
    r = assert_type(
        nf.train(p, X, Y, optimizer=nf.sgd(0.5), epochs=2, verbose=False),
        nf.TrainResult,
    )
    assert_type(r.params, Value)
    assert_type(r.opt_state, nf.OptState)
    assert_type(r.history, nf.History)
    record = assert_type(r.history[-1], nf.EpochRecord)
    assert_type(record.epoch, int)
    assert_type(record.train_loss, float)
    assert_type(record.val_loss, float | None)
    assert_type(record.val_accuracy, float | None)
    assert_type(record.lr, float)
    assert_type(record.seconds, float)
    params_, state, history = r
    assert_type(params_, Value)
    assert (record.epoch, int(state["epoch"]), len(history)) == (2, 2, 2)


def test_load_returns_a_checkpoint(tmp_path: Path) -> None:
    p = nf.init_params([2, 3, 1], hidden="tanh")
    nf.save(tmp_path / "net.npz", p)
    ck = assert_type(nf.load(tmp_path / "net.npz"), nf.Checkpoint)
    assert_type(ck.params, nf.Frozen[nf.Array])  # a value that records hidden, output
    assert_type(ck.opt_state, nf.OptState | None)
    assert_type(ck.hidden, nf.Hidden | None)
    assert_type(ck.output, nf.OutputName | None)
    assert_type(ck.meta, Any)
    assert_type(ck.sizes, tuple[int, ...])
    assert_type(ck.dtype, np.dtype[Any])
    assert ck.params == p
    assert (ck.hidden, ck.sizes) == ("tanh", (2, 3, 1))


def test_data_helpers_keep_the_element_type() -> None:
    x, y = assert_type(nf.datasets.xor(), tuple[F64, I64])
    parts = nf.datasets.split(x, y, (0.5, 0.5))
    assert_type(parts, tuple[tuple[F64, I64], ...])
    assert [(a.dtype, b.dtype) for a, b in parts] == [(x.dtype, y.dtype)] * 2
    pairs = nf.batches(x, y, batch_size=2, seed=0)
    assert_type(pairs, Iterator[tuple[F64, I64]])
    for xb, yb in pairs:
        assert (xb.dtype, yb.dtype) == (x.dtype, y.dtype)
    x32 = x.astype(np.float32)
    assert_type(nf.datasets.split(x32, y), tuple[tuple[F32, I64], ...])
    assert_type(nf.datasets.one_hot(y), F64)
    assert nf.datasets.one_hot(y).dtype == np.float64
    y32 = assert_type(nf.datasets.one_hot(y, 2, dtype=np.float32), F32)
    assert y32.dtype == np.float32
    assert_type(nf.datasets.one_hot(y, dtype=np.dtype(np.int8)), npt.NDArray[np.int8])
    # array-likes that are not arrays, and dtype names, give arrays of Any
    lists = nf.datasets.split([[0.0], [1.0]], [0, 1], (0.5, 0.5))
    assert_type(lists, tuple[tuple[npt.NDArray[Any], npt.NDArray[Any]], ...])
    assert_type(nf.datasets.one_hot([0, 1], dtype="float32"), npt.NDArray[Any])


def test_metrics() -> None:
    assert_type(nf.accuracy([0, 1], [0, 1]), float)
    assert_type(nf.confusion_matrix([0, 1], [0, 1]), I64)
    assert_type(nf.precision_recall([0, 1], [0, 1]), tuple[F64, F64])


def activation_from_config(config: dict[str, str]) -> nf.ActivationName:
    """The idiom for a name read from a file: ``in`` narrows ``str`` to the Literal."""
    h = config["hidden"]
    assert_type(h, str)
    if h in nf.ACTIVATION_NAMES:
        return assert_type(h, nf.ActivationName)
    raise ValueError(f"unknown hidden {h!r}; valid names are {nf.ACTIVATION_NAMES}")


def test_config_driven_names_narrow_with_in() -> None:
    h = activation_from_config({"hidden": "tanh"})
    p = nf.init_params([2, 3, 1], hidden=h)
    assert p.hidden == "tanh"
    with pytest.raises(ValueError, match="unknown hidden 'swish'"):
        activation_from_config({"hidden": "swish"})


def test_testing_and_tree() -> None:
    assert_type(architectures(), SearchStrategy[Architecture])
    assert_type(params(), SearchStrategy[Value])
    assert_type(activations(), SearchStrategy[nf.ActivationName])
    assert_type(outputs(), SearchStrategy[nf.OutputName])
    p = network(Architecture((2, 3, 1), "tanh", "sigmoid"), np.float64, 0)
    assert_type(p, Value)
    assert_type(inputs(p), SearchStrategy[nf.Array])
    assert_type(targets(p), SearchStrategy[npt.NDArray[Any]])
    g = nf.grads(p, X, Y)
    assert_type(assert_pure(nf.sgd_step, p, g, lr=0.1), Value)
    assert_type(assert_pure(nf.loss_and_grads, p, X, Y), tuple[float, Value])
    assert_grads_close(lambda q: nf.loss(q, X, Y), p, g)
    assert_type(tree_map(np.subtract, p, g), Value)
    assert_type(num_params(p), int)
    assert_type(summary(p), str)
    assert num_params(p) == 13
