"""Optimizers: each step against its equations, convergence, purity, errors."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc._types import Grads, OptState, Params
from nnfunc.adaptive import (
    adam,
    adam_init,
    adam_step,
    adamw,
    adamw_init,
    adamw_step,
    rmsprop,
    rmsprop_init,
    rmsprop_step,
)
from nnfunc.optim import (
    Optimizer,
    momentum,
    momentum_init,
    momentum_step,
    sgd,
    sgd_init,
    sgd_step,
)
from nnfunc.schedules import constant
from tests.strategies import HIDDEN, OUTPUT, random_targets

Arrays = dict[str, npt.NDArray[Any]]
Slots = dict[str, Arrays]  # slot name -> param name -> array
Ref = Callable[[Arrays, Arrays, Slots, int], tuple[Arrays, Slots]]
StepFn = Callable[[Params, Grads, OptState], tuple[Params, OptState]]


def _problem(seed: int, dtype: Any = np.float64) -> tuple[Params, Grads, Grads]:
    """Params of a [3, 4, 2] net (biases non-zero) and two gradients."""
    rng = np.random.default_rng(seed)
    p = nf.init_params([3, 4, 2], seed=seed, dtype=dtype)
    params = nf.freeze(
        {k: v + rng.normal(size=v.shape).astype(dtype) for k, v in p.items()}
    )
    g1, g2 = (
        nf.freeze({k: rng.normal(size=v.shape).astype(dtype) for k, v in p.items()})
        for _ in range(2)
    )
    return params, g1, g2


def _two_steps(
    init: Callable[[Params], OptState],
    step: Callable[[Params, Grads, OptState], tuple[Params, OptState]],
    ref: Ref,
    slots: str,
    seed: int,
) -> None:
    """Two steps of ``step`` agree with ``ref``, params and every slot."""
    params, g1, g2 = _problem(seed)
    state = init(params)
    p_ref: Arrays = dict(params)
    s_ref: Slots = {s: {k: np.zeros_like(v) for k, v in params.items()} for s in slots}
    for t, g in enumerate((g1, g2), 1):
        params, state = step(params, g, state)
        p_ref, s_ref = ref(p_ref, dict(g), s_ref, t)
        assert int(state["count"]) == t
        for k in p_ref:
            np.testing.assert_allclose(params[k], p_ref[k], rtol=1e-10, atol=1e-12)
            for s in slots:
                np.testing.assert_allclose(
                    state[f"{s}.{k}"], s_ref[s][k], rtol=1e-10, atol=1e-12
                )


unit = st.floats(0.0, 0.99)
lrs = st.floats(0.0, 1.0)
epss = st.floats(1e-8, 1e-2)
seeds = st.integers(0, 2**16)


# ------------------------------------------------- one step = its equations


@given(seeds, lrs)
def test_sgd_matches_its_equation(seed: int, lr: float) -> None:
    def ref(p: Arrays, g: Arrays, s: Slots, t: int) -> tuple[Arrays, Slots]:
        return {k: p[k] - lr * g[k] for k in p}, s

    _two_steps(sgd_init, sgd(lr).step, ref, "", seed)


@given(seeds, lrs, unit, st.booleans())
def test_momentum_matches_its_equations(
    seed: int, lr: float, beta: float, nesterov: bool
) -> None:
    def ref(p: Arrays, g: Arrays, s: Slots, t: int) -> tuple[Arrays, Slots]:
        m = {k: beta * s["m"][k] + g[k] for k in p}
        if nesterov:  # theta - lr (g + beta m)
            return {k: p[k] - lr * (g[k] + beta * m[k]) for k in p}, {"m": m}
        return {k: p[k] - lr * m[k] for k in p}, {"m": m}

    def step(p: Params, g: Grads, s: OptState) -> tuple[Params, OptState]:
        return momentum_step(p, g, s, lr=lr, beta=beta, nesterov=nesterov)

    _two_steps(momentum_init, step, ref, "m", seed)


@given(seeds, lrs, st.floats(0.0, 0.999), epss)
def test_rmsprop_matches_its_equations(
    seed: int, lr: float, decay: float, eps: float
) -> None:
    def ref(p: Arrays, g: Arrays, s: Slots, t: int) -> tuple[Arrays, Slots]:
        v = {k: decay * s["v"][k] + (1 - decay) * g[k] ** 2 for k in p}
        return {k: p[k] - lr * g[k] / (np.sqrt(v[k]) + eps) for k in p}, {"v": v}

    def step(p: Params, g: Grads, s: OptState) -> tuple[Params, OptState]:
        return rmsprop_step(p, g, s, lr=lr, decay=decay, eps=eps)

    _two_steps(rmsprop_init, step, ref, "v", seed)


def _adam_ref(
    lr: float, b1: float, b2: float, eps: float, wd: float, decay_biases: bool
) -> Ref:
    def ref(p: Arrays, g: Arrays, s: Slots, t: int) -> tuple[Arrays, Slots]:
        m = {k: b1 * s["m"][k] + (1 - b1) * g[k] for k in p}
        v = {k: b2 * s["v"][k] + (1 - b2) * g[k] ** 2 for k in p}
        out = {}
        for k in p:
            m_hat = m[k] / (1 - b1**t)  # bias correction, t = 1, 2, ...
            v_hat = v[k] / (1 - b2**t)
            lam = wd if (k.startswith("W") or decay_biases) else 0.0
            out[k] = p[k] - lr * (m_hat / (np.sqrt(v_hat) + eps) + lam * p[k])
        return out, {"m": m, "v": v}

    return ref


@given(seeds, lrs, unit, st.floats(0.0, 0.9999), epss)
def test_adam_matches_its_equations(
    seed: int, lr: float, b1: float, b2: float, eps: float
) -> None:
    def step(p: Params, g: Grads, s: OptState) -> tuple[Params, OptState]:
        return adam_step(p, g, s, lr=lr, b1=b1, b2=b2, eps=eps)

    _two_steps(adam_init, step, _adam_ref(lr, b1, b2, eps, 0.0, False), "mv", seed)


@given(seeds, lrs, unit, st.floats(0.0, 0.9999), epss, st.floats(0, 0.5), st.booleans())
def test_adamw_matches_its_equations(
    seed: int, lr: float, b1: float, b2: float, eps: float, wd: float, dec_b: bool
) -> None:
    def step(p: Params, g: Grads, s: OptState) -> tuple[Params, OptState]:
        return adamw_step(
            p, g, s, lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=wd, decay_biases=dec_b
        )

    _two_steps(adamw_init, step, _adam_ref(lr, b1, b2, eps, wd, dec_b), "mv", seed)


def test_adam_first_step_is_lr_times_sign() -> None:
    # m_hat = g and v_hat = g^2 after one step, so the move is lr g / |g|.
    params, g, _ = _problem(0)
    new, _ = adam(0.01, eps=1e-12).step(params, g, adam_init(params))
    for k in params:
        np.testing.assert_allclose(params[k] - new[k], 0.01 * np.sign(g[k]), rtol=1e-9)


def test_adamw_without_decay_is_adam_and_decays_only_weights() -> None:
    params, g, _ = _problem(1)
    s = adam_init(params)
    a, _ = adam(0.1).step(params, g, s)
    w, _ = adamw(0.1, weight_decay=0.0).step(params, g, s)
    assert all(np.array_equal(a[k], w[k]) for k in params)
    zero = nf.freeze({k: np.zeros_like(v) for k, v in params.items()})
    d, _ = adamw(0.1, weight_decay=0.5).step(params, zero, s)
    for k in params:
        factor = 0.95 if k.startswith("W") else 1.0
        np.testing.assert_allclose(d[k], factor * params[k], rtol=1e-14)


# ------------------------------------------------------------- convergence

OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": sgd(0.1),
    "momentum": momentum(0.05, beta=0.9),
    "nesterov": momentum(0.05, beta=0.9, nesterov=True),
    "rmsprop": rmsprop(lambda t: 0.1 / (1 + t / 50)),
    "adam": adam(lambda t: 0.2 / (1 + t / 20)),
    "adamw": adamw(lambda t: 0.2 / (1 + t / 20), weight_decay=1e-3, decay_biases=True),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_minimizes_a_convex_quadratic(name: str) -> None:
    # L(p) = 1/2 sum_k sum a_k (p_k - c_k)^2, gradient a_k (p_k - c_k), minimum at c.
    opt = OPTIMIZERS[name]
    params, _, _ = _problem(2)
    rng = np.random.default_rng(3)
    a = {k: rng.uniform(0.5, 2.0, size=v.shape) for k, v in params.items()}
    c = {k: rng.normal(size=v.shape) for k, v in params.items()}

    def loss(p: Params) -> float:
        return sum(float(0.5 * np.sum(a[k] * (p[k] - c[k]) ** 2)) for k in p)

    start = loss(params)
    state = opt.init(params)
    for _ in range(400):
        g = nf.freeze({k: a[k] * (params[k] - c[k]) for k in params})
        params, state = opt.step(params, g, state)
    assert loss(params) < 1e-4 * start
    assert max(float(np.abs(params[k] - c[k]).max()) for k in params) < 0.02


X_XOR = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y_XOR = np.array([0.0, 1.0, 1.0, 0.0])
XOR_OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": sgd(0.5),
    "momentum": momentum(0.1),
    "nesterov": momentum(0.1, nesterov=True),
    "rmsprop": rmsprop(0.01),
    "adam": adam(0.05),
    "adamw": adamw(0.05),
}


@pytest.mark.parametrize("name", XOR_OPTIMIZERS)
def test_each_optimizer_learns_xor(name: str) -> None:
    opt = XOR_OPTIMIZERS[name]
    params: Params = nf.init_params([2, 4, 1], hidden="tanh", seed=0)
    state = opt.init(params)
    for _ in range(1000):
        g = nf.grads(params, X_XOR, Y_XOR)  # the params record hidden="tanh"
        params, state = opt.step(params, g, state)
    assert isinstance(params, nf.Frozen)
    assert params.hidden == "tanh"  # kept by every step
    assert nf.predict(params, X_XOR).tolist() == [0, 1, 1, 0]
    assert nf.loss(params, X_XOR, Y_XOR) < 0.1


# ------------------------------------------------------------------ purity

ALL: dict[str, Callable[..., Optimizer]] = {
    "sgd": lambda lr: sgd(lr),
    "momentum": lambda lr: momentum(lr, beta=0.8),
    "nesterov": lambda lr: momentum(lr, beta=0.8, nesterov=True),
    "rmsprop": lambda lr: rmsprop(lr, decay=0.8),
    "adam": lambda lr: adam(lr, b1=0.8, b2=0.9),
    "adamw": lambda lr: adamw(lr, weight_decay=0.1, decay_biases=True),
}
all_names = pytest.mark.parametrize("name", ALL)
#: The step functions with the hyperparameters of ``ALL`` (``lr`` still open).
FUNCTIONS: dict[str, Callable[..., tuple[Params, OptState]]] = {
    "momentum": functools.partial(momentum_step, beta=0.8),
    "nesterov": functools.partial(momentum_step, beta=0.8, nesterov=True),
    "rmsprop": functools.partial(rmsprop_step, decay=0.8),
    "adam": functools.partial(adam_step, b1=0.8, b2=0.9),
    "adamw": functools.partial(adamw_step, weight_decay=0.1, decay_biases=True),
}


def _writable(m: Mapping[str, npt.NDArray[Any]]) -> Arrays:
    return {k: np.array(v, copy=True) for k, v in m.items()}


def _same_bits(a: Mapping[str, npt.NDArray[Any]], b: Mapping[str, Any]) -> bool:
    return sorted(a) == sorted(b) and all(
        a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes() for k in a
    )


def _run(
    fn: Callable[[Params, Grads, OptState], tuple[Params, OptState]],
    params: Params,
    grads: Grads,
    state: OptState,
    n: int = 3,
) -> tuple[Params, OptState]:
    for _ in range(n):
        params, state = fn(params, grads, state)
    return params, state


@all_names
def test_inputs_unchanged_and_outputs_read_only(name: str) -> None:
    opt = ALL[name](0.1)
    params, g, _ = _problem(4)
    p_in, g_in = _writable(params), _writable(g)
    s_in = _writable(_run(opt.step, params, g, opt.init(params), 2)[1])
    copies = [_writable(m) for m in (p_in, g_in, s_in)]
    new_p, new_s = opt.step(p_in, g_in, s_in)
    for before, after in zip(copies, (p_in, g_in, s_in), strict=True):
        assert _same_bits(before, after)
        assert all(a.flags.writeable for a in after.values())
    for out in (new_p, new_s):
        assert all(not a.flags.writeable for a in out.values())
        with pytest.raises(TypeError):
            out["W1"] = np.zeros(3)  # type: ignore[index]


@all_names
def test_same_inputs_give_the_same_bits_and_step_equals_the_function(
    name: str,
) -> None:
    opt = ALL[name](0.1)
    params, g, _ = _problem(5)
    s0 = opt.init(params)
    a = _run(opt.step, params, g, s0)
    b = _run(opt.step, params, g, s0)
    assert _same_bits(a[0], b[0])
    assert _same_bits(a[1], b[1])
    if name == "sgd":  # sgd_step keeps no state: the params must agree
        p = params
        for _ in range(3):
            p = sgd_step(p, g, lr=0.1)
        assert _same_bits(a[0], p)
        return
    c = _run(functools.partial(FUNCTIONS[name], lr=0.1), params, g, s0)
    assert _same_bits(a[0], c[0])
    assert _same_bits(a[1], c[1])


@all_names
def test_float32_stays_float32(name: str) -> None:
    opt = ALL[name](0.1)
    params, g, _ = _problem(6, np.float32)
    g64 = nf.freeze({k: v.astype(np.float64) for k, v in g.items()})  # cast by step
    new_p, new_s = _run(opt.step, params, g64, opt.init(params))
    new_p2, new_s2 = _run(opt.step, params, g, opt.init(params))
    for p, s in ((new_p, new_s), (new_p2, new_s2)):
        assert {v.dtype for v in p.values()} == {np.dtype(np.float32)}
        assert s["count"].dtype == np.int64
        assert all(v.dtype == np.float32 for k, v in s.items() if k != "count")
    assert _same_bits(new_p, new_p2)


@all_names
def test_lr_zero_leaves_params_unchanged_but_counts(name: str) -> None:
    opt = ALL[name](0.0)
    params, g, _ = _problem(7)
    new_p, new_s = _run(opt.step, params, g, opt.init(params))
    assert _same_bits(params, new_p)
    assert int(new_s["count"]) == 3


@all_names
def test_schedule_is_called_with_the_count_before_the_step(name: str) -> None:
    calls: list[int] = []

    def schedule(step: int) -> float:
        calls.append(step)
        return 0.1 / (1 + step)

    params, g, _ = _problem(8)
    opt = ALL[name](schedule)
    by_schedule = _run(opt.step, params, g, opt.init(params))
    assert calls == [0, 1, 2]
    p, s = params, opt.init(params)
    for t in range(3):  # the same steps with the float the schedule gave
        p, s = ALL[name](0.1 / (1 + t)).step(p, g, s)
    assert _same_bits(by_schedule[0], p)
    assert _same_bits(by_schedule[1], s)


@all_names
def test_optimizer_records_the_lr_it_was_built_with(name: str) -> None:
    # train reads the learning rate (or schedule) back from the lr field.
    params, g, _ = _problem(5)
    by_float = ALL[name](0.3).step(params, g, ALL[name](0.3).init(params))
    schedule = constant(0.3)
    for lr in (0.3, schedule):
        opt = ALL[name](lr)
        if callable(lr):
            assert opt.lr is schedule  # the very schedule, not a copy
        else:
            assert isinstance(opt.lr, float)
            assert opt.lr == 0.3
        new_p, new_s = opt.step(params, g, opt.init(params))  # and step uses it
        assert _same_bits(new_p, by_float[0])
        assert _same_bits(new_s, by_float[1])


def test_init_gives_count_and_zero_slots() -> None:
    params, _, _ = _problem(9, np.float32)
    for init, slots in (
        (sgd_init, ""),
        (momentum_init, "m"),
        (rmsprop_init, "v"),
        (adam_init, "mv"),
    ):
        s = init(params)
        assert sorted(s) == sorted(
            ["count", *(f"{x}.{k}" for x in slots for k in params)]
        )
        assert s["count"].shape == ()
        assert s["count"].dtype == np.int64
        assert int(s["count"]) == 0
        for k in params:
            for x in slots:
                assert s[f"{x}.{k}"].dtype == np.float32
                assert s[f"{x}.{k}"].shape == params[k].shape
                assert not s[f"{x}.{k}"].any()
                assert not s[f"{x}.{k}"].flags.writeable
    assert adamw_init is adam_init
    assert adamw(0.1).init is adam_init


# ------------------------------------------------------------------ errors


@all_names
def test_state_with_wrong_keys_shapes_dtypes_or_count_is_rejected(name: str) -> None:
    opt = ALL[name](0.1)
    params, g, _ = _problem(10)
    s = _writable(opt.init(params))
    slot = next((k for k in s if k != "count"), None)
    bad: list[tuple[Any, type[Exception], str]] = [
        ({**s, "extra.W1": s.get(slot or "count")}, ValueError, "state must have keys"),
        (
            {k: v for k, v in s.items() if k != "count"},
            ValueError,
            "state must have keys",
        ),
        ({**s, "count": 0}, TypeError, "0-d integer"),
        ({**s, "count": np.array(0.0)}, TypeError, "0-d integer"),
        ({**s, "count": np.array([0])}, TypeError, "0-d integer"),
        ({**s, "count": np.array(-1)}, ValueError, ">= 0"),
        ([("count", 0)], TypeError, "mapping"),
    ]
    if slot is not None:
        bad += [
            (
                {k: v for k, v in s.items() if k != slot},
                ValueError,
                "state must have keys",
            ),
            ({**s, slot: np.zeros(7)}, ValueError, "has shape"),
            ({**s, slot: s[slot].astype(np.float32)}, TypeError, "float64"),
            ({**s, slot: s[slot].tolist()}, TypeError, "float64"),
            ({**s, slot: np.full_like(s[slot], np.nan)}, ValueError, "NaN"),
        ]
    for state, error, match in bad:
        with pytest.raises(error, match=match):
            opt.step(params, g, state)


SLOTS = {"sgd": "", "momentum": "m", "rmsprop": "v", "adam": "mv"}


@pytest.mark.parametrize("mine", SLOTS)
@pytest.mark.parametrize("other", SLOTS)
def test_state_of_another_optimizer_or_network_is_rejected(
    mine: str, other: str
) -> None:
    params, g, _ = _problem(11)
    state = ALL[other](0.1).init(params)
    if mine != other:
        with pytest.raises(ValueError, match=f"as returned by {mine}_init"):
            ALL[mine](0.1).step(params, g, state)
    if mine == "sgd":
        return  # a count alone cannot tell one network from another
    opt = ALL[mine](0.1)
    shallow = nf.init_params([3, 2], seed=0)  # no W2, b2: the keys differ
    with pytest.raises(ValueError, match=r"it has missing \['[mv]\.W2', '[mv]\.b2'"):
        opt.step(params, g, opt.init(shallow))
    wide = nf.init_params([3, 5, 2], seed=0)  # the same keys, other shapes
    with pytest.raises(
        ValueError, match=r"state\['[mv]\.W1'\] has shape \(3, 5\) but params has"
    ):
        opt.step(params, g, opt.init(wide))


@pytest.mark.parametrize("name", ["momentum", "rmsprop", "adam"])
def test_state_of_a_network_with_the_same_size_and_first_layer_is_rejected(
    name: str,
) -> None:
    # Both have W1 of shape (3, 4) and 32 parameters: only the later layers
    # tell the states apart, so every slot's shape must be compared.
    mine, other = nf.init_params([3, 4, 2, 3]), nf.init_params([3, 4, 3, 1])
    g = nf.freeze({k: np.ones_like(v) for k, v in mine.items()})
    opt = ALL[name](0.1)
    with pytest.raises(
        ValueError, match=r"state\['[mv]\.W2'\] has shape \(4, 3\) but params has"
    ):
        opt.step(mine, g, opt.init(other))


@all_names
def test_grads_of_wrong_shape_or_keys_are_rejected(name: str) -> None:
    opt = ALL[name](0.1)
    params, g, _ = _problem(12)
    s = opt.init(params)
    with pytest.raises(ValueError, match="shape"):
        opt.step(params, {**g, "W1": np.zeros((4, 3))}, s)
    with pytest.raises(ValueError, match="keys"):
        opt.step(params, {k: v for k, v in g.items() if k != "b2"}, s)
    with pytest.raises(ValueError, match="NaN"):
        opt.step(params, {**g, "b1": np.full(4, np.inf)}, s)
    with pytest.raises(ValueError, match="keys"):
        opt.step({k: v for k, v in params.items() if k != "b2"}, g, s)


@all_names
@pytest.mark.parametrize(
    ("lr", "error"),
    [
        (-0.1, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        ("0.1", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_bad_lr_is_rejected_at_construction(name: str, lr: object, error: type) -> None:
    with pytest.raises(error, match="lr"):
        ALL[name](lr)


STEPS: dict[str, Callable[..., tuple[Params, OptState]]] = {
    "momentum": momentum_step,
    "rmsprop": rmsprop_step,
    "adam": adam_step,
    "adamw": adamw_step,
}
INITS = {
    "momentum": momentum_init,
    "rmsprop": rmsprop_init,
    "adam": adam_init,
    "adamw": adamw_init,
}


@pytest.mark.parametrize("name", STEPS)
@pytest.mark.parametrize(
    ("lr", "error", "match"),
    [
        (-1.0, ValueError, "lr"),
        (math.nan, ValueError, "lr"),
        ("x", TypeError, "lr"),
        (lambda t: -0.5, ValueError, r"lr\(0\), the schedule"),
        (lambda t: math.nan, ValueError, r"lr\(0\), the schedule"),
        (lambda t: "0.1", TypeError, r"lr\(0\), the schedule"),
    ],
)
def test_bad_lr_or_schedule_value_is_rejected_by_step(
    name: str, lr: object, error: type, match: str
) -> None:
    params, g, _ = _problem(13)
    with pytest.raises(error, match=match):
        STEPS[name](params, g, INITS[name](params), lr=lr)
    if callable(lr):  # the Optimizer's step checks the schedule's values too
        opt = ALL[name](lr)
        with pytest.raises(error, match=match):
            opt.step(params, g, opt.init(params))


BAD_HYPER: list[tuple[str, dict[str, Any], type[Exception]]] = [
    ("momentum", {"beta": 1.0}, ValueError),
    ("momentum", {"beta": -0.1}, ValueError),
    ("momentum", {"beta": math.nan}, ValueError),
    ("momentum", {"nesterov": 1}, TypeError),
    ("rmsprop", {"decay": 1.0}, ValueError),
    ("rmsprop", {"eps": 0.0}, ValueError),
    ("rmsprop", {"eps": -1e-8}, ValueError),
    ("adam", {"b1": 1.0}, ValueError),
    ("adam", {"b2": 1.5}, ValueError),
    ("adam", {"eps": 0.0}, ValueError),
    ("adam", {"eps": "1e-8"}, TypeError),
    ("adamw", {"b2": -0.5}, ValueError),
    ("adamw", {"weight_decay": -0.1}, ValueError),
    ("adamw", {"weight_decay": math.inf}, ValueError),
    ("adamw", {"decay_biases": "no"}, TypeError),
]
CONSTRUCTORS: dict[str, Callable[..., Optimizer]] = {
    "momentum": momentum,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}


@pytest.mark.parametrize(("name", "hyper", "error"), BAD_HYPER)
def test_bad_hyperparameters_are_rejected(
    name: str, hyper: dict[str, Any], error: type
) -> None:
    (arg,) = hyper
    with pytest.raises(error, match=arg):
        CONSTRUCTORS[name](0.1, **hyper)
    params, g, _ = _problem(14)
    with pytest.raises(error, match=arg):
        STEPS[name](params, g, INITS[name](params), lr=0.1, **hyper)


@all_names
def test_a_state_with_missing_or_extra_keys_names_them(name: str) -> None:
    opt = ALL[name](0.1)
    params, g, _ = _problem(15)
    s = dict(opt.init(params))
    first = next(iter(s))  # "m.W1", "v.W1", or "count" for sgd
    rest = {k: v for k, v in s.items() if k != first}
    owner = "momentum" if name == "nesterov" else name
    keys = re.escape(f"state must have keys {sorted(s)} exactly ")
    made_by = re.escape(f"(as returned by {owner}_init(params)); it has ")
    cases: list[tuple[dict[str, Any], str]] = [
        ({**rest, "x": s["count"]}, f"missing [{first!r}] and unexpected ['x']"),
        (rest, f"missing [{first!r}]"),
        ({**s, "y": s["count"], "x": s["count"]}, "unexpected ['x', 'y']"),
        ({**s, "epochs": s["count"]}, "unexpected ['epochs']"),  # not "epoch"
    ]
    for state, said in cases:
        message = keys + made_by + re.escape(said) + "$"
        for bad in (state, nf.freeze(state)):  # as plain or as a library value
            with pytest.raises(ValueError, match=message):
                opt.step(params, g, bad)


@all_names
def test_a_state_from_train_feeds_every_step_function_which_keeps_its_epoch(
    name: str,
) -> None:
    opt = ALL[name](0.1)
    start = nf.init_params([2, 4, 1], hidden="tanh", seed=0)
    r = nf.train(start, X_XOR, Y_XOR, optimizer=opt, epochs=3, batch_size=2)
    assert int(r.opt_state["epoch"]) == 3
    assert int(r.opt_state["count"]) == 6  # two steps per epoch
    g = nf.grads(r.params, X_XOR, Y_XOR)
    steps: list[StepFn] = [opt.step]
    if name in FUNCTIONS:  # X_step(r.params, g, r.opt_state, lr=...)
        steps.append(functools.partial(FUNCTIONS[name], lr=0.1))
    results = [fn(r.params, g, r.opt_state) for fn in steps]
    # The same step from the same state without "epoch": train's state is
    # the optimizer's state plus the counter, nothing else.
    plain = nf.freeze({k: v for k, v in r.opt_state.items() if k != "epoch"})
    p0, s0 = opt.step(r.params, g, plain)
    assert sorted(s0) == sorted(plain)
    for p, s in results:
        assert sorted(s) == sorted(r.opt_state)
        assert int(s["epoch"]) == 3  # kept, not advanced: a step is no epoch
        assert s["epoch"].dtype == np.int64
        assert int(s["count"]) == 7
        assert _same_bits(p, p0)
        assert _same_bits({k: v for k, v in s.items() if k != "epoch"}, s0)
        assert isinstance(p, nf.Frozen)
        assert p.hidden == "tanh"


def _tamper(a: npt.NDArray[Any], value: float, at: int) -> None:
    """Write into a returned array, as careless code could: by force."""
    assert isinstance(a.base, np.ndarray)  # a view of the value's flat buffer
    a.base.flags.writeable = True
    a.flags.writeable = True
    a[np.unravel_index(at, a.shape)] = value


SLOT_NAMES = {"sgd": "", "momentum": "m", "nesterov": "m", "rmsprop": "v"}
TAMPERED = [
    (name, target)
    for name in ALL
    for target in ("params", "grads", *SLOT_NAMES.get(name, "mv"))
]


@pytest.mark.parametrize(("name", "target"), TAMPERED)
@given(
    key=st.sampled_from(["W1", "b1", "W2", "b2"]),
    value=st.sampled_from([math.nan, math.inf, -math.inf]),
    at=st.integers(0, 11),
    seed=seeds,
)
@settings(deadline=None)
def test_tampered_inputs_never_give_a_non_finite_result(
    name: str, target: str, key: str, value: float, at: int, seed: int
) -> None:
    # Returned arrays are read-only, but flags can be flipped back. A step
    # trusts a library value's checks, so it must catch the damage in its
    # result: a ValueError naming where it came from, never a NaN returned.
    opt = ALL[name](0.1)
    params, g, _ = _problem(seed)
    state = _run(opt.step, params, g, opt.init(params), 1)[1]
    if target in ("params", "grads"):
        a = (params if target == "params" else g)[key]
        blamed = f"^{target} hold NaN or infinite values"
    else:  # a slot of the state returned by a step: "m.W1", "v.b2", ...
        a = state[f"{target}.{key}"]
        blamed = f"^state slot '{target}' hold NaN or infinite values"
    _tamper(a, value, at % a.size)
    steps: list[StepFn] = [opt.step]
    if name in FUNCTIONS:
        steps.append(functools.partial(FUNCTIONS[name], lr=0.1))
    for fn in steps:
        with pytest.raises(ValueError, match=blamed):
            fn(params, g, state)
    if name == "sgd":
        with pytest.raises(ValueError, match=blamed):
            sgd_step(params, g, lr=0.1)


@all_names
def test_a_tampered_step_count_is_named(name: str) -> None:
    # The count is not part of the result's finiteness check: a step reads
    # it from a library state as cheaply as its slots, but still refuses < 0.
    opt = ALL[name](0.1)
    params, g, _ = _problem(17)
    state = _run(opt.step, params, g, opt.init(params), 1)[1]
    count = state["count"]
    count.flags.writeable = True  # a 0-d array of its own, not a view
    count[()] = -1
    with pytest.raises(ValueError, match=r"state\['count'\] must be >= 0, got -1"):
        opt.step(params, g, state)


@all_names
@pytest.mark.parametrize(("dtype", "lr"), [(np.float64, 1e308), (np.float32, 1e39)])
def test_an_lr_that_overflows_the_step_is_named(
    name: str, dtype: type[np.floating[Any]], lr: float
) -> None:
    # Finite lrs whose step is not: Adam moves each entry by about lr (RMSProp
    # by lr / sqrt(1 - decay)), so lr must be near the dtype's largest float;
    # 1e39 is a finite Python float beyond float32's.
    params, g, _ = _problem(16, dtype)
    big = nf.freeze({k: (1e3 * v).astype(dtype) for k, v in g.items()})
    opt = ALL[name](lr)
    message = "^" + re.escape(f"the step overflowed with lr={lr!r}:")
    with pytest.raises(ValueError, match=message):
        opt.step(params, big, opt.init(params))
    if name in FUNCTIONS:
        with pytest.raises(ValueError, match=message):
            FUNCTIONS[name](params, big, opt.init(params), lr=lr)
    if name == "sgd":
        with pytest.raises(ValueError, match=message):
            sgd_step(params, big, lr=lr)


hidden_records = st.sampled_from(HIDDEN) | st.tuples(
    st.sampled_from(HIDDEN), st.sampled_from(HIDDEN)
)


@all_names
@given(hidden=hidden_records, output=st.sampled_from(OUTPUT), seed=seeds)
@settings(deadline=None)
def test_each_step_keeps_the_params_record(
    name: str, hidden: nf.Hidden, output: nf.OutputName, seed: int
) -> None:
    params = nf.init_params([3, 4, 4, 2], hidden=hidden, output=output, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((5, 3))
    y = random_targets(rng, output, 5, 2)
    g = nf.grads(params, x, y)
    assert isinstance(g, nf.Frozen)
    assert (g.hidden, g.output) == (params.hidden, params.output)  # grads carry it
    opt = ALL[name](0.1)
    steps: list[StepFn] = [opt.step]
    if name in FUNCTIONS:
        steps.append(functools.partial(FUNCTIONS[name], lr=0.1))
    news = [_run(fn, params, g, opt.init(params), 2)[0] for fn in steps]
    if name == "sgd":
        news.append(sgd_step(sgd_step(params, g, lr=0.1), g, lr=0.1))
    for new in news:
        assert isinstance(new, nf.Frozen)
        assert new.hidden == (hidden if isinstance(hidden, str) else tuple(hidden))
        assert new.output == output
        # so the new params run as recorded, with no hidden= or output= again
        loss = nf.loss(new, x, y)
        assert loss == nf.loss(dict(new), x, y, hidden=hidden, output=output)
    # and a value without a record stays without one
    bare = nf.freeze(dict(params))
    assert (bare.hidden, bare.output) == (None, None)
    for fn in steps:
        new = fn(bare, nf.freeze(dict(g)), opt.init(bare))[0]
        assert isinstance(new, nf.Frozen)
        assert (new.hidden, new.output) == (None, None)


# ---------------------------------------------------------------- bad input

P = nf.init_params([3, 4, 2], seed=0)


def _params(**changes: Any) -> dict[str, Any]:
    d: dict[str, Any] = nf.to_dict(P)
    d.update(changes)
    return {k: v for k, v in d.items() if v is not None}


# The calls below are deliberately ill-typed; ``anf`` lets them through.
anf: Any = nf

CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    (
        "lr negative",
        lambda: anf.sgd_step(P, P, lr=-0.1),
        ValueError,
        r"lr must be finite and in \[0.0, inf\], got -0.1",
    ),
    (
        "lr nan",
        lambda: anf.sgd_step(P, P, lr=float("nan")),
        ValueError,
        "lr must be finite",
    ),
    (
        "lr inf",
        lambda: anf.sgd_step(P, P, lr=float("inf")),
        ValueError,
        "lr must be finite",
    ),
    (
        "lr str",
        lambda: anf.sgd_step(P, P, lr="0.1"),
        TypeError,
        "lr must be a real number, got str",
    ),
    (
        "grads keys",
        lambda: anf.sgd_step(P, {"W1": P["W1"]}, lr=0.1),
        ValueError,
        r"grads must have keys \['W1', 'b1', 'W2', 'b2'\] exactly",
    ),
    (
        "grads shape",
        lambda: anf.sgd_step(P, _params(W1=np.ones((4, 3))), lr=0.1),
        ValueError,
        r"grads\['W1'\] has shape \(4, 3\) but params\['W1'\] has \(3, 4\)",
    ),
    (
        "grads nan",
        lambda: anf.sgd_step(P, _params(b2=np.full(2, np.nan)), lr=0.1),
        ValueError,
        r"grads\['b2'\] has NaN",
    ),
    (
        "grads matrix",
        lambda: anf.sgd_step(P, _params(b1=np.zeros(4).view(np.matrix)), lr=0.1),
        TypeError,
        r"grads\['b1'\] is an np.matrix",
    ),
    (
        "grads type",
        lambda: anf.sgd_step(P, 1.0, lr=0.1),
        TypeError,
        "grads must be a mapping",
    ),
]


@pytest.mark.parametrize(
    ("what", "call", "exc", "match"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_gets_a_clear_error(
    what: str, call: Callable[[], object], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        call()
