"""The training loop: learning, resuming bit for bit, early stopping, faults."""

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nnfunc as nf
from nnfunc import _epoch
from nnfunc._types import OptState
from nnfunc.adaptive import adam
from nnfunc.metrics import accuracy
from nnfunc.optim import Optimizer, momentum, sgd
from nnfunc.training import (
    CallbackError,
    EpochRecord,
    TrainingError,
    TrainingInterrupted,
    TrainResult,
    train,
)

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


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


def same(a: nf.Params | Any, b: nf.Params | Any) -> bool:
    """Equal keys and bit-identical arrays."""
    return sorted(a) == sorted(b) and all(
        a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a
    )


def test_learns_xor_with_the_loop() -> None:
    p0 = nf.init_params([2, 4, 1], seed=0)
    p, _, history = train(
        p0, XOR_X, XOR_Y, optimizer=sgd(0.5), epochs=2000, batch_size=4, hidden="tanh"
    )
    assert nf.predict(p, XOR_X, hidden="tanh").tolist() == [0, 1, 1, 0]
    assert history[-1].train_loss < 0.05 < history[0].train_loss


def test_learns_three_class_spirals() -> None:
    x, y = spirals3(1000, seed=0)
    xv, yv = spirals3(300, seed=1)
    p0 = nf.init_params([2, 64, 64, 3], seed=0, init="he")
    t0 = time.perf_counter()
    p, state, history = train(
        p0, x, y, optimizer=adam(0.01), epochs=40, batch_size=64,
        output="softmax", validation=(xv, yv), verbose=False,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    acc = accuracy(yv, nf.predict(p, xv, output="softmax"))
    print(f"3-class spirals, 3000 points, 40 epochs: {acc:.1%} in {seconds:.2f}s")
    assert history[-1].val_accuracy == pytest.approx(acc)
    assert acc > 0.95
    assert history[-1].train_loss < 0.5 * history[0].train_loss
    assert int(state["epoch"]) == 40
    assert int(state["count"]) == 40 * math.ceil(3000 / 64)


OPTIMIZERS: dict[str, Callable[[], Optimizer]] = {
    "sgd-schedule": lambda: sgd(lambda t: 0.5 / (1.0 + 0.01 * t)),
    "nesterov": lambda: momentum(0.05, beta=0.9, nesterov=True),
    "adam": lambda: adam(0.01),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resume_equals_an_uninterrupted_run_bit_for_bit(name: str, dtype: type) -> None:
    x, y = blobs(90, seed=0)
    kw: dict[str, Any] = {
        "batch_size": 16, "seed": 7, "hidden": "tanh", "dropout": 0.3, "l2": 1e-3,
        "clip_norm": 1.0, "validation": (x[:20], y[:20]), "verbose": False,
    }  # fmt: skip
    p0 = nf.init_params([2, 8, 8, 1], seed=1, dtype=dtype)
    opt = OPTIMIZERS[name]
    whole = train(p0, x, y, optimizer=opt(), epochs=5, **kw)
    first = train(p0, x, y, optimizer=opt(), epochs=2, **kw)
    second = train(
        first.params, x, y, optimizer=opt(), epochs=3, opt_state=first.opt_state, **kw
    )
    assert same(second.params, whole.params)
    assert same(second.opt_state, whole.opt_state)
    assert whole.params["W1"].dtype == dtype
    strip = [r._replace(seconds=0.0) for r in (*first.history, *second.history)]
    assert strip == [r._replace(seconds=0.0) for r in whole.history]
    assert [r.epoch for r in second.history] == [3, 4, 5]
    # and a different seed is a different run
    other = train(p0, x, y, optimizer=opt(), epochs=2, **{**kw, "seed": 8})
    assert not same(other.params, first.params)


def test_outputs_read_only_inputs_unchanged_and_dtype_kept() -> None:
    x, y = blobs(40, seed=0)
    x32 = x.astype(np.float32)
    p0 = nf.to_dict(nf.init_params([2, 5, 1], seed=0, dtype=np.float32))
    copies = [x32.copy(), y.copy(), {k: v.copy() for k, v in p0.items()}]
    result = train(
        p0, x32, y, optimizer=adam(0.01), epochs=2, batch_size=8, verbose=False
    )
    assert isinstance(result, TrainResult)
    p, state, history = result
    np.testing.assert_array_equal(x32, copies[0])
    np.testing.assert_array_equal(y, copies[1])
    assert same(p0, copies[2])
    assert all(v.flags.writeable for v in p0.values())  # caller's flags untouched
    for mapping in (p, state):
        assert all(not v.flags.writeable for v in mapping.values())
        with pytest.raises(TypeError):
            mapping["W1"] = np.zeros(1)  # type: ignore[index]
    assert {v.dtype for v in p.values()} == {np.dtype(np.float32)}
    assert state["epoch"].dtype == np.int64
    assert state["epoch"].shape == ()
    assert isinstance(history, tuple)
    assert isinstance(history[0], EpochRecord)
    assert isinstance(history[0].train_loss, float)


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
    _, _, h = train(
        p0, x, y, optimizer=sgd(0.1), epochs=1, validation=(x, y), output="identity",
        verbose=False,
    )  # fmt: skip
    assert h[0].val_loss is not None
    assert h[0].val_accuracy is None
    inner = sgd(0.1)  # an optimizer that does not show its learning rate
    hidden_lr = Optimizer(inner.init, inner.step, lambda p, g, s: inner.update(p, g, s))
    _, _, h = train(p0, x, y, optimizer=hidden_lr, epochs=1, verbose=False)
    assert h[0].lr is None


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


def test_diverging_run_raises_with_the_last_finite_state() -> None:
    x, y = blobs(32, seed=0)
    y_big = 1e3 * y
    p0 = nf.init_params([2, 16, 1], seed=0)
    kw: dict[str, Any] = {
        "optimizer": sgd(0.2), "batch_size": 32, "output": "identity", "verbose": False
    }  # fmt: skip
    with pytest.raises(TrainingError) as info:  # no RuntimeWarning before it
        train(p0, 100 * x, y_big, epochs=200, **kw)
    e = info.value
    assert isinstance(e, FloatingPointError)
    assert e.epoch > 2
    assert e.step == 1
    assert f"epoch {e.epoch}, step 1 of 1" in str(e)
    assert "smaller learning rate" in str(e)
    assert len(e.history) == e.epoch - 1 == int(e.opt_state["epoch"])
    assert all(np.isfinite(v).all() for v in e.params.values())
    before = train(p0, 100 * x, y_big, epochs=e.epoch - 1, **kw)
    assert same(e.params, before.params)
    assert same(e.opt_state, before.opt_state)
    assert e.result == (e.params, e.opt_state, e.history)


def test_diverging_minibatch_run_names_the_step() -> None:
    x, y = blobs(64, seed=0)
    p0 = nf.init_params([2, 16, 1], seed=0)
    with pytest.raises(TrainingError, match=r"epoch \d+, step \d+ of 8") as info:
        train(p0, 1e3 * x, 1e6 * y, optimizer=sgd(1.0), epochs=50, batch_size=8,
              output="identity", verbose=False)  # fmt: skip
    assert all(np.isfinite(v).all() for v in info.value.params.values())


def test_fault_points_at_the_last_finite_pair() -> None:
    def pair(value: float) -> _epoch.Pair:
        p = nf.freeze({"W1": np.full((1, 1), value), "b1": np.zeros(1)})
        return p, nf.freeze({"count": np.array(0)})

    start, prev, good, bad = pair(0.0), pair(1.0), pair(2.0), pair(np.inf)
    h = _epoch._fault(start, prev, good, 4, 9)
    assert (h.kind, h.pair, h.step) == ("loss", good, 4)
    h = _epoch._fault(start, prev, bad, 4, 9)
    assert (h.kind, h.pair, h.step) == ("update", prev, 3)
    h = _epoch._fault(start, bad, bad, 4, 9)
    assert (h.kind, h.pair, h.step) == ("epoch", start, None)


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
    assert isinstance(info.value.__cause__, ValueError)
    two = train(p0, x, y, epochs=2, **kw)
    assert same(info.value.params, two.params)
    assert same(info.value.opt_state, two.opt_state)
    assert len(info.value.history) == 2


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


def test_keyboard_interrupt_mid_epoch_keeps_the_last_step() -> None:
    x, y = blobs(40, seed=0)
    p0 = nf.init_params([2, 4, 1], seed=0)
    inner = sgd(0.1)
    outputs: list[nf.Params] = []

    def update(p: nf.Params, g: nf.Grads, s: OptState) -> tuple[nf.Params, OptState]:
        if len(outputs) == 7:  # the 8th step, in the 2nd epoch of 5 steps
            raise KeyboardInterrupt
        new = inner.update(p, g, s)
        outputs.append(new[0])
        return new

    opt = Optimizer(inner.init, inner.step, update)
    with pytest.raises(TrainingInterrupted, match="epoch 2, step 3 of 5") as info:
        train(p0, x, y, optimizer=opt, epochs=3, batch_size=8, verbose=False)
    e = info.value
    assert e.params is outputs[-1]
    assert int(e.opt_state["count"]) == 7
    assert int(e.opt_state["epoch"]) == 1
    assert len(e.history) == 1


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
    assert len(lines) == 3
    assert lines[0].startswith("epoch 1/3  loss ")
    assert "val_loss" in lines[0]
    assert "val_acc" in lines[0]
    assert lines[0].endswith("s")


def test_opt_state_without_epoch_starts_at_epoch_one() -> None:
    x, y = blobs(20, seed=0)
    p0 = nf.init_params([2, 3, 1], seed=0)
    opt = adam(0.01)
    _, s, h = train(p0, x, y, optimizer=opt, epochs=1, opt_state=opt.init(p0))
    assert h[0].epoch == 1
    assert int(s["epoch"]) == 1


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
        (
            {"optimizer": "sgd"},
            TypeError,
            "optimizer must be an nnfunc.optim.Optimizer",
        ),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"x": X[:, :1]}, ValueError, "x has 1 features but W1 expects 2"),
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
        ({"opt_state": sgd(0.1).init(P0)}, ValueError, "another optimizer"),
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
