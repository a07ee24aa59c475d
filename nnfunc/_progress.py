r"""The progress output of ``nnfunc.train``: pure formatting, one small reporter.

On a terminal ``train`` keeps ONE line up to date, rewritten in place with
``\r`` (at most every ``REDRAW_EVERY`` seconds, and always for the last
epoch). While it runs, and once it is over (here early stopping fired)::

    epoch 36/150  step 40/40  loss 0.1148  val_loss 0.0514  val_acc 97.78%
      0.6s elapsed, ~1.8s left                               (all on one line)
    epoch 121/150  step 40/40  loss 0.0498  val_loss 0.0358  val_acc 98.52%
      1.7s elapsed
    early stopping after epoch 121: no lower val_loss for 15 epochs; restored
      epoch 106 (val_loss 0.0346)

In a log file (``verbose=True`` with stderr redirected) it writes plain
lines instead: the first epoch, then at most one every ``LOG_EVERY``
seconds, and the last epoch, so a long run neither floods the log nor
goes silent. After the run, one more line says when early stopping fired
and which epoch was restored.

The functions here are pure (the text of a line, whether a line is due);
``Reporter`` holds the little state of one ``train`` call (when it last
wrote, what it held back) and lives only as long as that call. The time
comes from the ``clock`` it is given (``time.perf_counter``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from typing import Protocol, TextIO

#: Seconds between rewrites of the terminal line (a person reads ~10 a second).
REDRAW_EVERY = 0.1
#: Seconds between lines in a log file.
LOG_EVERY = 10.0


class Record(Protocol):
    """What the reporter reads of an ``EpochRecord``."""

    @property
    def epoch(self) -> int: ...
    @property
    def train_loss(self) -> float: ...
    @property
    def val_loss(self) -> float | None: ...
    @property
    def val_accuracy(self) -> float | None: ...


def clock(seconds: float) -> str:
    """A duration: ``7.4s`` under a minute, then ``m:ss``, then ``h:mm:ss``.

    Examples:
        >>> clock(7.42), clock(65), clock(3725)
        ('7.4s', '1:05', '1:02:05')
    """
    if round(seconds, 1) < 60:
        return f"{max(seconds, 0.0):.1f}s"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def remaining(elapsed: float, done: float, total: float) -> float | None:
    """Seconds left at the pace so far: ``elapsed / done * (total - done)``.

    ``done`` and ``total`` count epochs (with a fraction for the steps of
    one); None before anything is done. With early stopping it is an upper
    bound.

    Examples:
        >>> remaining(10.0, 2, 10), remaining(0.0, 0, 10)
        (40.0, None)
    """
    if done <= 0:
        return None
    return elapsed / done * max(total - done, 0.0)


def line(
    epoch: int,
    last: int,
    loss: float,
    val_loss: float | None,
    val_acc: float | None,
    elapsed: float,
    left: float | None,
    step: tuple[int, int] | None = None,
) -> str:
    """One progress line: epoch, step, losses, accuracy, time spent and left.

    ``step`` is ``(step, steps)`` within the epoch (shown on a terminal);
    ``left`` None or zero leaves out the estimate.

    Examples:
        >>> print(line(3, 10, 0.25, 0.3, 0.9, 6.0, 14.0))
        epoch 3/10  loss 0.2500  val_loss 0.3000  val_acc 90.00%
        6.0s elapsed, ~14.0s left
        >>> line(10, 10, 0.25, None, None, 20.0, 0.0, step=(4, 4))
        'epoch 10/10  step 4/4  loss 0.2500  20.0s elapsed'
    """
    parts = [f"epoch {epoch}/{last}"]
    if step is not None:
        parts.append(f"step {step[0]}/{step[1]}")
    parts.append(f"loss {loss:.4f}")
    if val_loss is not None:
        parts.append(f"val_loss {val_loss:.4f}")
    if val_acc is not None:
        parts.append(f"val_acc {val_acc:.2%}")
    spent = f"{clock(elapsed)} elapsed"
    parts.append(f"{spent}, ~{clock(left)} left" if left else spent)
    return "  ".join(parts)


def stop_line(
    stopped: int | None, patience: int | None, best: Record | None, restored: bool
) -> str | None:
    """What early stopping did, or None when there is nothing to say.

    ``stopped`` is the epoch the run stopped after (None: it ran to the
    end); ``best`` the epoch with the lowest validation loss; ``restored``
    whether ``train`` returns that epoch's params.

    Examples:
        >>> from collections import namedtuple
        >>> R = namedtuple("R", "epoch train_loss val_loss val_accuracy")
        >>> print(stop_line(83, 15, R(68, 0.1, 0.0712, 0.98), restored=True))
        early stopping after epoch 83: no lower val_loss for 15 epochs;
        restored epoch 68 (val_loss 0.0712)
        >>> print(stop_line(None, 15, R(68, 0.1, 0.0712, 0.98), restored=True))
        restored epoch 68 (val_loss 0.0712), the lowest of the run
    """
    if best is None or best.val_loss is None:
        return None
    kept = f"epoch {best.epoch} (val_loss {best.val_loss:.4f})"
    if stopped is None:
        return f"restored {kept}, the lowest of the run" if restored else None
    said = (
        f"early stopping after epoch {stopped}: no lower val_loss for {patience} epochs"
    )
    if restored:
        return f"{said}; restored {kept}"
    return f"{said}; kept epoch {stopped} (restore_best=False); the best was {kept}"


def due(now: float, shown: float | None, every: float) -> bool:
    """Whether a line may follow one written at ``shown`` (None: never).

    Examples:
        >>> due(5.0, None, 10.0), due(5.0, 0.0, 10.0), due(10.0, 0.0, 10.0)
        (True, False, True)
    """
    return shown is None or now - shown >= every


def fit(text: str, width: int | None) -> str:
    r"""``text`` cut to a terminal ``width`` wide (None: as it is).

    A line that wraps cannot be rewritten with ``\r``, so it must fit.

    Examples:
        >>> fit("epoch 10/10  loss 0.25", 13), fit("epoch 1/1", None)
        ('epoch 10/10 ', 'epoch 1/1')
    """
    return text if width is None else text[: max(width - 1, 1)]


def redraw(text: str, drawn: int) -> str:
    r"""What replaces a terminal line of ``drawn`` characters with ``text``.

    ``\r`` returns to the start of the line; spaces blank what a longer
    line before it left.

    Examples:
        >>> redraw("epoch 2", 9)
        '\repoch 2  '
    """
    return "\r" + text + " " * max(drawn - len(text), 0)


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (False when it cannot say)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed, or not a file
        return False


def terminal_width(stream: TextIO) -> int:
    """The width of the terminal that ``stream`` writes to (80 if unknown)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size((80, 24)).columns


class Reporter:
    r"""The progress output of one ``train`` call; see the module docstring.

    ``first`` and ``last`` bound the call's epochs as in ``Plan`` (0-based
    start, 1-based end); ``steps`` is the number of steps in an epoch.
    ``tty`` picks the terminal line or the log lines; ``width`` cuts the
    terminal line (None: never); ``clock`` gives the time in seconds. Write
    errors propagate (``train`` turns them into ``TrainingFailed``), except
    in ``abandon``.

    Examples:
        >>> import io
        >>> from collections import namedtuple
        >>> R = namedtuple("R", "epoch train_loss val_loss val_accuracy")
        >>> out, now = io.StringIO(), iter([0.0, 1.0, 2.0])
        >>> r = Reporter(out, first=0, last=2, steps=5, tty=True,
        ...              clock=lambda: next(now))
        >>> r.epoch(R(1, 0.5, None, None))
        >>> r.epoch(R(2, 0.25, None, None))
        >>> r.finish(None)
        >>> out.getvalue().split("\r")  # doctest: +NORMALIZE_WHITESPACE
        ['', 'epoch 1/2  step 5/5  loss 0.5000  1.0s elapsed, ~1.0s left',
         'epoch 2/2  step 5/5  loss 0.2500  2.0s elapsed            \n']
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        first: int,
        last: int,
        steps: int,
        tty: bool,
        width: int | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.stream, self.first, self.last, self.steps = stream, first, last, steps
        self.tty, self.width, self.clock = tty, width, clock
        self.every = REDRAW_EVERY if tty else LOG_EVERY
        self.start = clock()
        self.shown: float | None = None  # when a line was last written
        self.written = ""  # and what it said
        self.final: str | None = None  # the newest epoch's line, no estimate
        self.held = False  # whether the newest epoch's line is unwritten
        self.drawn = 0  # characters of the terminal line on screen (0: none)
        self.val: tuple[float | None, float | None] = (None, None)

    @classmethod
    def to(cls, stream: TextIO, *, first: int, last: int, steps: int) -> Reporter:
        """A reporter for ``stream``, in the mode its being a terminal calls for."""
        tty = is_terminal(stream)
        width = terminal_width(stream) if tty else None
        return cls(stream, first=first, last=last, steps=steps, tty=tty, width=width)

    def epoch(self, r: Record) -> None:
        """Report a finished epoch (the last one always; others when due)."""
        now = self.clock()
        self.val = (r.val_loss, r.val_accuracy)
        elapsed = now - self.start
        left = remaining(elapsed, r.epoch - self.first, self.last - self.first)
        step = (self.steps, self.steps) if self.tty else None
        text = line(r.epoch, self.last, r.train_loss, *self.val, elapsed, left, step)
        # what the line says once the run is over (early stopping: no time left)
        self.final = line(
            r.epoch, self.last, r.train_loss, *self.val, elapsed, None, step
        )
        if r.epoch >= self.last or due(now, self.shown, self.every):
            self._write(text, now)
        else:
            self.held = True

    def step(self, epoch: int, step: int, loss: float) -> None:
        """Report step ``step`` (from 1) of epoch ``epoch`` (from 0), on a terminal.

        ``loss`` is the epoch's mean batch loss so far; the validation
        numbers shown are the previous epoch's. For a per-step hook in the
        epoch loop; a log gets lines per epoch only.
        """
        now = self.clock()
        if not self.tty or not due(now, self.shown, self.every):
            return
        elapsed = now - self.start
        done = epoch - self.first + step / self.steps
        left = remaining(elapsed, done, self.last - self.first)
        at = (step, self.steps)
        self._write(line(epoch + 1, self.last, loss, *self.val, elapsed, left, at), now)

    def finish(self, message: str | None) -> None:
        """End the output: the last epoch's line as it ends, then ``message``.

        A log gets the last epoch's line if it was held back; a terminal's
        line is redrawn if it still shows an estimate or a step.
        """
        final = self.final
        if final is not None and (self.held or (self.tty and final != self.written)):
            self._write(final, self.clock())
        if self.drawn:
            self.drawn = 0
            self.stream.write("\n")
        if message is not None:
            self.stream.write(message + "\n")
        self.stream.flush()

    def abandon(self) -> None:
        """End an open terminal line, so that a traceback starts on its own.

        Called as ``train`` raises: an error here would hide the real one,
        so it is swallowed.
        """
        if self.drawn:
            self.drawn = 0
            with contextlib.suppress(Exception):  # the run's own error comes next
                self.stream.write("\n")
                self.stream.flush()

    def _write(self, text: str, now: float) -> None:
        if self.tty:
            text = fit(text, self.width)
            self.stream.write(redraw(text, self.drawn))
            self.drawn = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.shown, self.written, self.held = now, text, False
