"""forward and predict: bad input gets a clear error; dropout is inverted.

Bad input (``x``, the activation names, the options) gets a ``ValueError``
or ``TypeError`` that names the argument; an argument that contradicts the
params' record of their activations is refused. Dropout keeps the mean
activation, and is off at rate 0 and in evaluation mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nnfunc as nf
from nnfunc._checks import check_params, check_x
from tests.strategies import NetKw, make_case

P = nf.init_params([3, 4, 2], seed=0)  # records hidden="relu", output="sigmoid"
X = np.arange(15.0).reshape(5, 3) / 10
Y_BIN = np.array([[0.0, 1.0]] * 5)
Y_LAB = np.array([0, 1, 1, 0, 1])

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
]


@pytest.mark.parametrize(
    ("what", "call", "exc", "match"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_gets_a_clear_error(
    what: str, call: Callable[[], object], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------ dropout


def test_dropout_rate_zero_equals_no_dropout_and_eval_mode_ignores_it() -> None:
    case = make_case([4, 6, 5, 3], 7, seed=2, hidden="relu", output="softmax")
    plain = nf.loss_and_grads(case.params, case.x, case.y, **case.kw)
    rate_zero = nf.loss_and_grads(
        case.params, case.x, case.y, **case.kw, dropout=0.0, training=True, seed=1
    )
    evaluation = nf.loss_and_grads(
        case.params, case.x, case.y, **case.kw, dropout=0.7, training=False
    )
    for other in (rate_zero, evaluation):
        assert other[0] == plain[0]
        assert all(np.array_equal(other[1][k], plain[1][k]) for k in plain[1])


def test_dropout_preserves_the_mean_activation() -> None:
    # One hidden identity layer fed by a constant: with inverted dropout the
    # expected output equals the output without dropout.
    params = nf.freeze(
        {
            "W1": np.ones((1, 200)),
            "b1": np.zeros(200),
            "W2": np.full((200, 1), 1 / 200),
            "b2": np.zeros(1),
        }
    )
    x = np.ones((2000, 1))
    kw = NetKw(hidden="identity", output="identity")
    a = nf.forward(params, x, dropout=0.3, training=True, seed=0, **kw)
    # Each output is the mean of 200 units, each 0 or 1/0.7 with mean 1:
    # the standard error of the grand mean is about 0.65 / sqrt(400000).
    assert abs(float(a.mean()) - 1.0) < 0.01
    assert float(a.std()) > 0.01  # the masks really vary
    b = nf.forward(params, x, dropout=0.3, training=True, seed=0, **kw)
    assert np.array_equal(a, b)


def unaligned(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A copy of ``a`` that starts one byte into its buffer (not aligned)."""
    raw = np.zeros(a.nbytes + 1, np.uint8)[1:]
    out: np.ndarray[Any, Any] = raw.view(a.dtype).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def test_an_unaligned_x_gives_the_same_bits_and_is_not_written() -> None:
    # A buffer received from another process (a Dask block, say) may start
    # at an odd address; check_x works on an aligned copy of it.
    p = nf.init_params([3, 5, 2], output="softmax", seed=0)
    x = np.random.default_rng(1).standard_normal((7, 3))
    y = np.arange(7) % 2
    xu = unaligned(x)
    before = xu.tobytes()
    assert check_x(xu, check_params(p)).flags.aligned  # what the kernels get
    assert nf.forward(p, xu).tobytes() == nf.forward(p, x).tobytes()
    assert nf.grads(p, xu, y) == nf.grads(p, x, y)
    r, ru = (nf.train(p, a, y, optimizer=nf.sgd(0.1), epochs=2) for a in (x, xu))
    assert ru.params == r.params
    assert xu.tobytes() == before
    assert not xu.flags.aligned
