"""Learning-rate schedules: values, monotonicity, warm-up, errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnfunc._types import Schedule
from nnfunc.optim import sgd, sgd_init
from nnfunc.params import freeze
from nnfunc.schedules import (
    constant,
    cosine,
    exponential_decay,
    inverse_time,
    piecewise,
)

steps = st.integers(0, 10**7)
rates = st.floats(0.0, 10.0)


@given(rates, steps)
def test_constant_is_constant(lr: float, t: int) -> None:
    assert constant(lr)(t) == lr


def test_piecewise_changes_value_at_each_boundary() -> None:
    s = piecewise([10, 20, 30], [1.0, 0.5, 0.25, 0.0])
    got = [s(t) for t in (0, 9, 10, 19, 20, 29, 30, 31, 10**9)]
    assert got == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.0, 0.0, 0.0]
    assert piecewise([], [0.3])(12345) == 0.3


@given(st.lists(st.integers(1, 1000), min_size=1, max_size=5, unique=True), steps)
def test_piecewise_picks_the_value_of_the_last_boundary_passed(
    bounds: list[int], t: int
) -> None:
    bs = sorted(bounds)
    values = [float(i) for i in range(len(bs) + 1)]
    assert piecewise(bs, values)(t) == sum(1 for b in bs if b <= t)


def test_exponential_decay_values() -> None:
    s = exponential_decay(2.0, 0.1, 100)
    assert s(0) == 2.0
    assert math.isclose(s(100), 0.2)
    assert math.isclose(s(50), 2.0 * math.sqrt(0.1))
    assert math.isclose(s(250), 2.0 * 0.1**2.5)
    stair = exponential_decay(2.0, 0.1, 100, staircase=True)
    assert [stair(t) for t in (0, 99)] == [2.0, 2.0]
    assert math.isclose(stair(100), 0.2)
    assert math.isclose(stair(299), 2.0 * 0.1**2)
    assert exponential_decay(1.0, 0.5, 1)(10**7) == 0.0  # underflows quietly


def test_inverse_time_values() -> None:
    s = inverse_time(0.6, 0.5, decay_steps=4)
    for t, want in ((0, 0.6), (8, 0.3), (16, 0.2)):  # 0.6 / (1 + 0.5 t / 4)
        assert math.isclose(s(t), want)
    assert inverse_time(1.0, 1.0)(9) == 0.1


def test_cosine_values_and_linear_warmup() -> None:
    s = cosine(0.8, 100, warmup_steps=20, final_lr=0.2)
    # warm-up: lr * t / W, from 0, reaching lr at t = W
    assert [s(t) for t in (0, 5, 10, 20)] == [0.0, 0.2, 0.4, 0.8]
    # half-way through the decay, cos = 0: the mean of lr and final_lr
    assert math.isclose(s(60), 0.5)
    # a quarter of the way, (1 + cos(pi/4)) / 2
    assert math.isclose(s(40), 0.2 + 0.6 * (1 + math.cos(math.pi / 4)) / 2)
    assert [s(t) for t in (100, 101, 10**6)] == [0.2, 0.2, 0.2]
    plain = cosine(1.0, 10)
    assert plain(0) == 1.0
    assert math.isclose(plain(5), 0.5)
    assert plain(10) == 0.0
    assert cosine(1.0, 5, warmup_steps=5)(4) == 0.8
    assert cosine(1.0, 5, warmup_steps=5)(5) == 0.0


@given(
    st.floats(0.0, 1.0),
    st.integers(1, 1000),
    st.integers(0, 1000),
    st.floats(0.0, 1.0),
    st.integers(0, 1200),
    st.integers(0, 1200),
)
def test_cosine_rises_during_warmup_and_falls_after(
    lr: float, total: int, warmup: int, frac: float, t1: int, t2: int
) -> None:
    warmup = min(warmup, total)
    final = lr * frac
    s = cosine(lr, total, warmup_steps=warmup, final_lr=final)
    a, b = sorted((t1, t2))
    if b < warmup:
        assert s(a) <= s(b)
        assert math.isclose(s(b), lr * b / warmup)
    if a >= warmup:
        assert s(a) >= s(b)
        assert final <= s(b) <= s(a) <= lr
    assert 0.0 <= s(a) <= lr


@given(rates, st.floats(0.01, 1.0), st.integers(1, 1000), st.booleans(), steps, steps)
def test_exponential_decay_never_increases(
    lr: float, r: float, T: int, staircase: bool, t1: int, t2: int
) -> None:
    s = exponential_decay(lr, r, T, staircase)
    a, b = sorted((t1, t2))
    assert lr >= s(a) >= s(b) >= 0.0


@given(rates, st.floats(0.0, 10.0), st.integers(1, 1000), steps, steps)
def test_inverse_time_never_increases(
    lr: float, r: float, T: int, t1: int, t2: int
) -> None:
    s = inverse_time(lr, r, T)
    a, b = sorted((t1, t2))
    assert lr >= s(a) >= s(b) >= 0.0


def test_schedules_return_python_floats_and_accept_numpy_ints() -> None:
    for s in (
        constant(1.0),
        piecewise([2], [1.0, 0.5]),
        exponential_decay(1.0, 0.5, 2),
        inverse_time(1.0, 0.5),
        cosine(1.0, 10, warmup_steps=2),
    ):
        assert type(s(np.int64(3))) is float  # type: ignore[arg-type]


def test_a_schedule_drives_an_optimizer() -> None:
    p = freeze({"W1": np.ones((1, 1)), "b1": np.zeros(1)})
    g = freeze({"W1": np.ones((1, 1)), "b1": np.ones(1)})
    opt = sgd(piecewise([1], [0.5, 0.25]))
    p1, s = opt.step(p, g, sgd_init(p))  # lr(0) = 0.5
    p2, s = opt.step(p1, g, s)  # lr(1) = 0.25
    assert p1["b1"].tolist() == [-0.5]
    assert p2["b1"].tolist() == [-0.75]


ALL: list[Schedule] = [
    constant(0.1),
    piecewise([5], [0.1, 0.01]),
    exponential_decay(0.1, 0.5, 10),
    inverse_time(0.1, 0.5),
    cosine(0.1, 10, warmup_steps=2),
]


@pytest.mark.parametrize("s", ALL)
@pytest.mark.parametrize(
    ("step", "error"),
    [(-1, ValueError), (1.0, TypeError), (True, TypeError), ("3", TypeError)],
)
def test_bad_step_is_rejected(s: Schedule, step: Any, error: type) -> None:
    with pytest.raises(error, match="step"):
        s(step)


BAD: list[tuple[Callable[[], Schedule], type[Exception], str]] = [
    (lambda: constant(-0.1), ValueError, "lr"),
    (lambda: constant(math.nan), ValueError, "lr"),
    (lambda: constant("0.1"), TypeError, "lr"),  # type: ignore[arg-type]
    (lambda: piecewise([5, 5], [1.0, 0.5, 0.1]), ValueError, "strictly increasing"),
    (lambda: piecewise([6, 5], [1.0, 0.5, 0.1]), ValueError, "strictly increasing"),
    (lambda: piecewise([0], [1.0, 0.5]), ValueError, r"boundaries\[0\]"),
    (lambda: piecewise([5], [1.0]), ValueError, "one more entry"),
    (lambda: piecewise([5], [1.0, -0.5]), ValueError, r"values\[1\]"),
    (lambda: piecewise([2.5], [1.0, 0.5]), TypeError, r"boundaries\[0\]"),  # type: ignore[list-item]
    (lambda: piecewise(5, [1.0]), TypeError, "boundaries"),  # type: ignore[arg-type]
    (lambda: piecewise([5], "ab"), TypeError, "values"),  # type: ignore[arg-type]
    (lambda: exponential_decay(1.0, 0.0, 10), ValueError, "decay_rate"),
    (lambda: exponential_decay(1.0, 1.5, 10), ValueError, "decay_rate"),
    (lambda: exponential_decay(1.0, 0.5, 0), ValueError, "decay_steps"),
    (lambda: exponential_decay(1.0, 0.5, 10, staircase=1), TypeError, "staircase"),  # type: ignore[arg-type]
    (lambda: exponential_decay(-1.0, 0.5, 10), ValueError, "lr"),
    (lambda: inverse_time(1.0, -0.5), ValueError, "decay_rate"),
    (lambda: inverse_time(1.0, 0.5, decay_steps=0), ValueError, "decay_steps"),
    (lambda: inverse_time(math.inf, 0.5), ValueError, "lr"),
    (lambda: cosine(1.0, 0), ValueError, "total_steps"),
    (lambda: cosine(1.0, 10, warmup_steps=11), ValueError, "warmup_steps"),
    (lambda: cosine(1.0, 10, warmup_steps=-1), ValueError, "warmup_steps"),
    (lambda: cosine(1.0, 10, final_lr=2.0), ValueError, "final_lr"),
    (lambda: cosine(1.0, 10, final_lr=-0.1), ValueError, "final_lr"),
    (lambda: cosine(1.0, 10.0), TypeError, "total_steps"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("make", "error", "match"), BAD)
def test_bad_arguments_are_rejected_at_construction(
    make: Callable[[], Schedule], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        make()
