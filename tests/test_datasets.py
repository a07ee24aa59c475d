"""Tests for nnfunc.datasets: generators, IDX files, MNIST, splits, scaling."""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnfunc.datasets import (
    IDX_TYPES,
    MNIST_FILES,
    circles,
    fit_standardize,
    load_mnist,
    moons,
    one_hot,
    read_idx,
    spirals,
    split,
    standardize,
    xor,
)

Gen = Callable[..., tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]]
GENERATORS: list[Gen] = [xor, spirals, moons, circles]
CODE_OF = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}

# ---------------------------------------------------------------- generators


@pytest.mark.parametrize("gen", GENERATORS)
@given(n=st.integers(1, 300), seed=st.integers(0, 2**32))
def test_generator_shapes_dtypes_and_balance(gen: Gen, n: int, seed: int) -> None:
    x, y = gen(n, noise=0.1, seed=seed)
    assert x.shape == (n, 2)
    assert x.dtype == np.float64
    assert y.shape == (n,)
    assert y.dtype == np.int64
    assert set(y.tolist()) <= {0, 1}
    zeros, ones = int((y == 0).sum()), int((y == 1).sum())
    assert abs(zeros - ones) <= 1
    assert np.isfinite(x).all()


@pytest.mark.parametrize("gen", GENERATORS)
def test_generators_are_deterministic_and_seed_dependent(gen: Gen) -> None:
    a = gen(50, noise=0.1, seed=3)
    b = gen(50, noise=0.1, seed=3)
    c = gen(50, noise=0.1, seed=4)
    d = gen(50, noise=0.1, seed=np.random.SeedSequence(3))
    e = gen(50, noise=0.1, seed=np.random.SeedSequence(3))
    assert a[0].tobytes() == b[0].tobytes()
    assert a[1].tobytes() == b[1].tobytes()
    assert d[0].tobytes() == e[0].tobytes()
    assert a[0].tobytes() != c[0].tobytes()


@pytest.mark.parametrize("gen", GENERATORS)
def test_generators_return_new_arrays(gen: Gen) -> None:
    x, y = gen(8, seed=0)
    x2, y2 = gen(8, seed=0)
    assert not np.shares_memory(x, x2)
    assert not np.shares_memory(y, y2)
    x[...] = 99.0
    y[...] = 7
    x3, _ = gen(8, seed=0)
    assert np.array_equal(x2, x3)


@pytest.mark.parametrize("gen", GENERATORS)
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n": 0}, ValueError),
        ({"n": 2.5}, TypeError),
        ({"n": True}, TypeError),
        ({"n": 4, "noise": -0.1}, ValueError),
        ({"n": 4, "noise": math.nan}, ValueError),
        ({"n": 4, "seed": -1}, ValueError),
        ({"n": 4, "seed": "0"}, TypeError),
    ],
)
def test_generators_reject_bad_arguments(
    gen: Gen, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    name = next(k for k in kwargs if k != "n") if len(kwargs) > 1 else "n"
    with pytest.raises(error, match=name):
        gen(**kwargs)


def test_xor_default_is_the_truth_table() -> None:
    x, y = xor()
    assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    assert np.array_equal(y, np.logical_xor(x[:, 0], x[:, 1]))


def test_noisy_xor_stays_near_its_corner() -> None:
    x, y = xor(400, noise=0.05, seed=1)
    corners = np.rint(x)
    assert np.abs(x - corners).max() < 0.05 * 6
    assert np.array_equal(y, np.logical_xor(corners[:, 0], corners[:, 1]))


def test_circles_without_noise_lie_on_their_radius() -> None:
    x, y = circles(101, noise=0.0, factor=0.3, seed=2)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r, np.where(y == 0, 1.0, 0.3), rtol=1e-12)
    with pytest.raises(ValueError, match="factor"):
        circles(10, factor=1.0)


def test_moons_without_noise_lie_on_their_half_circles() -> None:
    x, y = moons(101, noise=0.0, seed=2)
    centre = np.where(y[:, None] == 0, [0.0, 0.0], [1.0, 0.5])
    r = np.hypot(*(x - centre).T)
    np.testing.assert_allclose(r, 1.0, rtol=1e-12)
    assert (x[y == 0, 1] >= -1e-12).all()  # upper half
    assert (x[y == 1, 1] <= 0.5 + 1e-12).all()  # lower half


def test_spirals_without_noise_follow_their_arm() -> None:
    turns = 1.5
    x, y = spirals(200, noise=0.0, turns=turns, seed=5)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.max() <= 1.0
    theta = np.arctan2(x[:, 1], x[:, 0])
    expected = 2 * np.pi * turns * r + np.pi * y
    gap = np.angle(np.exp(1j * (theta - expected)))  # wrapped to (-pi, pi]
    assert np.abs(gap).max() < 1e-9


# ---------------------------------------------------------------- IDX files


def encode_idx(a: npt.NDArray[Any]) -> bytes:
    """The IDX bytes of ``a``: header, big-endian sizes, big-endian data."""
    code = CODE_OF[a.dtype.newbyteorder("=")]
    header = bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    return header + a.astype(IDX_TYPES[code]).tobytes()


IDX_ARRAYS = st.sampled_from(
    [dt.newbyteorder("=") for dt in IDX_TYPES.values()]
).flatmap(
    lambda dt: hnp.arrays(
        dt, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4)
    )
)


@given(a=IDX_ARRAYS, gz=st.booleans())
def test_idx_round_trip(
    tmp_path_factory: pytest.TempPathFactory, a: npt.NDArray[Any], gz: bool
) -> None:
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx")
    raw = encode_idx(a)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    b = read_idx(path)
    assert b.dtype == a.dtype
    assert b.dtype.isnative
    assert b.shape == a.shape
    assert b.tobytes() == a.tobytes()  # bit for bit, NaNs included
    assert b.flags.writeable


def test_idx_reads_known_big_endian_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(
        bytes([0, 0, 0x0D, 2, 0, 0, 0, 1, 0, 0, 0, 2]) + b"\x3f\x80\0\0\xc0\0\0\0"
    )
    assert read_idx(str(path)).tolist() == [[1.0, -2.0]]
    assert read_idx(path).dtype == np.float32


def test_gzip_is_detected_by_magic_bytes_not_by_name(tmp_path: Path) -> None:
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    (tmp_path / "plain.gz").write_bytes(encode_idx(a))
    (tmp_path / "zipped.idx").write_bytes(gzip.compress(encode_idx(a)))
    assert np.array_equal(read_idx(tmp_path / "plain.gz"), a)
    assert np.array_equal(read_idx(tmp_path / "zipped.idx"), a)


SAMPLE = encode_idx(np.arange(24, dtype=np.int16).reshape(2, 3, 4))


@given(cut=st.integers(0, len(SAMPLE) - 1))
def test_truncated_plain_file_is_a_clear_value_error(
    tmp_path_factory: pytest.TempPathFactory, cut: int
) -> None:
    path = tmp_path_factory.mktemp("cut") / "t.idx"
    path.write_bytes(SAMPLE[:cut])
    part = "header" if cut < 4 + 3 * 4 else "data"
    with pytest.raises(ValueError, match=f"truncated {part}") as info:
        read_idx(path)
    assert str(path) in str(info.value)


@given(data=st.data())
def test_truncated_gzip_file_is_a_clear_value_error(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    blob = gzip.compress(SAMPLE)
    cut = data.draw(st.integers(0, len(blob) - 1), label="cut")
    path = tmp_path_factory.mktemp("cut") / "t.idx.gz"
    path.write_bytes(blob[:cut])
    with pytest.raises(ValueError, match=r"t\.idx\.gz"):
        read_idx(path)


@given(data=st.data())
def test_corrupt_gzip_stream_is_a_clear_value_error(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    blob = bytearray(gzip.compress(SAMPLE))
    # from byte 10 on: the deflate body, the CRC-32 and the length (the
    # header's time stamp and OS byte before it may change harmlessly)
    at = data.draw(st.integers(10, len(blob) - 1), label="at")
    blob[at] ^= data.draw(st.integers(1, 255), label="flip")
    path = tmp_path_factory.mktemp("bad") / "c.gz"
    path.write_bytes(bytes(blob))
    try:
        harmless = gzip.decompress(bytes(blob)) == SAMPLE
    except (OSError, EOFError, zlib.error):
        harmless = False
    if harmless:  # a flip in the padding bits after the last deflate block
        assert read_idx(path).tobytes() == read_idx_reference(SAMPLE).tobytes()
    else:
        with pytest.raises(ValueError, match=r"c\.gz"):
            read_idx(path)


def read_idx_reference(raw: bytes) -> npt.NDArray[np.int16]:
    """SAMPLE decoded by hand: 16 header bytes, then big-endian int16."""
    return np.frombuffer(raw[16:], dtype=">i2").astype(np.int16).reshape(2, 3, 4)


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"\x01\x00\x08\x01\0\0\0\0", "magic"),
        (b"\x00\x01\x08\x01\0\0\0\0", "magic"),
        (b"\x00\x00\x0a\x01\0\0\0\0", "type code 0x0A"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (SAMPLE + b"\0", "extra trailing bytes"),
        (b"\x00\x00\x0e\x04" + b"\xff" * 16, "absurd dimensions"),
        (b"\x00\x00\x08\x02" + b"\x7f\xff\xff\xff" * 2 + b"\0" * 8, "truncated data"),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_bad_idx_files_are_clear_value_errors(
    tmp_path: Path, blob: bytes, message: str, gz: bool
) -> None:
    path = tmp_path / "bad.idx"
    path.write_bytes(gzip.compress(blob) if gz else blob)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_garbage_after_gzip_stream_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "g.gz"
    path.write_bytes(gzip.compress(SAMPLE) + b"garbage")
    with pytest.raises(ValueError, match="corrupt gzip"):
        read_idx(path)


def test_read_idx_path_errors(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="path"):
        read_idx(3)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


# ---------------------------------------------------------------- MNIST


def fake_mnist(
    folder: Path, n_train: int = 10, n_test: int = 5, seed: int = 0
) -> dict[str, npt.NDArray[np.uint8]]:
    rng = np.random.default_rng(seed)
    arrays = {
        MNIST_FILES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        MNIST_FILES[1]: rng.integers(0, 10, n_train, dtype=np.uint8),
        MNIST_FILES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        MNIST_FILES[3]: rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for i, (name, a) in enumerate(arrays.items()):
        if i % 2:  # a mix of gzipped and plain files
            (folder / (name + ".gz")).write_bytes(gzip.compress(encode_idx(a)))
        else:
            (folder / name).write_bytes(encode_idx(a))
    return arrays


def test_load_mnist_on_fake_files(tmp_path: Path) -> None:
    raw = fake_mnist(tmp_path)
    data = load_mnist(tmp_path)
    assert data.x_train.shape == (10, 784)
    assert data.x_test.shape == (5, 784)
    assert data.x_train.dtype == np.float32
    assert data.y_train.dtype == np.int64
    assert data.y_test.shape == (5,)
    assert data.x_train.min() >= 0.0
    assert data.x_train.max() <= 1.0
    np.testing.assert_allclose(
        data.x_train * 255, raw[MNIST_FILES[0]].reshape(10, 784), rtol=1e-6
    )
    assert np.array_equal(data.y_test, raw[MNIST_FILES[3]])
    wide = load_mnist(str(tmp_path), dtype=np.float64)
    assert wide.x_test.dtype == np.float64
    assert np.array_equal(wide.x_test, raw[MNIST_FILES[2]].reshape(5, 784) / 255)
    x_train, y_train, x_test, y_test = data  # a NamedTuple unpacks
    assert len(x_train) == len(y_train) == 10
    assert len(x_test) == len(y_test) == 5


def test_load_mnist_missing_file_says_which_and_where(tmp_path: Path) -> None:
    fake_mnist(tmp_path)
    (tmp_path / (MNIST_FILES[2])).unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message
    assert all(name in message for name in MNIST_FILES)
    assert f"missing in {str(tmp_path)!r}: ['{MNIST_FILES[2]}']" in message
    assert "yann.lecun.com" in message
    assert "fashion-mnist" in message
    with pytest.raises(FileNotFoundError, match="missing"):
        load_mnist(tmp_path / "no-such-dir")


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        (MNIST_FILES[1], np.zeros(9, np.uint8), "10 images but .* 9 labels"),
        (MNIST_FILES[1], np.full(10, 10, np.uint8), "digits 0-9"),
        (MNIST_FILES[0], np.zeros((10, 27, 28), np.uint8), r"\(n, 28, 28\)"),
        (MNIST_FILES[0], np.zeros((10, 784), np.uint8), r"\(n, 28, 28\)"),
        (MNIST_FILES[0], np.zeros((10, 28, 28), np.int16), "uint8 images"),
        (MNIST_FILES[1], np.zeros((10, 1), np.uint8), "uint8 labels"),
    ],
)
def test_load_mnist_checks_the_files(
    tmp_path: Path, name: str, bad: npt.NDArray[Any], message: str
) -> None:
    fake_mnist(tmp_path)
    for old in tmp_path.glob(name + "*"):
        old.unlink()
    (tmp_path / name).write_bytes(encode_idx(bad))
    with pytest.raises(ValueError, match=message):
        load_mnist(tmp_path)


def test_load_mnist_rejects_bad_arguments(tmp_path: Path) -> None:
    fake_mnist(tmp_path)
    with pytest.raises(TypeError, match="dtype"):
        load_mnist(tmp_path, dtype=np.int32)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dtype"):
        load_mnist(tmp_path, dtype="no such type")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="directory"):
        load_mnist(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- split


@given(
    n=st.integers(0, 80),
    n_classes=st.integers(1, 4),
    weights=st.lists(st.integers(1, 10), min_size=1, max_size=4),
    stratify=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_split_partitions_exactly(
    n: int, n_classes: int, weights: list[int], stratify: bool, seed: int
) -> None:
    fractions = tuple(w / sum(weights) for w in weights)
    x = np.arange(n, dtype=np.float64).reshape(n, 1) * np.ones(3)
    y = np.random.default_rng(seed).integers(0, n_classes, n)
    parts = split(x, y, fractions, seed=seed, stratify=stratify)
    assert len(parts) == len(fractions)
    ids = np.concatenate([xp[:, 0] for xp, _ in parts]).astype(int)
    assert sorted(ids.tolist()) == list(range(n))  # each sample exactly once
    for (xp, yp), f in zip(parts, fractions, strict=True):
        assert xp.shape[1:] == (3,)
        assert np.array_equal(yp, y[xp[:, 0].astype(int)])  # rows stay paired
        if not stratify:
            assert abs(len(yp) - f * n) <= 1
        for c in range(n_classes):
            if stratify:
                n_c = int((y == c).sum())
                assert abs(int((yp == c).sum()) - f * n_c) <= 1


def test_split_is_deterministic_shuffles_and_copies() -> None:
    x = np.arange(100.0).reshape(50, 2)
    y = np.arange(50) % 3
    a = split(x, y, (0.7, 0.15, 0.15), seed=1, stratify=True)
    b = split(x, y, (0.7, 0.15, 0.15), seed=1, stratify=True)
    c = split(x, y, (0.7, 0.15, 0.15), seed=2, stratify=True)
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        assert xa.tobytes() == xb.tobytes()
        assert ya.tobytes() == yb.tobytes()
        assert not np.shares_memory(xa, x)
    assert a[0][0].tobytes() != c[0][0].tobytes()
    d = split(x, y, np.array([0.7, 0.15, 0.15]), seed=1, stratify=True)
    assert d[2][1].tobytes() == a[2][1].tobytes()
    assert not np.array_equal(a[0][0], np.sort(a[0][0], axis=0))  # shuffled
    assert np.array_equal(x, np.arange(100.0).reshape(50, 2))  # input untouched


def test_split_keeps_proportions_of_an_imbalanced_set() -> None:
    y = np.array([0] * 90 + [1] * 10)
    (_, y_tr), (_, y_te) = split(np.zeros((100, 1)), y, (0.8, 0.2), stratify=True)
    assert (int((y_tr == 1).sum()), int((y_te == 1).sum())) == (8, 2)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((np.zeros((3, 1)), np.zeros(4)), {}, ValueError, "3 rows but y has 4"),
        ((np.zeros((3, 1)), np.zeros(3), (0.5, 0.4)), {}, ValueError, "sum to 1"),
        ((np.zeros((3, 1)), np.zeros(3), ()), {}, ValueError, "sum to 1"),
        (
            (np.zeros((3, 1)), np.zeros(3), (1.5, -0.5)),
            {},
            ValueError,
            r"fractions\[1\]",
        ),
        ((np.zeros((3, 1)), np.zeros(3), "ab"), {}, TypeError, "fractions"),
        (
            (np.zeros((3, 1)), np.zeros((3, 2))),
            {"stratify": True},
            ValueError,
            "stratify",
        ),
        ((np.zeros((3, 1)), np.zeros(3)), {"seed": -2}, ValueError, "seed"),
        ((np.float64(1.0), np.zeros(3)), {}, ValueError, "scalar"),
    ],
)
def test_split_rejects_bad_arguments(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        split(*args, **kwargs)


# ---------------------------------------------------------------- scaling


@given(
    x=hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 30), st.integers(1, 5)),
        elements=st.integers(-100, 100).map(float),
    ),
    x_new=st.lists(st.integers(-100, 100).map(float), min_size=5, max_size=5),
)
def test_standardize_statistics(x: npt.NDArray[np.float64], x_new: list[float]) -> None:
    original = x.copy()
    mean, std = fit_standardize(x)
    z = standardize(x, mean, std)
    assert np.array_equal(x, original)
    constant = np.ptp(x, axis=0) == 0
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(z.std(axis=0)[~constant], 1.0, rtol=1e-9)
    assert (z[:, constant] == 0).all()
    # other sets use the training statistics, never their own
    other = np.array(x_new)[: x.shape[1]][None, :]
    np.testing.assert_allclose(standardize(other, mean, std), (other - mean) / std)


def test_constant_features_give_zeros_without_warnings() -> None:
    x = np.column_stack([np.full(7, 0.1), np.arange(7.0), np.full(7, -3e300)])
    mean, std = fit_standardize(x)
    assert std[0] == 1.0
    assert std[2] == 1.0
    z = standardize(x, mean, std)
    assert (z[:, [0, 2]] == 0).all()
    assert np.isfinite(z).all()
    one_row = standardize([[1.0, 2.0]], *fit_standardize([[1.0, 2.0]]))
    assert one_row.tolist() == [[0.0, 0.0]]


def test_standardize_keeps_float32_and_takes_integers() -> None:
    x32 = np.arange(12, dtype=np.float32).reshape(4, 3)
    mean, std = fit_standardize(x32)
    assert mean.dtype == std.dtype == np.float32
    assert standardize(x32, mean, std).dtype == np.float32
    mean_i, _ = fit_standardize(np.arange(12).reshape(4, 3))
    assert mean_i.dtype == np.float64
    np.testing.assert_allclose(mean_i, [4.5, 5.5, 6.5])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: fit_standardize(np.zeros((0, 3))), ValueError, "at least one row"),
        (lambda: fit_standardize([[1.0, math.nan]]), ValueError, "x_train has NaN"),
        (lambda: fit_standardize(np.array([["a"]])), TypeError, "x_train"),
        (lambda: fit_standardize(np.float64(2.0)), ValueError, "scalar"),
        (
            lambda: standardize(np.zeros((2, 3)), np.zeros(2), np.ones(3)),
            ValueError,
            "mean has shape",
        ),
        (
            lambda: standardize(np.zeros((2, 3)), np.zeros(3), np.ones(2)),
            ValueError,
            "std has shape",
        ),
        (
            lambda: standardize(np.zeros((2, 3)), np.zeros(3), np.zeros(3)),
            ValueError,
            "positive",
        ),
        (
            lambda: standardize(np.zeros((2, 3)), np.full(3, np.inf), np.ones(3)),
            ValueError,
            "finite",
        ),
    ],
)
def test_standardize_rejects_bad_arguments(
    call: Callable[[], object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------- one_hot


@given(labels=st.lists(st.integers(0, 6), max_size=30), extra=st.integers(0, 3))
def test_one_hot_rows(labels: list[int], extra: int) -> None:
    k = (max(labels) + 1 if labels else 1) + extra
    Y = one_hot(np.array(labels, dtype=np.int64), k)
    assert Y.shape == (len(labels), k)
    assert Y.dtype == np.float64
    assert (Y.sum(axis=1) == 1).all()
    assert Y.argmax(axis=1).tolist() == labels
    if labels:
        assert one_hot(labels).shape == (len(labels), max(labels) + 1)


def test_one_hot_dtype_and_errors() -> None:
    assert one_hot([1], 2, dtype=np.float32).dtype == np.float32
    assert one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)
    with pytest.raises(TypeError, match="labels must be integers"):
        one_hot([0.0, 1.0])
    with pytest.raises(ValueError, match="1-D"):
        one_hot([[0, 1]])
    with pytest.raises(ValueError, match=r"\[0, 1\] for k=2"):
        one_hot([0, 2], 2)
    with pytest.raises(ValueError, match="non-negative"):
        one_hot([-1, 0])
    with pytest.raises(ValueError, match="k is needed"):
        one_hot(np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match="k must be >= 1"):
        one_hot(np.array([], dtype=np.int64), 0)
    with pytest.raises(TypeError, match="dtype"):
        one_hot([0], 1, dtype=np.str_)
