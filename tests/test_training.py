"""The training loop: learning, resuming bit for bit, early stopping, faults."""

import math
import multiprocessing
import pickle
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pytest

import nnfunc as nf
from nnfunc.adaptive import adam
from nnfunc.metrics import accuracy
from nnfunc.optim import Optimizer, momentum, sgd
from nnfunc.training import (
    CallbackError,
    EpochRecord,
    TrainingError,
    TrainingFailed,
    TrainingInterrupted,
    TrainResult,
    train,
)

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])

Pair = tuple[nf.Params, nf.OptState]


def spirals3(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three spiral arms in the plane (as in Stanford's CS231n notes), labels 0-2."""
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), 3)
    t = np.concatenate([np.linspace(4 * c, 4 * c + 4, n_per_class) for c in range(3)])
    t += 0.2 * rng.standard_normal(t.size)
    c = np.repeat(np.arange(3), n_per_class)
    return np.stack([r * np.sin(t), r * np.cos(t)], axis=1), c


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return rng.standard_normal((n, 2)) + 1.5 * y[:, None], y.astype(np.float64)


def same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal keys in the same order, bit-identical arrays, the same record."""
    if (
        isinstance(a, nf.Frozen)
        and isinstance(b, nf.Frozen)
        and (a.hidden, a.output) != (b.hidden, b.output)
    ):
        return False
    return list(a) == list(b) and all(
        a[k].dtype == b[k].dtype
        and a[k].shape == b[k].shape
        and a[k].tobytes() == b[k].tobytes()
        for k in a
    )


def same_state(a: nf.OptState, b: nf.OptState) -> bool:
    """The same optimizer state, ignoring train's ``"epoch"`` counter."""
    return same(
        {k: v for k, v in a.items() if k != "epoch"},
        {k: v for k, v in b.items() if k != "epoch"},
    )


def recording(inner: Optimizer) -> tuple[Optimizer, list[Pair]]:
    """``inner`` with every ``(params, state)`` its steps produce recorded."""
    seen: list[Pair] = []

    def step(p: nf.Params, g: nf.Grads, s: nf.OptState) -> Pair:
        out = inner.step(p, g, s)
        seen.append(out)
        return out

    return Optimizer(inner.init, step, inner.lr), seen


def read_only(value: Mapping[str, Any]) -> bool:
    return isinstance(value, nf.Frozen) and all(
        not a.flags.writeable and (a.base is None or not a.base.flags.writeable)
        for a in value.values()
    )


def test_learns_xor_with_the_loop() -> None:
    p0 = nf.init_params([2, 4, 1], hidden="tanh", seed=0)
    p, _, history = train(
        p0, XOR_X, XOR_Y, optimizer=sgd(0.5), epochs=2000, batch_size=4
    )
    assert p.hidden == "tanh"
    assert nf.predict(p, XOR_X).tolist() == [0, 1, 1, 0]
    assert history[-1].train_loss < 0.05 < history[0].train_loss


def test_learns_three_class_spirals() -> None:
    x, y = spirals3(1000, seed=0)
    xv, yv = spirals3(300, seed=1)
    p0 = nf.init_params([2, 64, 64, 3], output="softmax", seed=0, init="he")
    t0 = time.perf_counter()
    p, state, history = train(
        p0, x, y, optimizer=adam(0.01), epochs=40, batch_size=64,
        validation=(xv, yv), verbose=False,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    acc = accuracy(yv, nf.predict(p, xv))
    print(f"3-class spirals, 3000 points, 40 epochs: {acc:.1%} in {seconds:.2f}s")
    assert history[-1].val_accuracy == pytest.approx(acc)
    assert acc > 0.95
    assert history[-1].train_loss < 0.5 * history[0].train_loss
    assert int(state["epoch"]) == 40
    assert int(state["count"]) == 40 * math.ceil(3000 / 64)


OPTIMIZERS: dict[str, Callable[[], Optimizer]] = {
    "sgd": lambda: sgd(0.3),
    "sgd-schedule": lambda: sgd(lambda t: 0.5 / (1.0 + 0.01 * t)),
    "nesterov": lambda: momentum(0.05, beta=0.9, nesterov=True),
    "adam": lambda: adam(0.01),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resume_equals_an_uninterrupted_run_bit_for_bit(name: str, dtype: type) -> None:
    x, y = blobs(90, seed=0)
    kw: dict[str, Any] = {
        "batch_size": 16, "seed": 7, "dropout": 0.3, "l2": 1e-3,
        "clip_norm": 1.0, "validation": (x[:20], y[:20]), "verbose": False,
    }  # fmt: skip
    p0 = nf.init_params([2, 8, 8, 1], hidden="tanh", seed=1, dtype=dtype)
    opt = OPTIMIZERS[name]
    whole = train(p0, x, y, optimizer=opt(), epochs=5, **kw)
    first = train(p0, x, y, optimizer=opt(), epochs=2, **kw)
    second = train(
        first.params, x, y, optimizer=opt(), epochs=3, opt_state=first.opt_state, **kw
    )
    assert same(second.params, whole.params)
    assert same(second.opt_state, whole.opt_state)
    assert second.params == whole.params
    assert whole.params["W1"].dtype == dtype
    assert whole.params.hidden == "tanh"
    strip = [r._replace(seconds=0.0) for r in (*first.history, *second.history)]
    assert strip == [r._replace(seconds=0.0) for r in whole.history]
    assert [r.epoch for r in second.history] == [3, 4, 5]
    # resuming from a plain-dict copy of the state is the same run
    third = train(
        first.params, x, y, optimizer=opt(), epochs=3,
        opt_state=nf.to_dict(first.opt_state), **kw,
    )  # fmt: skip
    assert same(third.params, whole.params)
    # and a different seed is a different run
    other = train(p0, x, y, optimizer=opt(), epochs=2, **{**kw, "seed": 8})
    assert not same(other.params, first.params)


def test_outputs_read_only_inputs_unchanged_and_dtype_kept() -> None:
    x, y = blobs(40, seed=0)
    x32 = x.astype(np.float32)
    p0 = nf.to_dict(nf.init_params([2, 5, 1], seed=0, dtype=np.float32))
    x_copy, y_copy, p0_copy = x32.copy(), y.copy(), {k: v.copy() for k, v in p0.items()}
    result = train(
        p0, x32, y, optimizer=adam(0.01), epochs=2, batch_size=8, verbose=False
    )
    assert isinstance(result, TrainResult)
    p, state, history = result
    np.testing.assert_array_equal(x32, x_copy)
    np.testing.assert_array_equal(y, y_copy)
    assert same(p0, p0_copy)
    assert all(v.flags.writeable for v in p0.values())  # caller's flags untouched
    for mapping in (p, state):
        assert isinstance(mapping, nf.Frozen)
        assert read_only(mapping)
        with pytest.raises(TypeError):
            mapping["W1"] = np.zeros(1)  # type: ignore[index]
    assert not any(np.shares_memory(p[k], p0[k]) for k in p0)
    assert {v.dtype for v in p.values()} == {np.dtype(np.float32)}
    assert state["epoch"].dtype == np.int64
    assert state["epoch"].shape == ()
    assert isinstance(history, tuple)
    assert isinstance(history[0], EpochRecord)
    assert isinstance(history[0].train_loss, float)


def test_the_state_feeds_the_optimizers_step_function() -> None:
    x, y = blobs(20, seed=0)
    p0 = nf.init_params([2, 3, 1], seed=0)
    r = train(p0, x, y, optimizer=adam(0.01), epochs=2, batch_size=10)
    p1, s1 = nf.adam_step(r.params, nf.grads(r.params, x, y), r.opt_state, lr=0.01)
    assert int(s1["count"]) == int(r.opt_state["count"]) + 1
    assert int(s1["epoch"]) == 2  # kept by the step
    assert p1.hidden == "relu"


def test_history_records_lr_and_validation() -> None:
    x, y = blobs(64, seed=0)
    p0 = nf.init_params([2, 4, 1], seed=0)
    schedule = lambda t: 1.0 / (1 + t)  # noqa: E731
    _, _, h = train(
        p0, x, y, optimizer=sgd(schedule), epochs=3, batch_size=16, verbose=False
    )
    assert [r.lr for r in h] == [1 / 4, 1 / 8, 1 / 12]  # steps 3, 7, 11
    assert h[0].val_loss is None
    assert h[0].val_accuracy is None
    _, _, h = train(
        p0, x, y, optimizer=sgd(0.1), epochs=1, validation=(x, y), verbose=False
    )
    assert h[0].lr == 0.1
    assert h[0].val_loss == pytest.approx(nf.loss(_last(p0, x, y), x, y))
    unrecorded = nf.freeze(dict(p0))  # no record: output may be chosen
    _, _, h = train(
        unrecorded, x, y, optimizer=sgd(0.1), epochs=1, validation=(x, y),
        output="identity", verbose=False,
    )  # fmt: skip
    assert h[0].val_loss is not None
    assert h[0].val_accuracy is None
    # a custom optimizer reports its lr field, a float or a schedule's value
    inner = sgd(0.1)
    custom = Optimizer(inner.init, lambda p, g, s: inner.step(p, g, s), 0.1)
    _, _, h = train(p0, x, y, optimizer=custom, epochs=1, verbose=False)
    assert h[0].lr == 0.1
    assert isinstance(h[0].lr, float)
    inner = sgd(schedule)
    custom = Optimizer(inner.init, lambda p, g, s: inner.step(p, g, s), schedule)
    _, _, h = train(p0, x, y, optimizer=custom, epochs=2, batch_size=16)
    assert [r.lr for r in h] == [1 / 4, 1 / 8]
    assert all(isinstance(r.lr, float) for r in h)


def _last(p0: nf.Params, x: np.ndarray, y: np.ndarray) -> nf.Params:
    return train(p0, x, y, optimizer=sgd(0.1), epochs=1, verbose=False).params


def test_drop_last_takes_only_full_batches() -> None:
    x, y = blobs(50, seed=0)
    p0 = nf.init_params([2, 3, 1], seed=0)
    _, s, _ = train(
        p0, x, y, optimizer=sgd(0.1), epochs=2, batch_size=16, drop_last=True
    )
    assert int(s["count"]) == 2 * 3
    _, s, _ = train(p0, x, y, optimizer=sgd(0.1), epochs=2, batch_size=16)
    assert int(s["count"]) == 2 * 4


def test_early_stopping_restores_the_best_epoch() -> None:
    # the validation targets are the training targets flipped: the better the
    # network fits, the worse the validation loss, after an early best epoch
    x, y = blobs(64, seed=0)
    p0 = nf.init_params([2, 8, 1], seed=0)
    kw: dict[str, Any] = {"optimizer": sgd(0.3), "batch_size": 16, "verbose": False}
    p, state, history = train(
        p0, x, y, epochs=50, validation=(x, 1.0 - y), patience=3, **kw
    )
    losses = [r.val_loss for r in history if r.val_loss is not None]
    best = int(np.argmin(losses)) + 1
    assert len(history) == best + 3 < 50  # stopped after 3 epochs without progress
    at_best = train(p0, x, y, epochs=best, **kw)
    assert same(p, at_best.params)
    assert same(state, at_best.opt_state)
    last, _, _ = train(
        p0,
        x,
        y,
        epochs=50,
        validation=(x, 1.0 - y),
        patience=3,
        restore_best=False,
        **kw,
    )
    assert same(last, train(p0, x, y, epochs=best + 3, **kw).params)


# ------------------------------------------------------------------ records


def test_train_records_the_architecture_on_its_params() -> None:
    x, y = blobs(20, seed=0)
    kw: dict[str, Any] = {"optimizer": sgd(0.1), "epochs": 2, "batch_size": 5}
    plain = nf.to_dict(nf.init_params([2, 4, 1], seed=0))  # no record
    r = train(plain, x, y, hidden="tanh", output="identity", **kw)
    assert isinstance(r.params, nf.Frozen)
    assert (r.params.hidden, r.params.output) == ("tanh", "identity")
    z = nf.forward(r.params, x)  # the record runs the params
    bare = nf.to_dict(r.params)
    np.testing.assert_array_equal(
        z, nf.forward(bare, x, hidden="tanh", output="identity")
    )
    assert not np.array_equal(z, nf.forward(bare, x))  # relu/sigmoid differ
    np.testing.assert_array_equal(
        nf.predict(r.params, x), nf.predict(r.params, x, hidden="tanh")
    )
    # None takes the record, also a per-layer one; resuming keeps it
    rec = nf.init_params([2, 3, 3, 1], hidden=("tanh", "elu"), output="identity")
    r2 = train(rec, x, y, **kw)
    assert (r2.params.hidden, r2.params.output) == (rec.hidden, "identity")
    explicit = train(
        nf.to_dict(rec), x, y, hidden=["tanh", "elu"], output="identity", **kw
    )
    assert same(explicit.params, r2.params)
    r3 = train(r2.params, x, y, opt_state=r2.opt_state, **kw)
    assert (r3.params.hidden, r3.params.output) == (rec.hidden, "identity")
    np.testing.assert_array_equal(
        nf.predict(r3.params, x),
        nf.predict(r3.params, x, hidden=("tanh", "elu"), output="identity"),
    )


def test_an_argument_that_contradicts_the_record_is_a_value_error() -> None:
    x, y = blobs(20, seed=0)
    p0 = nf.init_params([2, 3, 1], hidden="relu", seed=0)
    kw: dict[str, Any] = {"optimizer": sgd(0.1), "epochs": 1}
    with pytest.raises(
        ValueError,
        match=r"hidden='tanh' contradicts the params, which record hidden='relu'",
    ):
        train(p0, x, y, hidden="tanh", **kw)
    with pytest.raises(
        ValueError,
        match=r"output='identity' contradicts the params, which record "
        r"output='sigmoid'",
    ):
        train(p0, x, y, output="identity", **kw)
    agreed = train(p0, x, y, hidden="relu", output="sigmoid", **kw)
    assert same(agreed.params, train(p0, x, y, **kw).params)


# ------------------------------------------------------------------- faults


def diverging_run() -> TrainResult:
    """A tiny run that diverges after a few epochs (also run in a worker)."""
    x, y = blobs(32, seed=0)
    p0 = nf.init_params([2, 16, 1], output="identity", seed=0)
    return train(
        p0, 100 * x, 1e3 * y, optimizer=sgd(0.2), epochs=200, batch_size=32,
        verbose=False,
    )  # fmt: skip


def test_diverging_run_raises_with_the_last_finite_state() -> None:
    with pytest.raises(TrainingError) as info:  # no RuntimeWarning before it
        diverging_run()
    e = info.value
    assert isinstance(e, FloatingPointError)
    assert e.epoch > 2
    assert e.step == 1
    assert f"epoch {e.epoch}, step 1 of 1" in str(e)
    assert "smaller learning rate" in str(e)
    assert len(e.history) == e.epoch - 1 == int(e.opt_state["epoch"])
    assert all(np.isfinite(v).all() for v in e.params.values())
    assert read_only(e.params)
    assert read_only(e.opt_state)
    x, y = blobs(32, seed=0)
    p0 = nf.init_params([2, 16, 1], output="identity", seed=0)
    before = train(
        p0, 100 * x, 1e3 * y, optimizer=sgd(0.2), epochs=e.epoch - 1, batch_size=32
    )
    assert same(e.params, before.params)
    assert same(e.opt_state, before.opt_state)
    assert e.result == (e.params, e.opt_state, e.history)


def test_diverging_minibatch_run_names_the_step() -> None:
    x, y = blobs(64, seed=0)
    p0 = nf.init_params([2, 16, 1], output="identity", seed=0)
    with pytest.raises(TrainingError, match=r"epoch \d+, step \d+ of 8") as info:
        train(p0, 1e3 * x, 1e6 * y, optimizer=sgd(1.0), epochs=50, batch_size=8,
              verbose=False)  # fmt: skip
    assert all(np.isfinite(v).all() for v in info.value.params.values())


def test_an_update_that_overflows_names_its_step_and_keeps_the_one_before() -> None:
    # Every step's result is checked: an update that overflows is found at
    # that very step (plain sgd included), and the state attached is the
    # one before it, exactly.
    x, y = blobs(16, seed=0)
    p0 = nf.init_params([2, 8, 1], output="identity", seed=0)
    kw: dict[str, Any] = {"batch_size": 4, "seed": 2, "verbose": False}

    def schedule(t: int) -> float:
        return 1e307 if t == 9 else 1e-3  # step 10: epoch 3, step 2 of 4

    with pytest.raises(TrainingError) as info:
        train(p0, x, 100 * y, optimizer=sgd(schedule), epochs=5, **kw)
    e = info.value
    assert (e.epoch, e.step) == (3, 2)
    assert "the update at epoch 3, step 2 of 4 would make" in str(e)
    assert "overflowed with lr=1e+307" in str(e.__cause__)
    assert int(e.opt_state["count"]) == 9
    assert int(e.opt_state["epoch"]) == 2 == len(e.history)
    opt, seen = recording(sgd(1e-3))
    train(p0, x, 100 * y, optimizer=opt, epochs=3, **kw)
    assert same(e.params, seen[8][0])
    assert same_state(e.opt_state, seen[8][1])


def test_callback_sees_each_epoch_and_its_error_keeps_the_state() -> None:
    x, y = blobs(40, seed=0)
    p0 = nf.init_params([2, 4, 1], seed=0)
    kw: dict[str, Any] = {"optimizer": adam(0.01), "batch_size": 8, "verbose": False}
    seen: list[tuple[int, nf.Params]] = []
    train(p0, x, y, epochs=3, callback=lambda r, p: seen.append((r.epoch, p)), **kw)
    assert [e for e, _ in seen] == [1, 2, 3]

    def fail(record: EpochRecord, params: nf.Params) -> None:
        if record.epoch == 2:
            raise ValueError("enough")

    with pytest.raises(CallbackError, match="ValueError after epoch 2") as info:
        train(p0, x, y, epochs=5, callback=fail, **kw)
    assert isinstance(info.value, TrainingFailed)
    assert isinstance(info.value.__cause__, ValueError)
    two = train(p0, x, y, epochs=2, **kw)
    assert same(info.value.params, two.params)
    assert same(info.value.opt_state, two.opt_state)
    assert len(info.value.history) == 2


def test_system_exit_passes_through() -> None:
    x, y = blobs(20, seed=0)
    p0 = nf.init_params([2, 3, 1], seed=0)

    def leave(record: EpochRecord, params: nf.Params) -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit) as info:
        train(p0, x, y, optimizer=sgd(0.1), epochs=3, callback=leave)
    assert type(info.value) is SystemExit
    assert info.value.code == 3


def test_keyboard_interrupt_from_the_callback_keeps_the_state() -> None:
    x, y = blobs(40, seed=0)
    p0 = nf.init_params([2, 4, 1], seed=0)
    kw: dict[str, Any] = {"optimizer": sgd(0.1), "batch_size": 8, "verbose": False}
    original = KeyboardInterrupt()

    def interrupt(record: EpochRecord, params: nf.Params) -> None:
        if record.epoch == 3:
            raise original

    with pytest.raises(KeyboardInterrupt) as info:
        train(p0, x, y, epochs=5, callback=interrupt, **kw)
    e = info.value
    assert isinstance(e, TrainingInterrupted)
    assert e.__cause__ is original
    assert same(e.params, train(p0, x, y, epochs=3, **kw).params)
    assert int(e.opt_state["epoch"]) == 3 == len(e.history)


def test_keyboard_interrupt_in_a_custom_step_keeps_the_last_step() -> None:
    x, y = blobs(40, seed=0)
    p0 = nf.init_params([2, 4, 1], seed=0)
    inner = sgd(0.1)
    outputs: list[nf.Params] = []

    def step(p: nf.Params, g: nf.Grads, s: nf.OptState) -> Pair:
        if len(outputs) == 7:  # the 8th step, in the 2nd epoch of 5 steps
            raise KeyboardInterrupt
        new = inner.step(p, g, s)
        outputs.append(new[0])
        return new

    opt = Optimizer(inner.init, step, inner.lr)
    with pytest.raises(TrainingInterrupted, match="epoch 2, step 3 of 5") as info:
        train(p0, x, y, optimizer=opt, epochs=3, batch_size=8, verbose=False)
    e = info.value
    assert e.params is outputs[-1]
    assert int(e.opt_state["count"]) == 7
    assert int(e.opt_state["epoch"]) == 1
    assert len(e.history) == 1


def plain_sgd(lr: float, strict: bool = False) -> Optimizer:
    """A custom optimizer on plain dicts: ``p - lr g``, a count in its state.

    ``strict``: its step refuses a state with keys its init did not make.
    """

    def init(p: nf.Params) -> dict[str, np.ndarray]:
        return {"count": np.array(0)}

    def step(
        p: nf.Params, g: nf.Grads, s: nf.OptState
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        if strict and set(s) != {"count"}:
            raise KeyError(f"unexpected state keys {sorted(s)}")
        new = {k: p[k] - lr * g[k] for k in p}
        return new, {"count": np.array(int(s["count"]) + 1)}

    return Optimizer(init, step, lr)


def test_a_custom_optimizer_sees_only_its_own_state_and_resumes_bit_for_bit() -> None:
    # train keeps "epoch" itself: a resumed run's steps see the keys init made
    x, y = blobs(30, seed=0)
    p0 = nf.init_params([2, 4, 1], hidden="tanh", seed=0)
    kw: dict[str, Any] = {"batch_size": 8, "seed": 1, "dropout": 0.2}
    whole = train(p0, x, y, optimizer=plain_sgd(0.1, strict=True), epochs=4, **kw)
    first = train(p0, x, y, optimizer=plain_sgd(0.1, strict=True), epochs=1, **kw)
    rest = train(
        first.params, x, y, optimizer=plain_sgd(0.1, strict=True), epochs=3,
        opt_state=first.opt_state, **kw,
    )  # fmt: skip
    assert same(rest.params, whole.params)
    assert same(rest.opt_state, whole.opt_state)
    assert list(whole.opt_state) == ["count", "epoch"]
    assert rest.params.hidden == "tanh"
    assert read_only(rest.params)
    assert read_only(rest.opt_state)
    # the same arithmetic as nf.sgd, on plain dicts
    library = train(p0, x, y, optimizer=sgd(0.1), epochs=4, **kw)
    assert same(whole.params, library.params)


def test_a_custom_optimizer_returning_nan_is_a_training_error() -> None:
    # Its plain mappings are checked as the library's own results are: a
    # non-finite result is a TrainingError naming the step, not a failure.
    x, y = blobs(16, seed=0)
    p0 = nf.init_params([2, 8, 1], output="identity", seed=0)
    inner = plain_sgd(1e-3)
    calls: list[int] = []

    def step(p: nf.Params, g: nf.Grads, s: nf.OptState) -> Any:
        calls.append(1)
        if len(calls) == 6:  # epoch 2, step 2 of 4
            return {k: np.full_like(p[k], np.nan) for k in p}, s
        return inner.step(p, g, s)

    opt = Optimizer(inner.init, step, inner.lr)
    with pytest.raises(TrainingError, match="epoch 2, step 2 of 4") as info:
        train(p0, x, y, optimizer=opt, epochs=3, batch_size=4, verbose=False)
    e = info.value
    assert (e.epoch, e.step) == (2, 2)
    assert "returned params whose 'W1' holds NaN" in str(e.__cause__)
    assert int(e.opt_state["count"]) == 5
    assert all(np.isfinite(v).all() for v in e.params.values())


@pytest.mark.parametrize(
    "make",
    [sgd, lambda lr: momentum(lr, beta=0.9), adam],
    ids=["sgd", "momentum", "adam"],
)
def test_keyboard_interrupt_mid_epoch_keeps_the_last_step_for_every_optimizer(
    make: Callable[[Any], Optimizer],
) -> None:
    # Plain sgd too: the state after the 7th step, not the epoch's start.
    x, y = blobs(40, seed=0)
    p0 = nf.init_params([2, 4, 1], seed=0)
    kw: dict[str, Any] = {"batch_size": 8, "seed": 4, "verbose": False}

    def schedule(t: int) -> float:
        if t == 7:  # the 8th step, in the 2nd epoch of 5 steps
            raise KeyboardInterrupt
        return 0.05

    with pytest.raises(TrainingInterrupted, match="epoch 2, step 3 of 5") as info:
        train(p0, x, y, optimizer=make(schedule), epochs=3, **kw)
    e = info.value
    assert isinstance(e.__cause__, KeyboardInterrupt)
    assert int(e.opt_state["count"]) == 7
    assert int(e.opt_state["epoch"]) == 1 == len(e.history)
    opt, seen = recording(make(0.05))
    train(p0, x, y, optimizer=opt, epochs=2, **kw)
    assert same(e.params, seen[6][0])
    assert same_state(e.opt_state, seen[6][1])
    assert not same(e.params, seen[4][0])  # not the epoch's start
    more = train(e.params, x, y, optimizer=make(0.05), epochs=1, opt_state=e.opt_state)
    assert int(more.opt_state["epoch"]) == 2


def test_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    x, y = blobs(20, seed=0)
    p0 = nf.init_params([2, 3, 1], seed=0)
    kw: dict[str, Any] = {"optimizer": sgd(0.1), "epochs": 3, "validation": (x, y)}
    train(p0, x, y, verbose=False, **kw)
    train(p0, x, y, **kw)  # None: stderr is not a terminal under capsys
    assert capsys.readouterr() == ("", "")
    train(p0, x, y, verbose=True, **kw)
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == ""
    assert len(lines) == 2  # first and last epoch; a log gets at most one per 10 s
    assert lines[0].startswith("epoch 1/3  loss ")
    assert "val_loss" in lines[0]
    assert "val_acc" in lines[0]
    assert lines[1].startswith("epoch 3/3  loss ")
    assert lines[1].endswith("s elapsed")


def test_opt_state_without_epoch_starts_at_epoch_one() -> None:
    x, y = blobs(20, seed=0)
    p0 = nf.init_params([2, 3, 1], seed=0)
    opt = adam(0.01)
    _, s, h = train(p0, x, y, optimizer=opt, epochs=1, opt_state=opt.init(p0))
    assert h[0].epoch == 1
    assert int(s["epoch"]) == 1


# ------------------------------------------------------------ pickle, pools


def test_results_and_records_pickle_as_values() -> None:
    x, y = blobs(20, seed=0)
    p0 = nf.init_params([2, 3, 1], hidden="tanh", seed=0)
    r = train(p0, x, y, optimizer=adam(0.01), epochs=2, validation=(x, y))
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        back = pickle.loads(pickle.dumps(r, protocol=protocol))
        assert type(back) is TrainResult
        assert back == r
        assert same(back.params, r.params)
        assert same(back.opt_state, r.opt_state)
        assert read_only(back.params)
        assert read_only(back.opt_state)
        assert back.params.hidden == "tanh"
        assert all(type(h) is EpochRecord for h in back.history)
        assert back.history == r.history
        record = pickle.loads(pickle.dumps(r.history[0], protocol=protocol))
        assert type(record) is EpochRecord
        assert record == r.history[0]


@pytest.fixture(scope="module")
def stops() -> dict[str, BaseException]:
    """One real exception of each kind that ``train`` raises after its start."""
    x, y = blobs(20, seed=0)
    p0 = nf.init_params([2, 3, 1], seed=0)
    kw: dict[str, Any] = {"epochs": 4, "batch_size": 5, "verbose": False}
    out: dict[str, BaseException] = {}

    def callback(error: BaseException) -> Callable[[EpochRecord, nf.Params], None]:
        def call(record: EpochRecord, params: nf.Params) -> None:
            if record.epoch == 2:
                raise error

        return call

    def schedule(t: int) -> float:
        if t == 6:
            raise ZeroDivisionError("from the schedule")
        return 0.1

    try:
        diverging_run()
    except TrainingError as e:
        out["TrainingError"] = e
    for name, error, opt in [
        ("TrainingInterrupted", KeyboardInterrupt(), adam(0.01)),
        ("CallbackError", ValueError("from the callback"), adam(0.01)),
        ("TrainingFailed", None, adam(schedule)),
    ]:
        try:
            cb = None if error is None else callback(error)
            train(p0, x, y, optimizer=opt, callback=cb, **kw)
        except (TrainingInterrupted, TrainingFailed) as e:
            out[name] = e
    assert sorted(out) == sorted(type(e).__name__ for e in out.values())
    return out


@pytest.mark.parametrize(
    "name", ["CallbackError", "TrainingError", "TrainingFailed", "TrainingInterrupted"]
)
def test_every_stop_pickles_with_its_state(
    stops: dict[str, BaseException], name: str
) -> None:
    e = stops[name]
    assert isinstance(e, TrainingError | TrainingInterrupted | TrainingFailed)
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        back = pickle.loads(pickle.dumps(e, protocol=protocol))
        assert type(back) is type(e)
        assert str(back) == str(e)
        assert back.params == e.params
        assert back.opt_state == e.opt_state
        assert same(back.params, e.params)
        assert same(back.opt_state, e.opt_state)
        assert type(back.params) is nf.Frozen
        assert type(back.opt_state) is nf.Frozen
        assert read_only(back.params)
        assert read_only(back.opt_state)
        assert back.params.hidden == e.params.hidden
        assert back.history == e.history
        assert back.result == e.result
        if isinstance(e, TrainingError):
            assert isinstance(back, TrainingError)
            assert (back.epoch, back.step) == (e.epoch, e.step)


def diverge_in_a_worker() -> TrainResult:
    """In a worker process: the diverging run, whose TrainingError crosses back."""
    return diverging_run()


def test_a_training_error_crosses_a_spawn_process_pool() -> None:  # ~0.4 s
    ctx = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool,
        pytest.raises(TrainingError) as remote,
    ):
        pool.submit(diverge_in_a_worker).result(timeout=120)
    with pytest.raises(TrainingError) as local:
        diverging_run()
    there, here = remote.value, local.value
    assert all(np.isfinite(v).all() for v in there.params.values())
    assert type(there.params) is nf.Frozen
    assert read_only(there.params)
    assert same(there.params, here.params)
    assert same(there.opt_state, here.opt_state)
    assert (there.epoch, there.step) == (here.epoch, here.step)
    strip = [r._replace(seconds=0.0) for r in there.history]
    assert strip == [r._replace(seconds=0.0) for r in here.history]


# ------------------------------------------------------------------ history


@pytest.mark.slow
def test_a_long_history_holds_each_epochs_record_once_in_order() -> None:
    # (The history is appended to a list and made a tuple once: O(epochs).
    # No test here times it; this one checks a long run's history is whole.)
    p0 = nf.init_params([2, 4, 1], hidden="tanh", seed=0)
    seen: list[EpochRecord] = []
    _, state, history = train(
        p0, XOR_X, XOR_Y, optimizer=sgd(0.5), epochs=20_000, batch_size=4,
        callback=lambda r, p: seen.append(r),
    )  # fmt: skip
    assert isinstance(history, tuple)
    assert len(history) == 20_000 == int(state["epoch"]) == int(state["count"])
    assert [r.epoch for r in history] == list(range(1, 20_001))
    assert all(a is b for a, b in zip(history, seen, strict=True))
    assert history[-1].train_loss < history[0].train_loss


# ---------------------------------------------------------------- arguments

P0 = nf.init_params([2, 3, 1], seed=0)
X, Y = blobs(10, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epochs": 0}, ValueError, "epochs must be >= 1"),
        ({"epochs": 2.0}, TypeError, "epochs must be an int"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"patience": 2}, ValueError, "patience needs validation"),
        ({"patience": 0, "validation": (X, Y)}, ValueError, "patience must be >= 1"),
        ({"dropout": 1.0}, ValueError, "dropout"),
        ({"clip_norm": 0.0}, ValueError, "clip_norm must be > 0"),
        ({"clip_norm": -1.0}, ValueError, "clip_norm"),
        ({"l2": -1.0}, ValueError, "l2"),
        ({"hidden": "nope"}, ValueError, "unknown hidden 'nope'"),
        ({"output": "nope"}, ValueError, "unknown output 'nope'"),
        ({"hidden": "tanh"}, ValueError, "contradicts the params"),
        ({"optimizer": "sgd"}, TypeError, "optimizer must be an nnfunc.Optimizer"),
        (
            {"optimizer": Optimizer(nf.sgd_init, sgd(0.1).step, None)},  # type: ignore[arg-type]
            TypeError,
            "optimizer.lr must be a real number",
        ),
        (
            {"optimizer": Optimizer(nf.sgd_init, sgd(0.1).step, -1.0)},
            ValueError,
            "optimizer.lr must be finite",
        ),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"x": X[:, :1]}, ValueError, "x has 1 features but W1 expects 2"),
        ({"x": np.ma.masked_array(X)}, TypeError, "x is a masked array"),
        ({"y": Y[:5]}, ValueError, "y has 5 rows but x has 10"),
        ({"y": Y + 2}, ValueError, r"y must lie in \[0, 1\]"),
        ({"validation": (X, Y, Y)}, TypeError, "validation must be a pair"),
        ({"validation": (X[:, :1], Y)}, ValueError, r"validation\[0\] has 1 features"),
        ({"validation": (X, Y[:3])}, ValueError, r"validation\[1\] has 3 rows"),
        ({"batch_size": 11, "drop_last": True}, ValueError, "leaves no batch"),
        ({"drop_last": 1}, TypeError, "drop_last must be True or False"),
        ({"verbose": 1}, TypeError, "verbose must be True or False"),
        ({"restore_best": None}, TypeError, "restore_best must be True or False"),
        ({"callback": 3}, TypeError, "callback must be callable"),
        ({"opt_state": [1]}, TypeError, "opt_state must be a mapping"),
        (
            {"opt_state": sgd(0.1).init(P0)},
            ValueError,
            r"opt_state must have keys .* it has missing \['m.W1', 'm.W2'",
        ),
        (
            {"opt_state": {**adam(0.1).init(P0), "x": np.zeros(1)}},
            ValueError,
            r"it has unexpected \['x'\]",
        ),
        (
            {"opt_state": {**adam(0.1).init(P0), "epoch": np.array(-1)}},
            ValueError,
            "epoch",
        ),
        (
            {"opt_state": {**adam(0.1).init(P0), "m.W1": np.zeros((3, 2))}},
            ValueError,
            "shape",
        ),
        ({"params": {"W1": np.zeros((2, 1))}}, ValueError, "keys"),
    ],
)
def test_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    args: dict[str, Any] = {
        "params": P0, "x": X, "y": Y, "optimizer": adam(0.1), "epochs": 1, **kwargs
    }  # fmt: skip
    with pytest.raises(error, match=match):
        train(**args)
