"""Training faults: divergence, callbacks that raise, interrupts at any moment.

Whatever stops ``train``, the caller gets the last good params and state:
finite, read-only, consistent (exactly a state the run passed through) and
resumable, with an error that says what happened. ``tests/test_training.py``
checks one case of each by hand; here every optimizer diverges, callbacks
raise at hypothesis-chosen epochs, and real interrupts (SIGINT from another
thread, SIGALRM from a timer) arrive at random moments, many times.
"""

from __future__ import annotations

import gc
import inspect
import math
import os
import signal
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc import training
from nnfunc.training import (
    CallbackError,
    EpochRecord,
    TrainingError,
    TrainingInterrupted,
)

FUZZ_EXAMPLES: int = settings().max_examples

Pair = tuple[nf.Params, nf.OptState]

OPTIMIZERS: dict[str, Callable[[float], nf.Optimizer]] = {
    "sgd": nf.sgd,
    "momentum": lambda lr: nf.momentum(lr, 0.9, nesterov=True),
    "rmsprop": nf.rmsprop,
    "adam": nf.adam,
    "adamw": nf.adamw,
}


def blobs(n: int, seed: int = 0) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return rng.standard_normal((n, 2)) + 1.5 * y[:, None], y.astype(np.float64)


def recording(inner: nf.Optimizer) -> tuple[nf.Optimizer, list[Pair]]:
    """``inner`` with every ``(params, state)`` its updates produce recorded."""
    seen: list[Pair] = []

    def update(p: nf.Params, g: nf.Grads, s: nf.OptState) -> Pair:
        out = inner.update(p, g, s)
        seen.append(out)
        return out

    return nf.Optimizer(inner.init, inner.step, update), seen


def check_good_state(params: nf.Params, state: nf.OptState) -> None:
    """Finite, read-only params and a state that carries its epoch."""
    assert isinstance(params, types.MappingProxyType)
    for v in params.values():
        assert np.isfinite(v).all()
        assert not v.flags.writeable
    assert isinstance(state, types.MappingProxyType)
    assert state["epoch"].dtype == np.int64
    assert int(state["epoch"]) >= 0
    for v in state.values():
        assert np.isfinite(v).all()
        assert not v.flags.writeable


def check_passed_through(
    params: nf.Params, state: nf.OptState, p0: nf.Params, seen: list[Pair]
) -> None:
    """``(params, state)`` is the start, or exactly a pair the run produced."""
    count = int(state["count"])
    if count == 0:
        assert all(np.array_equal(params[k], p0[k]) for k in p0)
        return
    ref_p, ref_s = seen[count - 1]
    assert all(np.array_equal(params[k], ref_p[k]) for k in p0)
    assert all(np.array_equal(state[k], ref_s[k]) for k in ref_s)


def same(a: nf.Params, b: nf.Params) -> bool:
    return sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------- diverging


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_diverging_keeps_the_last_finite_state(
    name: str, dtype: type[np.floating[Any]]
) -> None:
    x, y = blobs(32)
    p0 = nf.init_params([2, 8, 1], seed=0, dtype=dtype)
    opt, seen = recording(OPTIMIZERS[name](1e160 if dtype == np.float64 else 1e20))
    x, y = blobs(32)
    kw: dict[str, Any] = {"batch_size": 8, "output": "identity", "verbose": False}
    with pytest.raises(TrainingError) as info:
        nf.train(p0, 100 * x, 1e3 * y, optimizer=opt, epochs=50, **kw)
    e = info.value
    assert "NaN or infinite" in str(e)
    assert "smaller learning rate" in str(e)
    assert f"epoch {e.epoch}" in str(e)
    check_good_state(e.params, e.opt_state)
    check_passed_through(e.params, e.opt_state, p0, seen)
    assert len(e.history) == int(e.opt_state["epoch"]) == e.epoch - 1
    # Resuming with a sane learning rate works, or, when the attached params
    # are finite but their loss already overflows (a "loss" fault hands back
    # the params of the failing step, as documented), fails again at once
    # with the very same state attached: nothing is lost either way.
    calm = OPTIMIZERS[name](1e-4)
    try:
        more, again = nf.train(
            e.params, 100 * x, 1e3 * y, optimizer=calm, epochs=2,
            opt_state=e.opt_state, **kw,
        ), None  # fmt: skip
    except TrainingError as error:
        more, again = None, error
    if again is not None:
        assert again.epoch == e.epoch
        assert same(again.params, e.params)
        assert int(again.opt_state["count"]) == int(e.opt_state["count"])
    else:
        assert more is not None
        check_good_state(more.params, more.opt_state)
        assert int(more.opt_state["epoch"]) == int(e.opt_state["epoch"]) + 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_sgd_diverging_keeps_the_last_finite_state(
    dtype: type[np.floating[Any]],
) -> None:
    # nf.sgd itself (not wrapped) takes train's fused in-place path
    x, y = blobs(32)
    p0 = nf.init_params([2, 8, 1], seed=0, dtype=dtype)
    kw: dict[str, Any] = {"batch_size": 8, "output": "identity", "verbose": False}
    with pytest.raises(TrainingError) as info:
        nf.train(p0, 100 * x, 1e3 * y, optimizer=nf.sgd(0.05), epochs=500, **kw)
    e = info.value
    check_good_state(e.params, e.opt_state)
    steps = int(e.opt_state["count"])
    assert steps >= 4 * int(e.opt_state["epoch"])  # 4 steps an epoch
    if steps == 4 * int(e.opt_state["epoch"]) and steps:  # an epoch boundary
        ref = nf.train(
            p0, 100 * x, 1e3 * y, optimizer=nf.sgd(0.05), epochs=steps // 4, **kw
        )
        assert same(e.params, ref.params)


# ---------------------------------------------------------------- callbacks

ERRORS: list[type[BaseException]] = [
    ValueError,
    RuntimeError,
    ZeroDivisionError,
    KeyError,
    KeyboardInterrupt,
]


@settings(max_examples=max(5, FUZZ_EXAMPLES // 5), deadline=None)
@given(
    name=st.sampled_from(sorted(OPTIMIZERS)),
    at=st.integers(1, 4),
    error=st.sampled_from(ERRORS),
    dropout=st.sampled_from([0.0, 0.3]),
)
def test_a_callback_that_raises_keeps_its_epoch_and_resumes_bit_for_bit(
    name: str, at: int, error: type[BaseException], dropout: float
) -> None:
    x, y = blobs(24)
    p0 = nf.init_params([2, 4, 1], seed=1)
    kw: dict[str, Any] = {
        "optimizer": OPTIMIZERS[name](0.05),
        "batch_size": 5,
        "seed": 3,
        "dropout": dropout,
        "verbose": False,
    }
    original = error("from the callback")

    def callback(record: EpochRecord, params: nf.Params) -> None:
        if record.epoch == at:
            raise original

    expected = CallbackError if issubclass(error, Exception) else TrainingInterrupted
    with pytest.raises(expected) as info:
        nf.train(p0, x, y, epochs=6, callback=callback, **kw)
    e = info.value
    assert e.__cause__ is original
    if expected is CallbackError:
        assert f"{error.__name__} after epoch {at}" in str(e)
    check_good_state(e.params, e.opt_state)
    assert len(e.history) == int(e.opt_state["epoch"]) == at
    upto = nf.train(p0, x, y, epochs=at, **kw)
    assert same(e.params, upto.params)
    rest = nf.train(e.params, x, y, epochs=6 - at, opt_state=e.opt_state, **kw)
    whole = nf.train(p0, x, y, epochs=6, **kw)
    assert same(rest.params, whole.params)
    assert same(rest.opt_state, whole.opt_state)


# --------------------------------------------------------- real interrupts

N_INTERRUPTS = max(10, FUZZ_EXAMPLES // 3)


def sigint_from_a_thread(delay: float) -> Callable[[], None]:
    """Deliver a real SIGINT (Ctrl-C) to this process after ``delay`` seconds."""
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()

    def cancel() -> None:
        timer.cancel()
        timer.join()

    return cancel


def sigalrm_from_the_kernel(delay: float) -> Callable[[], None]:
    """A SIGALRM after ``delay`` seconds whose handler raises KeyboardInterrupt."""

    def handler(signum: int, frame: types.FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, max(delay, 1e-6))

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)

    return cancel


def frames(e: BaseException) -> list[str]:
    return [f.f_code.co_name for f, _ in traceback.walk_tb(e.__traceback__)]


def before_the_loop(e: BaseException) -> bool:
    """Whether ``e`` left ``train`` before its epoch loop's ``try:``."""
    lines, first = inspect.getsourcelines(training.train)
    loop = first + next(i for i, s in enumerate(lines) if s.strip() == "try:")
    at = [
        n for f, n in traceback.walk_tb(e.__traceback__) if f.f_code.co_name == "train"
    ]
    return "prepare" in frames(e) or (bool(at) and at[-1] < loop)


def interrupted_runs(
    make: Callable[[float], Callable[[], None]], run: Callable[[], Any], t: float
) -> Iterator[BaseException | None]:
    """``run()`` interrupted after random delays; yields what it raised."""
    rng = np.random.default_rng(11)  # delays in [0, 0.8 t): most land inside
    for _ in range(N_INTERRUPTS):
        outcome: BaseException | None = None
        gc.disable()  # a handler raising inside a gc callback would be lost
        try:
            cancel = make(float(rng.uniform(0.0, 0.8 * t)))
            try:
                run()
            finally:
                cancel()
            for _ in range(1000):  # let a signal sent just now arrive here
                pass
        except KeyboardInterrupt as e:
            outcome = e
        finally:
            gc.enable()
        yield outcome


def duration(run: Callable[[], Any]) -> float:
    """The shortest of three timings of ``run()``, in seconds."""
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX signals")
@pytest.mark.parametrize("how", ["sigint", "sigalrm"])
@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_interrupts_at_random_moments_keep_a_consistent_state(
    name: str, how: str
) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    x, y = blobs(200)
    p0 = nf.init_params([2, 16, 1], seed=0)
    opt, seen = recording(OPTIMIZERS[name](0.05))
    kw: dict[str, Any] = {"batch_size": 10, "seed": 5, "verbose": False}
    make = sigint_from_a_thread if how == "sigint" else sigalrm_from_the_kernel
    kinds = {"inside": 0, "before": 0, "after": 0}

    def run() -> None:
        seen.clear()
        nf.train(p0, x, y, optimizer=opt, epochs=8, **kw)

    t = duration(run)
    reference = list(seen)
    for e in interrupted_runs(make, run, t):
        if e is None or "train" not in frames(e):
            kinds["after"] += 1  # it finished first; the signal came later
            continue
        if not isinstance(e, TrainingInterrupted):
            # Only an interrupt before the loop starts may escape bare: then
            # there is nothing to keep yet.
            assert before_the_loop(e), "".join(traceback.format_exception(e))
            kinds["before"] += 1
            continue
        kinds["inside"] += 1
        assert str(e).startswith("training interrupted")
        check_good_state(e.params, e.opt_state)
        check_passed_through(e.params, e.opt_state, p0, reference)
        assert len(e.history) == int(e.opt_state["epoch"])
        more = nf.train(
            e.params, x, y, optimizer=OPTIMIZERS[name](0.05), epochs=1,
            opt_state=e.opt_state, **kw,
        )  # fmt: skip
        check_good_state(more.params, more.opt_state)
        assert int(more.opt_state["epoch"]) == int(e.opt_state["epoch"]) + 1
    # (a thread's SIGINT often arrives late: the main thread holds the GIL)
    assert kinds["inside"] >= N_INTERRUPTS // (4 if how == "sigalrm" else 20), kinds
    print(f"{name} {how}: {kinds}")


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX signals")
def test_interrupting_the_fused_sgd_path_hands_back_an_epoch_start() -> None:
    x, y = blobs(200)
    p0 = nf.init_params([2, 16, 1], seed=0)
    kw: dict[str, Any] = {"batch_size": 10, "seed": 5, "verbose": False}
    runs: list[nf.TrainResult] = []
    by_epoch = {0: p0}
    for k in range(1, 9):
        by_epoch[k] = nf.train(p0, x, y, optimizer=nf.sgd(0.05), epochs=k, **kw).params
    inside = 0

    def run() -> None:
        runs.append(nf.train(p0, x, y, optimizer=nf.sgd(0.05), epochs=8, **kw))

    for e in interrupted_runs(sigalrm_from_the_kernel, run, duration(run)):
        if not isinstance(e, TrainingInterrupted):
            continue
        inside += 1
        check_good_state(e.params, e.opt_state)
        epoch = int(e.opt_state["epoch"])
        if int(e.opt_state["count"]) == 20 * epoch:  # an epoch start: exact
            assert same(e.params, by_epoch[epoch])
        else:  # a step within the epoch (the careful path): still resumable
            assert 20 * epoch < int(e.opt_state["count"]) < 20 * (epoch + 1)
    assert inside >= 1
    assert all(math.isfinite(r.history[-1].train_loss) for r in runs)


def test_an_interrupt_before_the_first_epoch_ends_still_attaches_the_epoch() -> None:
    # Outside the epoch's steps (here: in the schedule, read for the epoch's
    # record) the state attached was the optimizer's bare one, without the
    # "epoch" key that resuming reads.
    x, y = blobs(20)
    p0 = nf.init_params([2, 3, 1], seed=0)
    calls = []

    def schedule(step: int) -> float:
        calls.append(step)
        if len(calls) == 3:  # after the epoch's 2 steps: the record's lr
            raise KeyboardInterrupt
        return 0.1

    with pytest.raises(TrainingInterrupted) as info:
        nf.train(
            p0, x, y, optimizer=nf.sgd(schedule), epochs=3, batch_size=10,
            verbose=False,
        )  # fmt: skip
    e = info.value
    check_good_state(e.params, e.opt_state)
    assert int(e.opt_state["epoch"]) == 0
    assert same(e.params, p0)


def test_a_validation_loss_that_overflows_is_a_training_error() -> None:
    # The step left finite params whose validation loss overflowed: the
    # history recorded val_loss=inf and train returned as if all were well.
    p0 = nf.freeze({"W1": np.array([[0.4744492]]), "b1": np.zeros(1)})
    x, y = np.array([[1.0], [0.0]]), np.zeros(2)
    kw: dict[str, Any] = {"output": "identity", "verbose": False}
    with pytest.raises(TrainingError, match="validation loss is NaN or inf") as info:
        nf.train(p0, x, y, optimizer=nf.sgd(1e300), epochs=3, validation=(x, y), **kw)
    e = info.value
    assert (e.epoch, e.step) == (1, None)
    check_good_state(e.params, e.opt_state)
    assert same(e.params, p0)
    assert int(e.opt_state["epoch"]) == 0
    assert e.history == ()
