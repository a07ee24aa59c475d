"""Fuzz specs for data: datasets, batches and seeds, metrics.

The ``datasets.*`` generators, splits, scaling, one-hot labels and IDX/MNIST
readers; ``batches`` and ``derive_seed``; ``accuracy``,
``confusion_matrix`` and ``precision_recall``, driven with arbitrary
arguments under the contract of ``tests/fuzz/harness.py``.
"""

from __future__ import annotations

import pathlib
import tempfile
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nnfunc as nf
from nnfunc import datasets
from tests.fuzz import strategies as fs
from tests.fuzz.harness import (
    FILES,
    SCRATCH,
    Call,
    Spec,
    corrupt,
    fresh_path,
    fuzz,
    maybe,
    path_arg,
    refuse_subclasses,
    spec,
    subclass_specs,
)

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
    folder = pathlib.Path(tempfile.mkdtemp(dir=SCRATCH))
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


# ------------------------------------------------------------------ registry

SPECS: dict[str, Spec] = {
    "batches": spec(nf.batches, batches_call, check_batches, consume=True),
    "derive_seed": spec(nf.derive_seed, derive_seed_call, check_derive_seed),
    "accuracy": spec(nf.accuracy, lambda: metric_call(False), check_accuracy),
    "confusion_matrix": spec(
        nf.confusion_matrix, lambda: metric_call(True), check_confusion
    ),
    "precision_recall": spec(
        nf.precision_recall, lambda: metric_call(True), check_precision_recall
    ),
    "datasets.split": spec(datasets.split, split_call, check_split),
    "datasets.fit_standardize": spec(
        datasets.fit_standardize, fit_standardize_call, check_fit_standardize
    ),
    "datasets.standardize": spec(
        datasets.standardize, standardize_call, check_standardize
    ),
    "datasets.one_hot": spec(datasets.one_hot, one_hot_call, check_one_hot),
    "datasets.read_idx": spec(
        datasets.read_idx, read_idx_call, check_read_idx, allowed=FILES, finite=False
    ),
    "datasets.load_mnist": spec(
        datasets.load_mnist,
        load_mnist_call,
        check_load_mnist,
        allowed=FILES,
        finite=False,
        weight=0.5,
    ),
}
for _name in ("xor", "spirals", "moons", "circles"):
    SPECS[f"datasets.{_name}"] = spec(
        getattr(datasets, _name), lambda n=_name: generator_call(n), check_generator
    )


# --------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fuzz(name: str) -> None:
    fuzz(name, SPECS[name])


@pytest.mark.parametrize("name", subclass_specs(SPECS))
def test_masked_arrays_and_matrices_are_refused(name: str) -> None:
    refuse_subclasses(name, SPECS[name])
