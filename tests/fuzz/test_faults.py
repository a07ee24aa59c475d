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
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc import _optstate, training
from nnfunc.training import (
    CallbackError,
    EpochRecord,
    TrainingError,
    TrainingFailed,
    TrainingInterrupted,
)
from tests.fuzz.harness import FUZZ_EXAMPLES

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
    """``inner`` with every ``(params, state)`` its steps produce recorded."""
    seen: list[Pair] = []

    def step(p: nf.Params, g: nf.Grads, s: nf.OptState) -> Pair:
        out = inner.step(p, g, s)
        seen.append(out)
        return out

    return nf.Optimizer(inner.init, step, inner.lr), seen


def check_good_state(params: nf.Params, state: nf.OptState) -> None:
    """Finite, read-only params and a state that carries its epoch."""
    assert isinstance(params, nf.Frozen)
    assert params.hidden is not None
    for v in params.values():
        assert np.isfinite(v).all()
        assert not v.flags.writeable
    assert isinstance(state, nf.Frozen)
    assert state["epoch"].dtype == np.int64
    assert int(state["epoch"]) >= 0
    for v in state.values():
        assert np.isfinite(v).all()
        assert not v.flags.writeable


def check_passed_through(
    params: nf.Params, state: nf.OptState, p0: nf.Params, seen: list[Pair]
) -> None:
    """``(params, state)`` is the start, or exactly a pair the run produced.

    ``seen[i]`` is the pair after step ``i + 1``; the state's count says
    which step it is after.
    """
    count = int(state["count"])
    if count == 0:
        assert same(params, p0)
        return
    ref_p, ref_s = seen[count - 1]
    assert same(params, ref_p)
    assert sorted(state) == sorted([*ref_s, "epoch"])
    assert all(same_bits(state[k], ref_s[k]) for k in ref_s)


def same_bits(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def same(a: nf.Params, b: nf.Params) -> bool:
    """The same keys and bits (and the same record, for two values)."""
    if isinstance(a, nf.Frozen) and isinstance(b, nf.Frozen):
        assert (a.hidden, a.output) == (b.hidden, b.output)
    return list(a) == list(b) and all(same_bits(a[k], b[k]) for k in a)


# ---------------------------------------------------------------- diverging


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_diverging_keeps_the_last_finite_state(
    name: str, dtype: type[np.floating[Any]]
) -> None:
    x, y = blobs(32)
    p0 = nf.init_params([2, 8, 1], output="identity", seed=0, dtype=dtype)
    opt, seen = recording(OPTIMIZERS[name](1e160 if dtype == np.float64 else 1e20))
    kw: dict[str, Any] = {"batch_size": 8, "verbose": False}
    with pytest.raises(TrainingError) as info:
        nf.train(p0, 100 * x, 1e3 * y, optimizer=opt, epochs=50, **kw)
    e = info.value
    assert "NaN or inf" in str(e)
    assert "smaller learning rate" in str(e)
    assert e.step is not None  # every step is checked: the step is named
    assert f"epoch {e.epoch}, step {e.step} of 4" in str(e)
    check_good_state(e.params, e.opt_state)
    check_passed_through(e.params, e.opt_state, p0, seen)
    assert int(e.opt_state["count"]) == 4 * (e.epoch - 1) + e.step - 1
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
def test_plain_sgd_diverging_names_the_step_and_keeps_the_state_before_it(
    dtype: type[np.floating[Any]],
) -> None:
    # nf.sgd itself, unwrapped: its steps are checked one by one like any
    # optimizer's (no more "somewhere in this epoch, from its start").
    x, y = blobs(32)
    p0 = nf.init_params([2, 8, 1], output="identity", seed=0, dtype=dtype)
    kw: dict[str, Any] = {"batch_size": 8, "verbose": False}
    with pytest.raises(TrainingError) as info:
        nf.train(p0, 100 * x, 1e3 * y, optimizer=nf.sgd(0.05), epochs=500, **kw)
    e = info.value
    check_good_state(e.params, e.opt_state)
    assert e.step is not None
    steps = int(e.opt_state["count"])
    assert steps == 4 * (e.epoch - 1) + e.step - 1
    opt, seen = recording(nf.sgd(0.05))  # the same arithmetic, step by step
    with pytest.raises(TrainingError):
        nf.train(p0, 100 * x, 1e3 * y, optimizer=opt, epochs=e.epoch, **kw)
    assert len(seen) == steps  # the recorded run stopped at the same step
    check_passed_through(e.params, e.opt_state, p0, seen)


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
    """Deliver a real SIGINT (Ctrl-C) to this process after ``delay`` seconds.

    Python's own handler (KeyboardInterrupt) is installed meanwhile: a
    process started in the background by a shell inherits SIGINT ignored.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()

    def cancel() -> None:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGINT, previous)

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
    """Whether ``e`` left ``train`` before its epoch loop's ``try:``.

    ``train`` prepares, then hands over to ``run_epochs``, whose ``try:``
    guards the loop: an interrupt before that has nothing to keep yet.
    """
    if "run_epochs" not in frames(e):
        return True
    lines, first = inspect.getsourcelines(training.run_epochs)
    loop = first + next(i for i, s in enumerate(lines) if s.strip() == "try:")
    at = [
        n
        for f, n in traceback.walk_tb(e.__traceback__)
        if f.f_code.co_name == "run_epochs"
    ]
    return at[-1] < loop


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
def test_interrupting_plain_sgd_keeps_the_last_completed_step() -> None:
    # nf.sgd itself, unwrapped: an interrupt hands back the state after the
    # last completed step, exactly (no more "the start of the epoch").
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    x, y = blobs(200)
    p0 = nf.init_params([2, 16, 1], seed=0)
    kw: dict[str, Any] = {"batch_size": 10, "seed": 5, "verbose": False}
    opt, reference = recording(nf.sgd(0.05))  # the same arithmetic
    nf.train(p0, x, y, optimizer=opt, epochs=8, **kw)
    runs: list[nf.TrainResult] = []
    inside = mid_epoch = 0

    def run() -> None:
        runs.append(nf.train(p0, x, y, optimizer=nf.sgd(0.05), epochs=8, **kw))

    for e in interrupted_runs(sigalrm_from_the_kernel, run, duration(run)):
        if not isinstance(e, TrainingInterrupted):
            continue
        inside += 1
        check_good_state(e.params, e.opt_state)
        check_passed_through(e.params, e.opt_state, p0, reference)
        epoch, count = int(e.opt_state["epoch"]), int(e.opt_state["count"])
        assert len(e.history) == epoch
        assert 20 * epoch <= count <= 20 * (epoch + 1)
        mid_epoch += 20 * epoch < count
    assert inside >= 1
    assert mid_epoch >= 1, "no interrupt handed back a state within an epoch"
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
    assert same(e.params, dict(p0))
    assert (e.params.hidden, e.params.output) == ("relu", "identity")
    assert int(e.opt_state["epoch"]) == 0
    assert e.history == ()


# ------------------------------------------- any other exception after start

FAULT_OPTIMIZERS: dict[str, tuple[Callable[[Any], nf.Optimizer], float | None]] = {
    "sgd": (nf.sgd, None),
    "adam": (nf.adam, None),
    "sgd+clip_norm": (nf.sgd, 0.5),
}

#: What each fault raises: a schedule gone negative (its value's check), a
#: schedule dividing by zero, a custom step.
CAUSES: dict[str, type[BaseException]] = {
    "negative": ValueError,
    "zero": ZeroDivisionError,
    "step": RuntimeError,
}


def faulty(
    kind: str, make: Callable[[Any], nf.Optimizer], at: int, fail: bool = True
) -> nf.Optimizer:
    """An optimizer whose step ``at`` (0-based) fails, and only that one.

    ``negative``: the schedule ``0.1 (1 - t / (at - 1))`` is 0 at step
    ``at - 1`` and negative past it; ``zero``: the schedule divides by zero
    at step ``at``; ``step``: a custom step raises at step ``at``. With
    ``fail=False``, the same optimizer without the fault (for the steps
    before ``at``: the same arithmetic, recorded).
    """
    if kind == "negative" and fail:
        return make(lambda t: 0.1 * (1 - t / (at - 1)))
    if kind == "negative":
        return make(lambda t: max(0.0, 0.1 * (1 - t / (at - 1))))
    if kind == "zero" and fail:
        return make(lambda t: 0.05 + 0 / (at - t))  # 0.05 exactly, but at ``at``
    inner = make(0.05)
    if kind == "zero" or not fail:
        return inner

    def step(p: nf.Params, g: nf.Grads, s: nf.OptState) -> Pair:
        if int(s["count"]) == at:
            raise RuntimeError("from the step")
        return inner.step(p, g, s)

    return nf.Optimizer(inner.init, step, inner.lr)


@settings(max_examples=max(6, FUZZ_EXAMPLES // 5), deadline=None)
@given(
    name=st.sampled_from(sorted(FAULT_OPTIMIZERS)),
    kind=st.sampled_from(sorted(CAUSES)),
    at=st.integers(2, 40),
)
@example(name="sgd", kind="negative", at=101)  # 0.1 (1 - t / 100), past 100
@example(name="adam", kind="zero", at=3)
@example(name="sgd+clip_norm", kind="step", at=9)
def test_any_exception_after_the_start_carries_the_last_good_state(
    name: str, kind: str, at: int
) -> None:
    # A schedule that goes negative or raises, or a custom step that
    # raises: a TrainingFailed with the state after the last completed step,
    # the finished epochs' history, and the original error chained.
    x, y = blobs(12)
    p0 = nf.init_params([2, 4, 1], seed=2)
    make, clip = FAULT_OPTIMIZERS[name]
    kw: dict[str, Any] = {"batch_size": 4, "seed": 1, "clip_norm": clip}
    epochs = at // 3 + 2  # 3 steps an epoch: past step ``at``
    with pytest.raises(TrainingFailed) as info:
        nf.train(p0, x, y, optimizer=faulty(kind, make, at), epochs=epochs, **kw)
    e = info.value
    assert type(e) is TrainingFailed
    assert isinstance(e.__cause__, CAUSES[kind])
    assert f"training failed at epoch {at // 3 + 1}, step {at % 3 + 1} of 3" in str(e)
    check_good_state(e.params, e.opt_state)
    assert int(e.opt_state["count"]) == at
    assert len(e.history) == int(e.opt_state["epoch"]) == at // 3
    assert [r.epoch for r in e.history] == list(range(1, at // 3 + 1))
    opt, seen = recording(faulty(kind, make, at, fail=False))
    nf.train(p0, x, y, optimizer=opt, epochs=at // 3 + 1, **kw)
    check_passed_through(e.params, e.opt_state, p0, seen)
    more = nf.train(  # and it resumes
        e.params, x, y, optimizer=make(0.01), epochs=1, opt_state=e.opt_state, **kw
    )
    assert int(more.opt_state["epoch"]) == at // 3 + 1


def test_a_schedule_gone_negative_names_its_step() -> None:
    x, y = blobs(12)
    p0 = nf.init_params([2, 4, 1], seed=2)
    with pytest.raises(TrainingFailed, match=r"lr\(101\)") as info:
        nf.train(
            p0, x, y, optimizer=nf.sgd(lambda t: 0.1 * (1 - t / 100)), epochs=40,
            batch_size=4,
        )  # fmt: skip
    e = info.value
    assert isinstance(e.__cause__, ValueError)
    assert int(e.opt_state["count"]) == 101
    assert len(e.history) == 33


class BrokenStderr:
    """A stderr whose reader went away (``train ... | head`` after head exits)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def isatty(self) -> bool:
        return False


def test_progress_output_to_a_closed_pipe_keeps_the_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x, y = blobs(20)
    p0 = nf.init_params([2, 3, 1], seed=0)
    kw: dict[str, Any] = {"optimizer": nf.adam(0.01), "batch_size": 5}
    monkeypatch.setattr(sys, "stderr", BrokenStderr())
    with pytest.raises(TrainingFailed) as info:
        nf.train(p0, x, y, epochs=3, verbose=True, **kw)
    monkeypatch.undo()
    e = info.value
    assert type(e) is TrainingFailed
    assert isinstance(e.__cause__, BrokenPipeError)
    assert "BrokenPipeError" in str(e)
    check_good_state(e.params, e.opt_state)
    one = nf.train(p0, x, y, epochs=1, verbose=False, **kw)  # printed after it
    assert same(e.params, one.params)
    assert same(e.opt_state, one.opt_state)
    assert len(e.history) == 1


def test_an_error_at_the_first_step_hands_back_copies_never_the_callers() -> None:
    x, y = blobs(16)
    mine = nf.to_dict(nf.init_params([2, 8, 1], seed=0))  # plain, writable
    before = {k: v.copy() for k, v in mine.items()}
    with pytest.raises(TrainingError) as info:
        nf.train(
            mine, 100 * x, 1e3 * y, optimizer=nf.sgd(1e307), epochs=2, batch_size=16,
            hidden="tanh", output="identity", verbose=False,
        )  # fmt: skip
    e = info.value
    assert (e.epoch, e.step) == (1, 1)
    assert e.history == ()
    assert isinstance(e.params, nf.Frozen)
    assert (e.params.hidden, e.params.output) == ("tanh", "identity")
    check_good_state(e.params, e.opt_state)
    for k, v in mine.items():
        assert not np.shares_memory(e.params[k], v)
        assert same_bits(e.params[k], before[k])
        assert v.flags.writeable  # the caller's arrays, untouched
        assert same_bits(v, before[k])
    mine["W1"][0, 0] = 123.0  # the caller writes on: the error's copy stays
    assert same_bits(e.params["W1"], before["W1"])


def test_adam_with_an_l2_that_overflows_is_a_training_error() -> None:
    # v = (1 - beta2) g^2 overflows although the loss and the gradient are
    # finite: never an Adam state holding inf.
    x, y = np.array([[0.5, -0.5], [1.0, 0.0]]), np.array([0.0, 1.0])
    p0 = nf.init_params([2, 2, 1], seed=0)
    with pytest.raises(TrainingError) as info:
        nf.train(p0, x, y, optimizer=nf.adam(1e-3), epochs=1, l2=1e300)
    e = info.value
    assert (e.epoch, e.step) == (1, 1)
    check_good_state(e.params, e.opt_state)
    assert same(e.params, p0)
    assert int(e.opt_state["count"]) == 0


def test_an_interrupt_while_the_result_is_built_keeps_the_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The final result (the state with its "epoch", the history as a tuple)
    # is built after the last epoch; an interrupt there escaped bare.
    x, y = blobs(20)
    p0 = nf.init_params([2, 3, 1], seed=0)
    kw: dict[str, Any] = {"optimizer": nf.adam(0.01), "batch_size": 5}
    calls: list[int] = []
    real = _optstate.with_epoch

    def interrupted(state: Any, epoch: int) -> Any:
        calls.append(epoch)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(state, epoch)

    monkeypatch.setattr(training, "with_epoch", interrupted)
    outcome: BaseException | None = None
    try:
        nf.train(p0, x, y, epochs=3, **kw)
    except KeyboardInterrupt as caught:  # (a bare one would end the session)
        outcome = caught
    monkeypatch.undo()
    assert isinstance(outcome, TrainingInterrupted), "a bare KeyboardInterrupt"
    e = outcome
    assert calls[0] == 3  # it came while the result was built
    check_good_state(e.params, e.opt_state)
    whole = nf.train(p0, x, y, epochs=3, **kw)
    assert same(e.params, whole.params)
    assert same(e.opt_state, whole.opt_state)
    assert len(e.history) == 3
