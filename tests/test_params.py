"""init_params, the initializers' variances, freeze and to_dict; bad params.

Bad arguments of ``init_params``, and params that are not a network (wrong
keys, shapes that do not chain, wrong dtypes, NaN), get a ``ValueError`` or
``TypeError`` that names them; the params returned cannot be changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nnfunc as nf

TARGET_VARIANCE: dict[str, Callable[[int, int], float]] = {
    "xavier": lambda i, o: 2 / (i + o),
    "xavier_uniform": lambda i, o: 2 / (i + o),
    "xavier_normal": lambda i, o: 2 / (i + o),
    "he": lambda i, o: 2 / i,
    "he_uniform": lambda i, o: 2 / i,
    "he_normal": lambda i, o: 2 / i,
    "lecun_uniform": lambda i, o: 1 / i,
    "lecun_normal": lambda i, o: 1 / i,
    "small_normal": lambda i, o: 1e-4,
}


def test_every_initializer_has_a_stated_variance() -> None:
    assert set(TARGET_VARIANCE) == set(nf.INITIALIZERS)


@pytest.mark.parametrize("init", sorted(TARGET_VARIANCE))
def test_initializer_hits_its_target_variance(init: nf.InitName) -> None:
    n_in, n_out = 300, 200
    p = nf.init_params([n_in, n_out, 100], seed=1, init=init)
    for W, (i, o) in ((p["W1"], (n_in, n_out)), (p["W2"], (n_out, 100))):
        # 60,000 and 20,000 draws: the sample variance is within ~2% of the truth.
        assert W.var() == pytest.approx(TARGET_VARIANCE[init](i, o), rel=0.05)
        assert abs(W.mean()) < 0.05 * np.sqrt(TARGET_VARIANCE[init](i, o))
    assert not p["b1"].any()
    assert not p["b2"].any()
    if "uniform" in init or init == "xavier":
        limit = np.sqrt(3 * TARGET_VARIANCE[init](n_in, n_out))
        assert np.abs(p["W1"]).max() <= limit


def test_shapes_keys_and_read_only() -> None:
    p = nf.init_params([5, 4, 3, 2], seed=7)
    assert list(p) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [p[f"W{l}"].shape for l in (1, 2, 3)] == [(5, 4), (4, 3), (3, 2)]
    assert nf.layer_sizes(p) == (5, 4, 3, 2)
    assert all(not v.flags.writeable for v in p.values())
    assert all(v.dtype == np.float64 for v in p.values())
    assert (p.hidden, p.output) == ("relu", "sigmoid")  # the recorded defaults


def test_freeze_copies_and_leaves_the_callers_arrays_alone() -> None:
    W = np.ones((2, 2))
    frozen = nf.freeze({"W1": W, "b1": np.zeros(2)})
    assert W.flags.writeable
    assert not np.shares_memory(frozen["W1"], W)
    W[0, 0] = 5.0
    assert frozen["W1"][0, 0] == 1.0


def test_to_dict_gives_writable_copies() -> None:
    p = nf.init_params([2, 2], seed=0)
    d = nf.to_dict(p)
    d["W1"][0, 0] += 1.0
    assert d["W1"][0, 0] != p["W1"][0, 0]
    with pytest.raises(TypeError, match="params must be a mapping"):
        nf.to_dict([1, 2])  # type: ignore[arg-type]


def test_small_normal_trains_worse_than_xavier_on_a_deep_tanh_net() -> None:
    # The reason small_normal is here: with std 0.01 the signal shrinks by
    # ~0.01 * sqrt(n) per layer, so a deep net's gradients all but vanish.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 16))
    y = (x[:, 0] * x[:, 1] > 0).astype(float)
    norms = {}
    for init in ("small_normal", "xavier"):
        p = nf.init_params([16] + [32] * 6 + [1], hidden="tanh", seed=0, init=init)
        g = nf.grads(p, x, y)  # tanh, as recorded
        norms[init] = float(np.linalg.norm(g["W1"]))
    assert norms["small_normal"] < 1e-6 * norms["xavier"]


def test_returned_params_cannot_be_changed() -> None:
    p = nf.init_params([2, 3, 1])
    with pytest.raises(TypeError):
        p["W1"] = np.zeros((2, 3))  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        p["W1"][0, 0] = 1.0


# ---------------------------------------------------------------- bad input

P = nf.init_params([3, 4, 2], seed=0)  # records hidden="relu", output="sigmoid"
X = np.arange(15.0).reshape(5, 3) / 10


def _params(**changes: Any) -> dict[str, Any]:
    d: dict[str, Any] = nf.to_dict(P)
    d.update(changes)
    return {k: v for k, v in d.items() if v is not None}


# The calls below are deliberately ill-typed; ``anf`` lets them through.
anf: Any = nf

CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    # names
    (
        "softmax one unit at init",
        lambda: anf.init_params([3, 1], output="softmax"),
        ValueError,
        "output='softmax' needs at least 2 output units, the network has 1",
    ),
    (
        "init name",
        lambda: anf.init_params([2, 1], init="glorot"),
        ValueError,
        r"unknown init 'glorot'; valid names are \['xavier'",
    ),
    # sizes, seed, dtype
    ("sizes short", lambda: anf.init_params([3]), ValueError, "at least two widths"),
    (
        "sizes zero",
        lambda: anf.init_params([3, 0]),
        ValueError,
        r"sizes\[1\] must be a positive int, got 0",
    ),
    (
        "sizes float",
        lambda: anf.init_params([3, 2.0]),
        TypeError,
        r"sizes\[1\] must be an int, got float",
    ),
    (
        "sizes bool",
        lambda: anf.init_params([3, True]),
        TypeError,
        r"sizes\[1\] must be an int",
    ),
    ("sizes str", lambda: anf.init_params("34"), TypeError, "sizes must be a sequence"),
    (
        "seed negative",
        lambda: anf.init_params([2, 1], seed=-1),
        ValueError,
        "seed must be >= 0",
    ),
    (
        "seed float",
        lambda: anf.init_params([2, 1], seed=1.5),
        TypeError,
        "seed must be a non-negative int",
    ),
    (
        "dtype",
        lambda: anf.init_params([2, 1], dtype=np.int32),
        TypeError,
        "dtype must be np.float32 or np.float64",
    ),
    # params that are not a network
    (
        "params type",
        lambda: anf.forward([P["W1"]], X),
        TypeError,
        "params must be a mapping",
    ),
    (
        "params missing",
        lambda: anf.forward(_params(b2=None), X),
        ValueError,
        r"params must have keys \['W1', 'b1', 'W2', 'b2'\] exactly",
    ),
    (
        "params extra",
        lambda: anf.forward(_params(W3=np.ones((2, 2))), X),
        ValueError,
        "params must have keys",
    ),
    (
        "params chain",
        lambda: anf.forward(_params(W2=np.ones((5, 2))), X),
        ValueError,
        r"params\['W2'\] has shape \(5, 2\) but W1 outputs 4 units",
    ),
    (
        "params bias",
        lambda: anf.forward(_params(b1=np.ones(3)), X),
        ValueError,
        r"params\['b1'\] has shape \(3,\) but W1 has 4 columns",
    ),
    (
        "params rank",
        lambda: anf.forward(_params(b1=np.ones((1, 4))), X),
        ValueError,
        r"params\['b1'\] must be 1-D",
    ),
    (
        "params dtype",
        lambda: anf.forward(_params(W1=np.ones((3, 4), dtype=int)), X),
        TypeError,
        r"params\['W1'\] must be float32 or float64, got int64",
    ),
    (
        "params mixed",
        lambda: anf.forward(_params(W2=np.ones((4, 2), np.float32)), X),
        TypeError,
        "must all share one dtype",
    ),
    (
        "params list",
        lambda: anf.forward(_params(W1=[[1.0] * 4] * 3), X),
        TypeError,
        r"params\['W1'\] must be a NumPy array, got list",
    ),
    (
        "params masked",
        lambda: anf.forward(_params(W1=np.ma.masked_array(P["W1"])), X),
        TypeError,
        r"params\['W1'\] is a masked array",
    ),
    (
        "params nan",
        lambda: anf.forward(_params(W2=np.full((4, 2), np.nan)), X),
        ValueError,
        r"params\['W2'\] has NaN",
    ),
]


@pytest.mark.parametrize(
    ("what", "call", "exc", "match"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_gets_a_clear_error(
    what: str, call: Callable[[], object], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        call()
