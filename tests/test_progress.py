"""The progress of ``train``: one rewritten line on a terminal, few lines in a log.

The reporter is driven with a fake stream (a terminal or not) and a fake
clock, so nothing here depends on how fast the machine is; the ``train``
tests check the shape of the output, never its timing.
"""

from __future__ import annotations

import io
import sys
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pytest

import nnfunc as nf
from nnfunc._progress import (
    LOG_EVERY,
    REDRAW_EVERY,
    Reporter,
    clock,
    due,
    fit,
    line,
    redraw,
    remaining,
    stop_line,
)
from nnfunc.training import CallbackError, EpochRecord, TrainingFailed


class Stream(io.StringIO):
    """A stderr stand-in: keeps what is written; a terminal or not."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    @property
    def text(self) -> str:
        return self.getvalue()


class Broken(Stream):
    """A terminal whose reader went away."""

    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class R(NamedTuple):
    epoch: int
    train_loss: float
    val_loss: float | None = None
    val_accuracy: float | None = None


def reporter(
    tty: bool, last: int, *, first: int = 0, steps: int = 4, width: int | None = None
) -> tuple[Reporter, Stream, Clock]:
    stream, t = Stream(tty), Clock()
    r = Reporter(
        stream, first=first, last=last, steps=steps, tty=tty, width=width, clock=t
    )
    return r, stream, t


def run(r: Reporter, t: Clock, epochs: range, seconds: float) -> None:
    for e in epochs:
        t.now += seconds
        r.epoch(R(e, 1.0 / e, 2.0 / e, 0.5))


# ------------------------------------------------------------ pure functions


def test_clock_formats_minutes_and_hours() -> None:
    assert [clock(s) for s in (0, 0.44, 59.94, 59.96, 61, 3599, 3600, 86399)] == [
        "0.0s", "0.4s", "59.9s", "1:00", "1:01", "59:59", "1:00:00", "23:59:59",
    ]  # fmt: skip
    assert clock(-3) == "0.0s"


def test_remaining_is_the_pace_so_far() -> None:
    assert remaining(6.0, 3, 10) == pytest.approx(14.0)
    assert remaining(6.0, 1.5, 3) == pytest.approx(6.0)  # mid-epoch fractions
    assert remaining(6.0, 10, 10) == 0.0
    assert remaining(0.0, 0, 10) is None


def test_line_has_every_field_in_order() -> None:
    text = line(12, 150, 0.1234, 0.08, 0.9778, 3.2, 35.4, step=(38, 40))
    assert text == (
        "epoch 12/150  step 38/40  loss 0.1234  val_loss 0.0800  val_acc 97.78%  "
        "3.2s elapsed, ~35.4s left"
    )
    bare = line(1, 1, 0.5, None, None, 0.2, None)
    assert bare == "epoch 1/1  loss 0.5000  0.2s elapsed"
    assert line(1, 9, 0.5, None, None, 75.0, 600.0).endswith(
        "1:15 elapsed, ~10:00 left"
    )
    assert "left" not in line(3, 3, 0.5, None, None, 2.0, 0.0)


def test_due_throttles() -> None:
    assert due(0.0, None, 10.0)
    assert not due(9.99, 0.0, 10.0)
    assert due(10.0, 0.0, 10.0)


def test_redraw_blanks_what_a_longer_line_left_and_fit_cuts() -> None:
    assert redraw("abc", 0) == "\rabc"
    assert redraw("abc", 5) == "\rabc  "
    assert redraw("abcdef", 5) == "\rabcdef"
    assert fit("abcdef", 4) == "abc"  # one column free: no wrap at the edge
    assert fit("abcdef", None) == "abcdef"
    assert fit("abcdef", 1) == "a"


def test_stop_line_says_what_early_stopping_did() -> None:
    best = R(68, 0.1, 0.0712, 0.98)
    assert stop_line(83, 15, best, restored=True) == (
        "early stopping after epoch 83: no lower val_loss for 15 epochs; "
        "restored epoch 68 (val_loss 0.0712)"
    )
    kept = stop_line(83, 15, best, restored=False)
    assert kept is not None
    assert "kept epoch 83 (restore_best=False)" in kept
    assert "the best was epoch 68 (val_loss 0.0712)" in kept
    assert stop_line(None, 15, best, restored=True) == (
        "restored epoch 68 (val_loss 0.0712), the lowest of the run"
    )
    assert stop_line(None, None, best, restored=False) is None
    assert stop_line(None, None, None, restored=False) is None


# ------------------------------------------------------------ the reporter


def test_terminal_keeps_one_line() -> None:
    r, out, t = reporter(tty=True, last=50)
    run(r, t, range(1, 51), seconds=1.0)
    r.finish(None)
    assert out.text.count("\n") == 1
    assert out.text.endswith("\n")
    drawn = out.text[:-1].split("\r")
    assert drawn[0] == ""
    assert len(drawn) == 51  # one rewrite per epoch: each took a second
    final = drawn[-1].rstrip()
    assert final == (
        "epoch 50/50  step 4/4  loss 0.0200  val_loss 0.0400  val_acc 50.00%  "
        "50.0s elapsed"
    )
    assert "~49.0s left" in drawn[1]


def test_terminal_redraws_at_most_every_tenth_of_a_second() -> None:
    r, out, t = reporter(tty=True, last=1000)
    run(r, t, range(1, 1001), seconds=REDRAW_EVERY / 10)
    r.finish(None)
    drawn = out.text[:-1].split("\r")[1:]
    assert 90 <= len(drawn) <= 101  # 10 s of fake time, 10 lines a second
    assert drawn[0].startswith("epoch 1/1000  ")
    assert drawn[-1].startswith("epoch 1000/1000  ")  # the last epoch always


def test_terminal_line_is_cut_to_the_width_and_blanked() -> None:
    r, out, t = reporter(tty=True, last=3, width=30)
    run(r, t, range(1, 4), seconds=1.0)
    r.finish("done")
    drawn = out.text.split("\n")[0].split("\r")[1:]
    assert all(len(d) <= 29 for d in drawn)
    assert out.text.endswith("\ndone\n")


def test_log_writes_the_first_the_last_and_one_line_per_interval() -> None:
    r, out, t = reporter(tty=False, last=100)
    run(r, t, range(1, 101), seconds=1.0)
    r.finish(None)
    lines = out.text.splitlines()
    assert "\r" not in out.text
    shown = [int(s.split("/")[0].removeprefix("epoch ")) for s in lines]
    assert shown == [1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 100]
    assert LOG_EVERY == 10.0
    assert "step" not in lines[0]


def test_log_of_slow_epochs_has_a_line_per_epoch() -> None:
    r, out, t = reporter(tty=False, last=5)
    run(r, t, range(1, 6), seconds=60.0)
    r.finish(None)
    assert len(out.text.splitlines()) == 5


def test_the_last_epoch_held_back_is_written_at_the_end() -> None:
    r, out, t = reporter(tty=False, last=100)
    run(r, t, range(1, 8), seconds=1.0)  # early stopping after epoch 7
    r.finish("early stopping ...")
    lines = out.text.splitlines()
    assert [s.split("  ")[0] for s in lines[:-1]] == ["epoch 1/100", "epoch 7/100"]
    assert lines[-1] == "early stopping ..."
    assert "left" in lines[0]
    assert "left" not in lines[1]  # the run is over: no estimate


def test_an_early_stop_leaves_the_terminal_line_without_an_estimate() -> None:
    r, out, t = reporter(tty=True, last=10)
    run(r, t, range(1, 5), seconds=1.0)
    r.finish("early stopping ...")
    drawn = out.text.split("\n")[0].split("\r")
    assert "~6.0s left" in drawn[-2]
    assert drawn[-1].rstrip() == (
        "epoch 4/10  step 4/4  loss 0.2500  val_loss 0.5000  val_acc 50.00%  "
        "4.0s elapsed"
    )


def test_a_resumed_run_counts_its_own_epochs_for_the_time_left() -> None:
    r, out, t = reporter(tty=False, last=20, first=10)
    run(r, t, range(11, 13), seconds=60.0)
    assert out.text.splitlines()[1].endswith("2:00 elapsed, ~8:00 left")
    assert out.text.startswith("epoch 11/20  ")


def test_steps_update_the_terminal_line_only() -> None:
    r, out, t = reporter(tty=True, last=2, steps=4)
    for step in range(1, 5):
        t.now += 1.0
        r.step(0, step, 0.5)
    assert out.text.split("\r")[-1].startswith("epoch 1/2  step 4/4  loss 0.5000")
    assert "~6.0s left" in out.text.split("\r")[2]  # 2 s for half an epoch
    t.now += 0.01
    r.step(1, 1, 0.4)  # too soon after the last: not drawn
    assert "epoch 2/2" not in out.text
    log, quiet, t2 = reporter(tty=False, last=2)
    t2.now += 100.0
    log.step(0, 1, 0.5)
    assert quiet.text == ""


def test_abandon_ends_an_open_line_and_swallows_errors() -> None:
    r, out, t = reporter(tty=True, last=5)
    run(r, t, range(1, 3), seconds=1.0)
    r.abandon()
    assert out.text.endswith("\n")
    r.abandon()  # nothing open: nothing written
    assert out.text.count("\n") == 1
    broken = Reporter(Broken(True), first=0, last=5, steps=1, tty=True)
    broken.drawn = 10
    broken.abandon()  # no exception


# ------------------------------------------------------------ through train


def blobs(n: int) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    x = rng.normal(size=(n, 2)) + 1.5 * y[:, None]
    return x, y.astype(float)


def train_into(
    monkeypatch: pytest.MonkeyPatch, stream: Stream, **kw: Any
) -> nf.TrainResult:
    x, y = blobs(40)
    args: dict[str, Any] = {
        "optimizer": nf.sgd(0.1), "epochs": 6, "batch_size": 10,
        "validation": (x, y),
    }  # fmt: skip
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        return nf.train(nf.init_params([2, 3, 1], seed=0), x, y, **(args | kw))
    finally:
        monkeypatch.undo()


def test_train_on_a_terminal_rewrites_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    out = Stream(tty=True)
    result = train_into(monkeypatch, out)  # verbose=None: a terminal shows it
    assert out.text.count("\n") == 1
    assert out.text.startswith("\repoch 1/6  step 1/4  loss ")  # per step, throttled
    final = out.text[:-1].split("\r")[-1].rstrip()
    last = result.history[-1]
    assert final.startswith(f"epoch 6/6  step 4/4  loss {last.train_loss:.4f}  ")
    assert f"val_loss {last.val_loss:.4f}" in final
    assert "val_acc " in final
    assert "elapsed" in final


def test_train_into_a_log_writes_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    out = Stream(tty=False)
    assert train_into(monkeypatch, out).history  # verbose=None: not a terminal
    assert out.text == ""
    result = train_into(monkeypatch, out, verbose=True)
    lines = out.text.splitlines()
    assert "\r" not in out.text
    assert lines[0].startswith("epoch 1/6  loss ")
    assert lines[-1].startswith("epoch 6/6  loss ")
    assert len(lines) <= 6  # first, last, and one per 10 s at most
    assert f"loss {result.history[-1].train_loss:.4f}" in lines[-1]


@pytest.mark.parametrize("restore_best", [True, False])
def test_train_says_when_early_stopping_fired(
    monkeypatch: pytest.MonkeyPatch, restore_best: bool
) -> None:
    out = Stream(tty=False)
    result = train_into(
        monkeypatch, out, verbose=True, optimizer=nf.sgd(3.0), epochs=200,
        patience=2, restore_best=restore_best,
    )  # fmt: skip
    history = result.history
    stopped = history[-1].epoch
    assert stopped < 200
    best = min(history, key=lambda r: r.val_loss or np.inf)
    lines = out.text.splitlines()
    assert lines[-2].startswith(f"epoch {stopped}/200  ")  # the last, held back
    said = f"early stopping after epoch {stopped}: no lower val_loss for 2 epochs; "
    assert lines[-1].startswith(said)
    kept = f"epoch {best.epoch} (val_loss {best.val_loss:.4f})"
    if restore_best:
        assert lines[-1] == said + f"restored {kept}"
    else:
        assert lines[-1].endswith(f"the best was {kept}")


def test_a_broken_terminal_fails_with_the_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(TrainingFailed) as info:
        train_into(monkeypatch, Broken(tty=True))
    e = info.value
    assert isinstance(e.__cause__, BrokenPipeError)
    # the first step's line could not be written: the state after that step
    assert (len(e.history), int(e.opt_state["epoch"])) == (0, 0)
    assert int(e.opt_state["count"]) == 1  # step 1 was taken, then its line failed
    assert all(np.isfinite(a).all() for a in e.params.values())


def test_a_failure_ends_the_line_before_the_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = Stream(tty=True)

    def callback(record: EpochRecord, params: nf.Params) -> None:
        if record.epoch == 3:
            raise RuntimeError("boom")

    with pytest.raises(CallbackError):
        train_into(monkeypatch, out, callback=callback)
    assert out.text.startswith("\repoch 1/6  ")
    assert out.text.endswith("\n")
    assert out.text.count("\n") == 1
