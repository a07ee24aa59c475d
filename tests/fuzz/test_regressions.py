"""The bugs the fuzz suite found, one small test each, so they stay fixed.

pytest turns warnings into errors, so a case that used to warn fails here
as it did in the fuzzer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import nnfunc as nf
from nnfunc import _checks as nf_checks

anf: Any = nf  # deliberately ill-typed calls go through this


# ------------------------------------------------------------------ metrics


def test_float16_labels_do_not_warn() -> None:
    # 2**53 was compared in float16, where it overflows.
    y = np.array([0.0, 1.0, 1.0], dtype=np.float16)
    assert nf.accuracy(y, y) == 1.0
    assert nf.confusion_matrix(y, y).tolist() == [[1, 0], [0, 2]]
    precision, _ = nf.precision_recall(y, np.array([0, 1, 0]))
    assert precision.tolist() == [0.5, 1.0]


@pytest.mark.parametrize("dtype", [np.uint64, np.float64])
def test_rows_of_zero_labels_are_accepted(dtype: type[np.generic]) -> None:
    # (n, 0) labels: max() of an empty array raised an unnamed ValueError.
    empty: np.ndarray[Any, Any] = np.zeros((2, 0), dtype=dtype)
    assert nf.accuracy(empty, empty) == 1.0


# --------------------------------------------------------------------- clip


def test_clip_keeps_0d_arrays_as_arrays() -> None:
    # np.multiply of a 0-d array gives a NumPy scalar, whose flags cannot be set.
    g = {"a": np.array(3.0, np.float32), "b": np.array([4.0])}
    out = nf.clip_by_global_norm(g, 1.0)
    assert isinstance(out["a"], np.ndarray)
    assert out["a"].dtype == np.float32
    assert float(out["a"]) == pytest.approx(0.6)
    assert not out["a"].flags.writeable


def test_clip_works_when_the_norm_overflows() -> None:
    # The norm of two entries of 1.7e308 is above the largest float: the
    # scale used to be c / inf = 0, which zeroed the gradient. (Keys W1, b1
    # make it a params-shaped gradient, checked as one.)
    g = {"W1": np.array([[1.7e308, 1.7e308]]), "b1": np.array([3.0, 0.0])}
    out = nf.clip_by_global_norm(g, 1.0)
    assert out["W1"][0] == pytest.approx([math.sqrt(0.5)] * 2)
    assert nf.global_norm(out) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="global norm of grads is larger"):
        nf.global_norm(g)


@pytest.mark.parametrize("g", [{0: np.array([3.0])}, {0: np.zeros(0)}])
def test_clip_names_grads_whose_keys_are_not_str(g: dict[Any, Any]) -> None:
    # The result is frozen: freeze's error named its own argument, "arrays",
    # and a regular expression raised "expected string ..., got 'int'".
    with pytest.raises(TypeError, match=r"grads"):
        nf.clip_by_global_norm(g, 1.0)


# ---------------------------------------------------------------- gradcheck

P = nf.init_params([2, 2, 1], seed=0)
X = np.array([[0.5, -1.0], [1.0, 0.25]])
Y = np.array([1.0, 0.0])
G = nf.grads(P, X, Y)


def test_check_grads_names_a_loss_fn_that_is_not_callable() -> None:
    with pytest.raises(TypeError, match="loss_fn must be a function"):
        anf.check_grads(3, P, G)


@pytest.mark.parametrize("value", [math.nan, math.inf, "low", None])
def test_check_grads_rejects_a_loss_fn_that_returns_no_finite_float(
    value: object,
) -> None:
    # A NaN loss gave max_error=nan and ok=False; a str gave float()'s error.
    with pytest.raises((ValueError, TypeError), match=r"loss_fn\(params\)"):
        anf.check_grads(lambda q: value, P, G)


def test_check_grads_rejects_an_h_that_overflows_the_params() -> None:
    # theta + h * v overflowed with a RuntimeWarning.
    p = nf.freeze({"W1": np.array([[1e308]]), "b1": np.zeros(1)})
    g = nf.freeze({"W1": np.ones((1, 1)), "b1": np.ones(1)})
    with pytest.raises(ValueError, match=r"h=1e\+308 is too large"):
        nf.check_grads(lambda q: float(q["W1"].sum()), p, g, h=1e308, mode="coordinate")


# ------------------------------------------------------------------ softmax


@pytest.mark.parametrize("fn", [nf.softmax, nf.log_softmax])
@pytest.mark.parametrize(
    ("z", "error", "match"),
    [
        (None, TypeError, "z must be an array of real numbers"),
        ([["a", "b"]], TypeError, "z must be an array of real numbers"),
        (np.array([1.0, 2.0]), ValueError, r"z must be 2-D"),
        (np.zeros((2, 0)), ValueError, r"z must be 2-D .* k >= 1"),
        (np.array([[np.nan, 0.0]]), ValueError, "z has NaN"),
    ],
)
def test_softmax_checks_its_argument(
    fn: Any, z: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        fn(z)


def test_softmax_of_float32_extremes_is_exact_and_quiet() -> None:
    # z - max overflowed float32 to -inf with a RuntimeWarning; e^-inf = 0 is right.
    z = np.array([[3e38, -3e38]], np.float32)
    assert nf.softmax(z).tolist() == [[1.0, 0.0]]
    assert nf.softmax([[1, 1]]).tolist() == [[0.5, 0.5]]  # lists and ints too
    with pytest.raises(ValueError, match=r"log_softmax\(z\) overflows float32"):
        nf.log_softmax(z)


# ------------------------------------------------------- params, structure


@pytest.mark.parametrize("bad", [None, [1, 2], {"W1", "b1"}, 3])
def test_freeze_names_a_non_mapping(bad: object) -> None:
    # freeze called .items() on anything: an AttributeError.
    with pytest.raises(TypeError, match="arrays must be a mapping"):
        anf.freeze(bad)


@pytest.mark.parametrize("fn", [nf.freeze, nf.to_dict])
def test_freeze_and_to_dict_name_a_ragged_value(fn: Any) -> None:
    with pytest.raises(TypeError, match=r"\['W1'\] must be an array"):
        fn({"W1": [[1.0], [1.0, 2.0]]})


def test_float64_grads_too_large_for_float32_params_do_not_warn() -> None:
    # The cast to float32 overflowed with a RuntimeWarning before the check.
    p = nf.init_params([2, 1], dtype=np.float32)
    g = {"W1": np.full((2, 1), 1e300), "b1": np.zeros(1)}
    with pytest.raises(ValueError, match=r"grads\['W1'\] has values too large"):
        nf.sgd_step(p, g, lr=0.1)


# ------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("fn", "arg"),
    [
        (lambda p: nf.save(p, P), "path"),
        (nf.load, "path"),
        (nf.datasets.read_idx, "path"),
        (nf.datasets.load_mnist, "directory"),
    ],
)
def test_a_nul_in_a_path_is_named(fn: Any, arg: str) -> None:
    # open() said only "embedded null byte".
    with pytest.raises(ValueError, match=f"{arg} must not contain a NUL"):
        fn("bad\0name")


# ---------------------------------------------------------------- datasets


@pytest.mark.parametrize(
    ("make", "kw", "arg"),
    [
        (nf.datasets.xor, {"noise": 1.7e308}, "noise"),
        (nf.datasets.moons, {"noise": 1.7e308}, "noise"),
        (nf.datasets.circles, {"noise": 1.7e308}, "noise"),
        (nf.datasets.spirals, {"turns": 1.7e308}, "turns"),
    ],
)
def test_generators_name_a_parameter_that_overflows(
    make: Any, kw: dict[str, float], arg: str
) -> None:
    # The points overflowed to inf or NaN with a RuntimeWarning.
    with pytest.raises(ValueError, match=f"{arg}.* too large"):
        make(8, **kw)


def test_fit_standardize_handles_values_near_the_float_max() -> None:
    # The variance overflowed: a RuntimeWarning and std = inf.
    x = np.array([[1e308, 1.0], [-1e308, 3.0], [1.5e308, 5.0]])
    mean, std = nf.datasets.fit_standardize(x)
    assert mean == pytest.approx([np.mean(x[:, 0] / 1e308) * 1e308, 3.0])
    assert std[0] == pytest.approx(np.std(x[:, 0] / 1e308) * 1e308)
    z = nf.datasets.standardize(x, mean, std)  # x - mean overflows: divided first
    assert np.isfinite(z).all()
    assert z.mean(axis=0) == pytest.approx([0.0, 0.0], abs=1e-12)
    x16 = np.array([[6e4], [-6e4]], dtype=np.float16)
    assert nf.datasets.fit_standardize(x16)[1].tolist() == [6e4]


def test_standardize_checks_mean_and_std() -> None:
    x = np.ones((2, 1))
    with pytest.raises(TypeError, match="std must be an array of real numbers"):
        nf.datasets.standardize(x, [0.0], np.array([1.0], dtype=object))
    with pytest.raises(TypeError, match="std must be an array"):
        nf.datasets.standardize(x, [0.0], [[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match=r"\(x - mean\) / std overflows"):
        nf.datasets.standardize(x, [0.0], [1e-320])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: nf.datasets.one_hot([1], dtype="x"), TypeError, "dtype must be"),
        (lambda: nf.datasets.one_hot([[1], [1, 2]]), TypeError, "labels must be an"),
        (lambda: nf.datasets.one_hot([10**12]), ValueError, "does not fit in memory"),
        (lambda: nf.datasets.fit_standardize([[1], [1, 2]]), TypeError, "x_train"),
        (lambda: nf.datasets.split([[1], [1, 2]], [0, 1]), TypeError, "x must be an"),
        (
            lambda: nf.datasets.split(
                np.zeros((3, 1)), np.array([1, "a", None], dtype=object), stratify=True
            ),
            TypeError,
            "y must hold sortable class labels",
        ),
    ],
)
def test_dataset_helpers_name_their_arguments(
    call: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------- schedules

SCHEDULES = [
    nf.schedules.constant(0.1),
    nf.schedules.piecewise([10], [0.1, 0.01]),
    nf.schedules.exponential_decay(1.0, 0.5, 1),
    nf.schedules.inverse_time(1.0, 0.5, 1),
    nf.schedules.cosine(1.0, 100, warmup_steps=10),
]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedules_take_any_int64_step_and_name_larger_ones(schedule: Any) -> None:
    # t / T and r * t overflowed float: an OverflowError for a step of 10**400.
    assert 0.0 <= schedule(2**63 - 1) < math.inf
    with pytest.raises(ValueError, match="step must be <= 2"):
        schedule(10**400)


def test_schedule_constructors_cap_step_counts() -> None:
    with pytest.raises(ValueError, match="total_steps must be <= 2"):
        nf.schedules.cosine(1.0, 10**400)
    with pytest.raises(ValueError, match="decay_steps must be <= 2"):
        nf.schedules.inverse_time(1.0, 0.5, 10**400)
    # lr * t overflowed during a long warm-up: inf from finite arguments
    s = nf.schedules.cosine(1e300, 2**62, warmup_steps=2**62)
    assert s(2**61) == pytest.approx(5e299)


def test_an_int_beyond_the_float_range_is_a_named_value_error() -> None:
    # float(10**400) raised OverflowError from every check_float.
    with pytest.raises(ValueError, match="lr must be finite"):
        nf.sgd_step(P, G, lr=10**400)
    with pytest.raises(ValueError, match="noise must be finite"):
        nf.datasets.xor(4, noise=-(10**400))


def test_clip_of_mixed_dtypes_with_an_overflowing_norm_does_not_warn() -> None:
    # float32 g / 1.8e308 cast the divisor to float32 first: an overflow warning.
    g = {"a": np.array([1.7e308, 1.7e308]), "b": np.array(2.0, np.float32)}
    out = nf.clip_by_global_norm(g, 1.0)
    assert out["a"] == pytest.approx([math.sqrt(0.5)] * 2)
    assert out["b"].dtype == np.float32


@pytest.mark.parametrize(
    "call",
    [
        lambda d: nf.init_params([2, 1], dtype=d),
        lambda d: nf.datasets.one_hot([0], dtype=d),
        lambda d: nf.datasets.load_mnist(".", dtype=d),
    ],
)
def test_a_dtype_numpy_rejects_with_a_value_error_is_named(call: Any) -> None:
    # np.dtype({0: ...}) raises ValueError('entry not a 2- or 3- tuple').
    with pytest.raises(TypeError, match="dtype must be"):
        call({0: np.zeros(1)})


def test_global_norm_keeps_tiny_float32_gradients() -> None:
    # (1e-30)**2 underflowed float32: the norm was 0.0.
    g = {"a": np.array([1e-30, 0.0], np.float32)}
    assert nf.global_norm(g) == pytest.approx(1e-30, rel=1e-6)


def test_clip_of_float16_does_not_round_the_scale_to_zero() -> None:
    # scale = 1e-3 / 65504 is below float16's smallest number: the result was 0.
    g = {"a": np.array([65504.0], np.float16)}
    out = nf.clip_by_global_norm(g, 1e-3)
    assert out["a"].dtype == np.float16
    assert float(out["a"][0]) == pytest.approx(1e-3, rel=1e-3)


def test_an_eps_that_rounds_to_zero_in_float32_is_an_error_not_a_warning() -> None:
    # eps=1e-300 is 0 in float32; with v = 0 the step divided by zero.
    p = nf.init_params([1, 1], dtype=np.float32)
    g = nf.freeze(
        {"W1": np.full((1, 1), 1e-45, np.float32), "b1": np.zeros(1, np.float32)}
    )
    with pytest.raises(nf_checks.NonFiniteError, match=r"overflowed.*eps"):
        nf.rmsprop_step(p, g, nf.rmsprop_init(p), lr=0.1, eps=1e-300)


def test_batches_names_a_ragged_argument() -> None:
    # np.asarray's own ValueError named neither x nor y.
    with pytest.raises(TypeError, match="y must be an array"):
        list(nf.batches(np.zeros((2, 1)), [[1.0], [1.0, 2.0]], batch_size=1, seed=0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_standardize_of_tiny_values_gives_a_positive_std(dtype: Any) -> None:
    # (1.8e-295)**2 underflowed: std = 0 for a feature that is not constant.
    tiny = float(np.finfo(dtype).tiny)
    x = np.array([[tiny * 100, 1.0], [0.0, 2.0]], dtype=dtype)
    mean, std = nf.datasets.fit_standardize(x)
    assert std[0] == pytest.approx(tiny * 50, rel=1e-3)
    assert mean.dtype == std.dtype == dtype
    z = nf.datasets.standardize(x, mean, std)
    assert z[:, 0].tolist() == pytest.approx([1.0, -1.0], rel=1e-3)
    sub = np.array([[np.finfo(dtype).smallest_subnormal], [0.0]], dtype=dtype)
    assert (nf.datasets.fit_standardize(sub)[1] > 0).all()


def test_too_many_classes_names_k() -> None:
    with pytest.raises(ValueError, match=r"4097 classes \(k, or 1 \+ the largest"):
        nf.confusion_matrix([0, 1], [1, 0], k=4097)


@pytest.mark.parametrize(
    ("step", "kw"),
    [
        (nf.adamw_step, {"lr": 1e30, "weight_decay": 1e300}),
        (nf.adam_step, {"lr": 1.7e308, "b1": 0.9}),
    ],
)
def test_adam_scalars_that_overflow_are_an_error_not_inf_params(
    step: Any, kw: dict[str, float]
) -> None:
    # eta * weight_decay and eta / c1 overflowed as Python floats: inf with
    # no NumPy flag, so the step returned params of +-inf.
    p = nf.init_params([2, 2], seed=0)
    g = nf.freeze({"W1": np.ones((2, 2)), "b1": np.ones(2)})
    with pytest.raises(ValueError, match="the step overflowed"):
        step(p, g, nf.adam_init(p), **kw)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: nf.init_params([1, 1], dtype=d),
        lambda d: nf.datasets.one_hot([0], dtype=d),
        lambda d: nf.datasets.load_mnist(".", dtype=d),
    ],
)
def test_a_dtype_numpy_rejects_with_a_key_error_is_named(call: Any) -> None:
    with pytest.raises(TypeError, match="dtype must be"):
        call({-1: np.ones(1)})


# ------------------------------------------------------------------ records


@pytest.mark.parametrize("call", ["forward", "predict", "loss", "grads"])
@pytest.mark.parametrize("arg", ["hidden", "output"])
def test_an_array_for_hidden_or_output_is_a_named_error(call: str, arg: str) -> None:
    # The record was compared with ==, whose array result has no truth value.
    p = nf.init_params([1, 2, 1], hidden="sigmoid", seed=0)
    x, y = np.zeros((1, 1)), np.zeros(1)
    args = (p, x) if call in ("forward", "predict") else (p, x, y)
    for bad in (np.array([], dtype=bool), np.array(["relu", "relu"])):
        with pytest.raises((TypeError, ValueError), match=arg):
            getattr(anf, call)(*args, **{arg: bad})


def test_an_agreeing_hidden_keeps_the_record_in_a_saved_file(tmp_path: Any) -> None:
    # A network with no hidden layer records hidden="sigmoid"; hidden=[]
    # agrees with it (no layer to run), and the file keeps the record as is.
    p = nf.init_params([1, 1], hidden="sigmoid", seed=0)
    nf.save(tmp_path / "p.npz", p, hidden=[])
    back = nf.load(tmp_path / "p.npz")
    assert (back.hidden, back.params.hidden) == ("sigmoid", "sigmoid")


def test_tree_map_names_the_key_when_fn_fails() -> None:
    # np.negative refuses bools: its TypeError came out naming nothing.
    value = {"W1": np.array([[True]]), "b1": np.array([0.0], np.float32)}
    with pytest.raises(TypeError, match=r"fn raised TypeError on the arrays at 'W1'"):
        nf.tree_map(np.negative, value)
