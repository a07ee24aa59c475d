r"""Learning-rate schedules: plain functions that return ``step -> lr``.

A schedule is any ``Callable[[int], float]``; every optimizer step calls it
with the number of steps already taken (0 for the first step). The
constructors here check their arguments once; the schedules they return
check that ``step`` is an ``int >= 0`` and return a Python ``float``.

============================ ==============================================
constructor                  :math:`\eta(t)`
============================ ==============================================
``constant(lr)``             :math:`\eta_0`
``piecewise(bs, vs)``        ``vs[i]`` for ``bs[i-1] <= t < bs[i]``
``exponential_decay``        :math:`\eta_0\, r^{t / T}` (staircase: ``t // T``)
``inverse_time``             :math:`\eta_0 / (1 + r\, t / T)`
``cosine``                   linear warm-up, then half a cosine down to
                             :math:`\eta_{\min}`
============================ ==============================================
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from nnfunc._checks import check_float, check_int
from nnfunc._types import Schedule

__all__ = ["constant", "cosine", "exponential_decay", "inverse_time", "piecewise"]


def constant(lr: float) -> Schedule:
    r"""The same learning rate at every step, :math:`\eta(t) = \eta_0`.

    Examples:
        >>> constant(0.1)(0), constant(0.1)(10_000)
        (0.1, 0.1)
    """
    lr0 = check_float(lr, "lr")

    def schedule(step: int) -> float:
        _check_step(step)
        return lr0

    return schedule


def piecewise(boundaries: Sequence[int], values: Sequence[float]) -> Schedule:
    r"""A step function: ``values[i]`` from step ``boundaries[i-1]`` on.

    .. math:: \eta(t) = v_i \quad \text{for } b_{i-1} \le t < b_i
        \qquad (b_{-1} = 0,\ b_n = \infty)

    so ``values`` has one more entry than ``boundaries``, and the new value
    takes effect *at* each boundary step.

    Args:
        boundaries: strictly increasing steps ``>= 1`` where the value changes.
        values: the learning rates, finite and ``>= 0``.

    Examples:
        >>> s = piecewise([100, 150], [0.1, 0.01, 0.001])
        >>> s(0), s(99), s(100), s(149), s(150), s(10**6)
        (0.1, 0.1, 0.01, 0.01, 0.001, 0.001)
    """
    if isinstance(boundaries, str) or not isinstance(boundaries, Sequence):
        raise TypeError(
            f"boundaries must be a sequence of ints, got {type(boundaries).__name__}"
        )
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(
            f"values must be a sequence of floats, got {type(values).__name__}"
        )
    bs = [check_int(b, f"boundaries[{i}]", lo=1) for i, b in enumerate(boundaries)]
    vs = [check_float(v, f"values[{i}]") for i, v in enumerate(values)]
    if len(vs) != len(bs) + 1:
        raise ValueError(
            f"values must have one more entry than boundaries ({len(bs) + 1}), "
            f"got {len(vs)}"
        )
    for i in range(1, len(bs)):
        if bs[i] <= bs[i - 1]:
            raise ValueError(
                f"boundaries must be strictly increasing, got {bs[i - 1]} "
                f"then {bs[i]} at index {i}"
            )

    def schedule(step: int) -> float:
        # bisect_right counts the boundaries <= step: the index of the value.
        return vs[bisect.bisect_right(bs, _check_step(step))]

    return schedule


def exponential_decay(
    lr: float, decay_rate: float, decay_steps: int, staircase: bool = False
) -> Schedule:
    r"""Multiply the rate by ``decay_rate`` every ``decay_steps`` steps.

    .. math:: \eta(t) = \eta_0\, r^{t / T}
        \quad\text{or, with staircase,}\quad \eta_0\, r^{\lfloor t / T \rfloor}

    Non-increasing in :math:`t` (since :math:`0 < r \le 1`).

    Args:
        lr: :math:`\eta_0 \ge 0`, the rate at step 0.
        decay_rate: :math:`r \in (0, 1]`.
        decay_steps: :math:`T \ge 1`.
        staircase: decay in whole steps of ``decay_steps``.

    Examples:
        >>> s = exponential_decay(1.0, 0.5, 10)
        >>> s(0), s(10), s(20), round(s(5), 6)
        (1.0, 0.5, 0.25, 0.707107)
        >>> exponential_decay(1.0, 0.5, 10, staircase=True)(19)
        0.5
    """
    lr0 = check_float(lr, "lr")
    r = check_float(decay_rate, "decay_rate", hi=1.0)
    if r == 0.0:
        raise ValueError("decay_rate must be in (0, 1], got 0.0")
    T = _check_count(decay_steps, "decay_steps", lo=1)
    if not isinstance(staircase, bool):
        raise TypeError(f"staircase must be True or False, got {staircase!r}")

    def schedule(step: int) -> float:
        t = _check_step(step)
        return lr0 * r ** (t // T if staircase else t / T)

    return schedule


def inverse_time(lr: float, decay_rate: float, decay_steps: int = 1) -> Schedule:
    r"""Decay as one over time, :math:`\eta(t) = \eta_0 / (1 + r\, t / T)`.

    Non-increasing in :math:`t`; :math:`\eta(t) \approx \eta_0 T / (r t)` for
    large :math:`t`, the :math:`1/t` decay of stochastic approximation
    (Robbins & Monro, 1951).

    Args:
        lr: :math:`\eta_0 \ge 0`, the rate at step 0.
        decay_rate: :math:`r \ge 0`.
        decay_steps: :math:`T \ge 1`.

    Examples:
        >>> s = inverse_time(1.0, 1.0, decay_steps=10)
        >>> s(0), s(10), s(30)
        (1.0, 0.5, 0.25)
    """
    lr0 = check_float(lr, "lr")
    r = check_float(decay_rate, "decay_rate")
    T = _check_count(decay_steps, "decay_steps", lo=1)

    def schedule(step: int) -> float:
        return lr0 / (1.0 + r * _check_step(step) / T)

    return schedule


def cosine(
    lr: float, total_steps: int, *, warmup_steps: int = 0, final_lr: float = 0.0
) -> Schedule:
    r"""Linear warm-up from 0, then half a cosine from ``lr`` down to ``final_lr``.

    With :math:`W` = ``warmup_steps``, :math:`N` = ``total_steps``:

    .. math::
        \eta(t) = \begin{cases}
            \eta_0\, t / W & t < W \\
            \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                \left(1 + \cos \pi \tfrac{t - W}{N - W}\right) & W \le t < N \\
            \eta_{\min} & t \ge N
        \end{cases}

    Non-decreasing during the warm-up (which starts at 0: the very first
    step does not move the params), non-increasing after it.

    Args:
        lr: :math:`\eta_0 \ge 0`, the peak rate, reached at step :math:`W`.
        total_steps: :math:`N \ge 1`, the step at which ``final_lr`` is reached.
        warmup_steps: :math:`0 \le W \le N`.
        final_lr: :math:`0 \le \eta_{\min} \le \eta_0`.

    References:
        Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm
        Restarts* (ICLR 2017); Goyal et al., *Accurate, Large Minibatch SGD*
        (2017) for the linear warm-up.

    Examples:
        >>> s = cosine(1.0, 110, warmup_steps=10, final_lr=0.1)
        >>> s(0), s(5), s(10), round(s(60), 6), s(110), s(500)
        (0.0, 0.5, 1.0, 0.55, 0.1, 0.1)
    """
    lr0 = check_float(lr, "lr")
    N = _check_count(total_steps, "total_steps", lo=1)
    W = _check_count(warmup_steps, "warmup_steps")
    if W > N:
        raise ValueError(f"warmup_steps must be <= total_steps ({N}), got {W}")
    lr_min = check_float(final_lr, "final_lr")
    if lr_min > lr0:
        raise ValueError(f"final_lr must be <= lr ({lr0}), got {lr_min}")

    def schedule(step: int) -> float:
        t = _check_step(step)
        if t < W:
            return lr0 * (t / W)  # (lr0 * t could overflow)
        if t >= N:
            return lr_min
        half_cos = 0.5 * (1.0 + math.cos(math.pi * (t - W) / (N - W)))  # 1 -> 0
        # min: rounding could put lr_min + (lr0 - lr_min) an ulp above lr0
        return min(lr0, lr_min + (lr0 - lr_min) * half_cos)

    return schedule


#: The largest step (or step count) a schedule takes: optimizer states count
#: steps in an int64, and larger ints would overflow the float arithmetic.
MAX_STEP = 2**63 - 1


def _check_step(step: object) -> int:
    return _check_count(step, "step")


def _check_count(value: object, name: str, lo: int = 0) -> int:
    """An int in ``[lo, MAX_STEP]``."""
    v = check_int(value, name, lo=lo)
    if v > MAX_STEP:
        raise ValueError(f"{name} must be <= 2**63 - 1 (an int64 count), got {v}")
    return v
