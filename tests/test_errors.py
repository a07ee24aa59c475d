"""Bad input gets a clear ValueError or TypeError, and nothing is changed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nnfunc as nf

P = nf.init_params([3, 4, 2], seed=0)  # records hidden="relu", output="sigmoid"
P_SOFT = nf.init_params([3, 4, 2], output="softmax", seed=0)
X = np.arange(15.0).reshape(5, 3) / 10
Y_BIN = np.array([[0.0, 1.0]] * 5)
Y_LAB = np.array([0, 1, 1, 0, 1])


def _params(**changes: Any) -> dict[str, Any]:
    d: dict[str, Any] = nf.to_dict(P)
    d.update(changes)
    return {k: v for k, v in d.items() if v is not None}


# The calls below are deliberately ill-typed (mypy rejects most of them,
# which is what the Literal names are for); ``anf`` lets them through.
anf: Any = nf

CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    # x
    (
        "x 1-D",
        lambda: anf.forward(P, X[0]),
        ValueError,
        r"x must be 2-D .*reshape\(1, -1\)",
    ),
    (
        "x 3-D",
        lambda: anf.forward(P, X[None]),
        ValueError,
        r"x must be 2-D of shape \(batch, 3\)",
    ),
    (
        "x width",
        lambda: anf.forward(P, X[:, :2]),
        ValueError,
        "x has 2 features but W1 expects 3",
    ),
    (
        "x empty",
        lambda: anf.forward(P, X[:0]),
        ValueError,
        "x must have at least one row",
    ),
    (
        "x nan",
        lambda: anf.forward(P, np.where(X > 1, np.nan, X)),
        ValueError,
        "x has NaN",
    ),
    (
        "x inf",
        lambda: anf.loss(P, np.full((5, 3), np.inf), Y_BIN),
        ValueError,
        "x has NaN or inf",
    ),
    (
        "x complex",
        lambda: anf.forward(P, X + 1j),
        TypeError,
        "x must be an array of real numbers",
    ),
    (
        "x strings",
        lambda: anf.forward(P, [["a", "b", "c"]]),
        TypeError,
        "x must be an array of real",
    ),
    (
        "x ragged",
        lambda: anf.forward(P, [[1.0], [1.0, 2.0]]),
        TypeError,
        "x must be an array",
    ),
    (
        "x masked",
        lambda: anf.forward(P, np.ma.masked_array(X)),
        TypeError,
        r"x is a masked array; nnfunc does not read masks",
    ),
    (
        "x matrix",
        lambda: anf.forward(P, X.view(np.matrix)),
        TypeError,
        r"x is an np.matrix; pass np.asarray\(x\) instead",
    ),
    (
        "x too big for float32",
        lambda: anf.forward(
            anf.init_params([3, 1], dtype=np.float32), np.full((1, 3), 1e300)
        ),
        ValueError,
        "too large for float32",
    ),
    # y
    (
        "y rows",
        lambda: anf.loss(P, X, Y_BIN[:4]),
        ValueError,
        "y has 4 rows but x has 5",
    ),
    (
        "y width",
        lambda: anf.loss(P, X, np.zeros((5, 3))),
        ValueError,
        "y has 3 columns but the network has 2 outputs",
    ),
    (
        "y 1-D for k=2 sigmoid",
        lambda: anf.loss(P, X, np.zeros(5)),
        ValueError,
        r"y has shape \(5,\) but the network has 2 outputs",
    ),
    (
        "y 3-D",
        lambda: anf.loss(P, X, np.zeros((5, 2, 1))),
        ValueError,
        "y must be of shape",
    ),
    (
        "y out of [0,1]",
        lambda: anf.loss(P, X, Y_BIN * 2),
        ValueError,
        r"y must lie in \[0, 1\] for output='sigmoid'",
    ),
    ("y nan", lambda: anf.grads(P, X, Y_BIN * np.nan), ValueError, "y has NaN"),
    (
        "y masked",
        lambda: anf.loss(P, X, np.ma.masked_array(Y_BIN)),
        TypeError,
        "y is a masked array",
    ),
    (
        "label too big",
        lambda: anf.loss(P_SOFT, X, Y_LAB + 1),
        ValueError,
        r"class labels must lie in \[0, 1\] for 2 outputs, got values in \[1, 2\]",
    ),
    (
        "label negative",
        lambda: anf.loss(P_SOFT, X, Y_LAB - 1),
        ValueError,
        r"class labels must lie in \[0, 1\]",
    ),
    (
        "label fractional",
        lambda: anf.loss(P_SOFT, X, Y_LAB + 0.5),
        ValueError,
        "fractional values such as 0.5",
    ),
    (
        "soft rows",
        lambda: anf.loss(P_SOFT, X, np.full((5, 2), 0.7)),
        ValueError,
        "rows must sum to 1",
    ),
    (
        "soft rows negative",
        lambda: anf.loss(P_SOFT, X, np.tile([1.5, -0.5], (5, 1))),
        ValueError,
        "probabilities in",
    ),
    # names
    (
        "hidden name",
        lambda: anf.forward(P, X, hidden="relu6"),
        ValueError,
        r"unknown hidden 'relu6'; valid names are \['sigmoid', 'tanh', 'relu'",
    ),
    ("hidden type", lambda: anf.forward(P, X, hidden=3), TypeError, "hidden must be"),
    (
        "hidden length",
        lambda: anf.forward(P, X, hidden=["relu", "tanh"]),
        ValueError,
        "hidden has 2 names but the network has 1 hidden layers",
    ),
    (
        "output name",
        lambda: anf.forward(P, X, output="softmx"),
        ValueError,
        r"unknown output 'softmx'; valid names are "
        r"\['sigmoid', 'softmax', 'identity'\]",
    ),
    (
        "softmax one unit",
        lambda: anf.forward(anf.to_dict(anf.init_params([3, 1])), X, output="softmax"),
        ValueError,
        "output='softmax' needs at least 2 output units, the network has 1",
    ),
    (
        "softmax one unit at init",
        lambda: anf.init_params([3, 1], output="softmax"),
        ValueError,
        "output='softmax' needs at least 2 output units, the network has 1",
    ),
    # the record: params from init_params know their activations
    (
        "hidden contradicts the record",
        lambda: anf.forward(P, X, hidden="tanh"),
        ValueError,
        r"hidden='tanh' contradicts the params, which record hidden='relu'",
    ),
    (
        "output contradicts the record",
        lambda: anf.loss(P, X, Y_LAB, output="softmax"),
        ValueError,
        r"output='softmax' contradicts the params, which record output='sigmoid'",
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
    # params
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
    # sgd_step
    (
        "lr negative",
        lambda: anf.sgd_step(P, P, lr=-0.1),
        ValueError,
        r"lr must be finite and in \[0.0, inf\], got -0.1",
    ),
    (
        "lr nan",
        lambda: anf.sgd_step(P, P, lr=float("nan")),
        ValueError,
        "lr must be finite",
    ),
    (
        "lr inf",
        lambda: anf.sgd_step(P, P, lr=float("inf")),
        ValueError,
        "lr must be finite",
    ),
    (
        "lr str",
        lambda: anf.sgd_step(P, P, lr="0.1"),
        TypeError,
        "lr must be a real number, got str",
    ),
    (
        "grads keys",
        lambda: anf.sgd_step(P, {"W1": P["W1"]}, lr=0.1),
        ValueError,
        r"grads must have keys \['W1', 'b1', 'W2', 'b2'\] exactly",
    ),
    (
        "grads shape",
        lambda: anf.sgd_step(P, _params(W1=np.ones((4, 3))), lr=0.1),
        ValueError,
        r"grads\['W1'\] has shape \(4, 3\) but params\['W1'\] has \(3, 4\)",
    ),
    (
        "grads nan",
        lambda: anf.sgd_step(P, _params(b2=np.full(2, np.nan)), lr=0.1),
        ValueError,
        r"grads\['b2'\] has NaN",
    ),
    (
        "grads matrix",
        lambda: anf.sgd_step(P, _params(b1=np.zeros(4).view(np.matrix)), lr=0.1),
        TypeError,
        r"grads\['b1'\] is an np.matrix",
    ),
    (
        "grads type",
        lambda: anf.sgd_step(P, 1.0, lr=0.1),
        TypeError,
        "grads must be a mapping",
    ),
    # options
    (
        "dropout rate 1",
        lambda: anf.forward(P, X, dropout=1.0, training=True, seed=0),
        ValueError,
        r"dropout must be finite and in \[0.0, 1.0\)",
    ),
    (
        "dropout needs seed",
        lambda: anf.forward(P, X, dropout=0.5, training=True),
        ValueError,
        "needs an explicit seed",
    ),
    (
        "training not bool",
        lambda: anf.forward(P, X, training=1),
        TypeError,
        "training must be a bool",
    ),
    (
        "l2 negative",
        lambda: anf.loss(P, X, Y_BIN, l2=-1.0),
        ValueError,
        "l2 must be finite",
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


def test_errors_change_nothing_the_caller_passed() -> None:
    params = nf.to_dict(P)
    x, y = X.copy(), Y_LAB.copy()
    saved = copy.deepcopy((params, x, y))
    with pytest.raises(ValueError, match="class labels"):
        nf.grads(params, x, y + 5, output="softmax")
    with pytest.raises(ValueError, match="lr"):
        nf.sgd_step(params, params, lr=-1.0)
    for k in params:
        assert np.array_equal(params[k], saved[0][k])
        assert params[k].flags.writeable
    assert np.array_equal(x, saved[1])
    assert np.array_equal(y, saved[2])


def test_returned_params_cannot_be_changed() -> None:
    p = nf.init_params([2, 3, 1])
    with pytest.raises(TypeError):
        p["W1"] = np.zeros((2, 3))  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        p["W1"][0, 0] = 1.0
