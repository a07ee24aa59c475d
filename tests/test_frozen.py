"""The network as a value: ``nf.Frozen`` pickles, copies, compares and cannot change."""

from __future__ import annotations

import collections.abc
import copy
import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnfunc as nf

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([0.0, 1.0, 1.0, 0.0])

#: Every optimizer's init and one step with its defaults, by name.
STEPS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "sgd": (nf.sgd_init, lambda p, g, s: nf.sgd(0.1).step(p, g, s)),
    "momentum": (nf.momentum_init, lambda p, g, s: nf.momentum_step(p, g, s, lr=0.1)),
    "rmsprop": (nf.rmsprop_init, lambda p, g, s: nf.rmsprop_step(p, g, s, lr=0.1)),
    "adam": (nf.adam_init, lambda p, g, s: nf.adam_step(p, g, s, lr=0.1)),
    "adamw": (nf.adamw_init, lambda p, g, s: nf.adamw_step(p, g, s, lr=0.1)),
}


def same_bits(a: collections.abc.Mapping[str, Any], b: Any) -> bool:
    return (
        type(a) is type(b)
        and list(a) == list(b)
        and all(
            a[k].dtype == b[k].dtype
            and a[k].shape == b[k].shape
            and a[k].tobytes() == b[k].tobytes()
            for k in a
        )
    )


def read_only(value: collections.abc.Mapping[str, Any]) -> bool:
    """Every array is read-only and shares memory with nothing writable."""
    return all(
        not a.flags.writeable and (a.base is None or not a.base.flags.writeable)
        for a in value.values()
    )


def values(dtype: Any = np.float64) -> dict[str, collections.abc.Mapping[str, Any]]:
    """Params, grads and every optimizer's state (fresh and after a step)."""
    p = nf.init_params([2, 3, 1], hidden="tanh", seed=1, dtype=dtype)
    g = nf.grads(p, X, Y)
    out: dict[str, collections.abc.Mapping[str, Any]] = {"params": p, "grads": g}
    for name, (init, step) in STEPS.items():
        s0 = init(p)
        p1, s1 = step(p, g, s0)
        out |= {f"{name} state": s0, f"{name} params": p1, f"{name} state 1": s1}
    result = nf.train(p, X, Y, optimizer=nf.adam(0.01), epochs=2, batch_size=2)
    out |= {"train params": result.params, "train state": result.opt_state}
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "roundtrip",
    [
        lambda v: pickle.loads(pickle.dumps(v)),
        lambda v: pickle.loads(pickle.dumps(v, protocol=0)),
        copy.copy,
        copy.deepcopy,
    ],
    ids=["pickle", "pickle-0", "copy", "deepcopy"],
)
def test_every_value_round_trips_as_the_same_read_only_value(
    roundtrip: Callable[[Any], Any], dtype: Any
) -> None:
    for name, v in values(dtype).items():
        back = roundtrip(v)
        assert same_bits(v, back), name
        assert back == v, name
        assert read_only(back), name
        assert isinstance(v, nf.Frozen), name
        assert (back.hidden, back.output) == (v.hidden, v.output), name


def _step_remotely(params: nf.Frozen[Any]) -> tuple[nf.Frozen[Any], nf.Frozen[Any]]:
    """In a worker process: one Adam step, returned through pickle."""
    g = nf.grads(params, X, Y)
    return nf.adam_step(params, g, nf.adam_init(params), lr=0.1)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_values_cross_process_pools(method: str) -> None:
    p = nf.init_params([2, 3, 1], hidden="tanh", seed=2)
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        remote = pool.submit(_step_remotely, p).result(timeout=120)
    local = _step_remotely(p)
    for there, here in zip(remote, local, strict=True):
        assert same_bits(here, there)
        assert read_only(there)
    assert remote[0].hidden == "tanh"


def test_reads_like_a_mapping_in_layer_order() -> None:
    p = nf.init_params([3, 4, 2], seed=0)
    assert isinstance(p, collections.abc.Mapping)
    assert list(p) == ["W1", "b1", "W2", "b2"]
    assert list(dict(p)) == list(p)
    assert p["W1"].shape == (3, 4)
    assert "W1" in p
    assert "W3" not in p
    assert len(p) == 4
    assert p.get("W3") is None


def test_cannot_be_changed_or_built_by_hand() -> None:
    p = nf.init_params([2, 1], seed=0)
    with pytest.raises(TypeError, match="does not support item assignment"):
        p["W1"] = np.zeros((2, 1))  # type: ignore[index]
    with pytest.raises(AttributeError, match="cannot change"):
        p.hidden = "tanh"  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        p["W1"][0, 0] = 1.0
    base = p["W1"].base  # the one buffer the arrays are views of
    assert base is not None
    with pytest.raises(ValueError, match="read-only"):
        base[0] = 1.0
    with pytest.raises(TypeError, match=r"nnfunc\.freeze"):
        nf.Frozen({"W1": np.ones((2, 1))})


def test_repr_is_one_short_line_per_array() -> None:
    p = nf.init_params([64, 128, 10], output="softmax", seed=0)
    text = repr(p)
    assert len(text) < 300
    lines = text.splitlines()
    assert lines[0] == "Frozen(hidden='relu', output='softmax')"
    assert lines[1:] == [
        "  W1  (64, 128)  float64",
        "  b1  (128,)     float64",
        "  W2  (128, 10)  float64",
        "  b2  (10,)      float64",
    ]


def test_equality_compares_values_and_the_record() -> None:
    p = nf.init_params([2, 3, 1], hidden="tanh", seed=0)
    assert p == nf.init_params([2, 3, 1], hidden="tanh", seed=0)
    assert p != nf.init_params([2, 3, 1], hidden="relu", seed=0)  # record differs
    assert p != nf.init_params([2, 3, 1], hidden="tanh", seed=1)  # values differ
    assert p == nf.to_dict(p)  # a plain dict has no record to compare
    assert p != nf.init_params([2, 3, 1], hidden="tanh", seed=0, dtype=np.float32)
    with pytest.raises(TypeError, match="unhashable"):
        hash(p)


def test_freeze_copies_checks_and_records() -> None:
    W, b = np.ones((2, 3)), np.zeros(3)
    p = nf.freeze({"W1": W, "b1": b}, output="sigmoid")
    assert W.flags.writeable
    assert b.flags.writeable
    assert not np.shares_memory(p["W1"], W)
    assert (p.hidden, p.output) == (None, "sigmoid")
    with pytest.raises(ValueError, match="NaN"):
        nf.freeze({"W1": np.full((2, 3), np.nan), "b1": b})
    with pytest.raises(ValueError, match=r"arrays\['b1'\] has shape"):
        nf.freeze({"W1": W, "b1": np.zeros(2)})
    with pytest.raises(ValueError, match="only params"):
        nf.freeze({"count": np.array(1)}, hidden="relu")
    with pytest.raises(ValueError, match="unknown hidden"):
        nf.freeze(
            {"W1": W, "b1": b, "W2": np.ones((3, 1)), "b2": b[:1]},
            hidden="x",  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("bad", ["masked", "matrix"])
def test_freeze_refuses_masked_arrays_and_matrices(bad: str) -> None:
    ones = np.ones((2, 3))
    W: Any = np.ma.masked_array(ones) if bad == "masked" else ones.view(np.matrix)
    with pytest.raises(TypeError, match=r"arrays\['W1'\]"):
        nf.freeze({"W1": W, "b1": np.zeros(3)})


def test_unpickling_checks_the_value_again() -> None:
    p = nf.init_params([2, 1], seed=0)
    data = pickle.dumps(p)
    # A pickle is rebuilt through freeze's checks: NaN smuggled in is refused.
    first = np.float64(p["W1"][0, 0]).tobytes()
    bad = data.replace(first, np.float64(np.nan).tobytes())
    assert bad != data
    with pytest.raises(ValueError, match="NaN"):
        pickle.loads(bad)


def _tamper(value: nf.Frozen[Any], key: str) -> None:
    a = value[key]
    assert a.base is not None  # a view of the value's one buffer
    a.base.flags.writeable = True
    a.flags.writeable = True
    a.flat[0] = np.nan


def test_a_tampered_value_never_gives_non_finite_results(tmp_path: Any) -> None:
    p = nf.init_params([2, 3, 1], hidden="tanh", seed=0)
    g = nf.grads(p, X, Y)
    _tamper(p, "W1")
    with pytest.raises(ValueError, match="params"):
        nf.sgd_step(p, g, lr=0.1)
    with pytest.raises(ValueError, match="NaN"):
        nf.save(tmp_path / "p.npz", p)
    assert not (tmp_path / "p.npz").exists()
    for fn in (nf.forward, nf.predict):
        with pytest.raises(ValueError, match="overflowed"):
            fn(p, X)
    with pytest.raises(ValueError, match="NaN or inf"):
        nf.grads(p, X, Y)
    with pytest.raises(nf.TrainingError):
        nf.train(p, X, Y, optimizer=nf.sgd(0.1), epochs=1)


def test_a_plain_mapping_has_no_record_and_defaults_relu_sigmoid() -> None:
    p = nf.init_params([2, 3, 1], hidden="relu", seed=0)
    d = nf.to_dict(p)
    np.testing.assert_array_equal(nf.forward(d, X), nf.forward(p, X))
    assert nf.sgd_step(d, nf.grads(d, X, Y), lr=0.1).hidden is None


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    hidden=st.sampled_from(["tanh", "relu", "sigmoid"]),
    output=st.sampled_from(["sigmoid", "identity"]),
    seed=st.integers(0, 2**16),
)
def test_the_record_runs_the_network(
    sizes: list[int], hidden: nf.ActivationName, output: nf.OutputName, seed: int
) -> None:
    p = nf.init_params(sizes, hidden=hidden, output=output, seed=seed)
    x = np.random.default_rng(seed).standard_normal((3, sizes[0]))
    np.testing.assert_array_equal(
        nf.forward(p, x), nf.forward(nf.to_dict(p), x, hidden=hidden, output=output)
    )
    np.testing.assert_array_equal(nf.predict(p, x), nf.predict(p, x, hidden=hidden))
    other: nf.OutputName = "identity" if output == "sigmoid" else "sigmoid"
    with pytest.raises(ValueError, match="contradicts"):
        nf.predict(p, x, output=other)


def test_an_agreeing_argument_keeps_the_record_as_written() -> None:
    p = nf.init_params([2, 3, 3, 1], hidden="tanh", seed=0)
    r = nf.train(p, X, Y, optimizer=nf.sgd(0.1), epochs=1, hidden=["tanh", "tanh"])
    assert r.params.hidden == "tanh"
    q = nf.freeze(nf.to_dict(p))  # no record: the argument becomes the record
    assert (
        nf.train(q, X, Y, optimizer=nf.sgd(0.1), epochs=1, hidden="tanh").params.hidden
        == "tanh"
    )
