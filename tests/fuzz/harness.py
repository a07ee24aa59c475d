"""The fuzz suite's harness: one contract, checked for every fuzzed call.

Each call must end in one of two ways: a correct result, or a ``ValueError``
or ``TypeError`` whose message names an argument. Never another exception
type, never a NumPy warning, never a change to anything passed in (bytes,
flags and mapping contents are compared before and after), and never a
non-finite result from finite input. One function (``call_and_check``) does
these checks; each public function has a ``Spec``, in the spec file of its
area, that draws its arguments, mostly valid (so that results get checked
too), sometimes subtly wrong, sometimes anything at all. Params, grads and
states come back as ``nf.Frozen`` values with the record the contract gives
them.

``fuzz(name, spec)`` is the body of every area's ``test_fuzz``;
``refuse_subclasses(name, spec)`` that of its
``test_masked_arrays_and_matrices_are_refused``: it takes valid calls and
swaps one array (an argument, a value of a params, grads or state mapping,
one of ``validation``) for a masked array or an ``np.matrix``: a TypeError
naming that argument, whatever the function.

The number of examples follows the active hypothesis profile
(``FUZZ_EXAMPLES = settings().max_examples``): the default and ``ci``
profiles run 100 per function, ``HYPOTHESIS_PROFILE=thorough`` 1000. Set
``NNFUNC_FUZZ_STATS=FILE`` to append per-function counts to ``FILE``, and
``NNFUNC_FUZZ_ERRORS=FILE`` to append each refused call's error.
"""

from __future__ import annotations

import atexit
import inspect
import os
import pathlib
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc.training import TrainingError
from tests.fuzz import strategies as fs

#: Examples per function in the active profile.
FUZZ_EXAMPLES: int = settings().max_examples

# ------------------------------------------------------------------ harness


class Outcome(NamedTuple):
    """What one fuzzed call did: its result, or the error it raised."""

    result: Any
    error: BaseException | None


def snapshot(obj: Any, depth: int = 0) -> Any:
    """Everything observable about ``obj``: bytes, flags, type, contents."""
    if depth > 8:
        return ("deep", id(obj))
    if isinstance(obj, np.ndarray):
        flags = obj.flags
        data: Any = (
            [id(o) for o in obj.flat] if obj.dtype.kind == "O" else obj.tobytes()
        )
        return (
            "array", type(obj), obj.dtype, obj.shape, obj.strides, flags.writeable,
            flags.c_contiguous, flags.f_contiguous, flags.owndata, data,
        )  # fmt: skip
    if isinstance(obj, Mapping):
        items = [(repr(k), snapshot(v, depth + 1)) for k, v in obj.items()]
        return ("mapping", type(obj), items)
    if isinstance(obj, (list, tuple)):
        return (type(obj), [snapshot(v, depth + 1) for v in obj])
    if isinstance(obj, (set, frozenset)):
        return (type(obj), sorted(map(repr, obj)))
    return ("object", type(obj), id(obj))


def is_finite(obj: Any, depth: int = 0) -> bool:
    """Whether every number in ``obj`` (arrays, floats, containers) is finite."""
    if depth > 8:
        return True
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            return bool(np.isfinite(obj).all())
        if obj.dtype.kind == "O":
            return all(is_finite(v, depth + 1) for v in obj.flat)
        return True
    if isinstance(obj, (float, complex, np.floating, np.complexfloating)):
        return bool(np.isfinite(obj))
    if isinstance(obj, Mapping):
        return all(is_finite(v, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(is_finite(v, depth + 1) for v in obj)
    return True


def names_word(name: str, message: str) -> bool:
    """Whether ``message`` mentions ``name`` as a whole word (``x``, not ``max``)."""
    return (
        re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message)
        is not None
    )


def call_and_check(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    names: tuple[str, ...],
    *,
    allowed: tuple[type[BaseException], ...] = (ValueError, TypeError),
    named: tuple[type[BaseException], ...] = (ValueError, TypeError),
    consume: bool = False,
    finite: bool = True,
) -> Outcome:
    """Call ``fn(*args, **kwargs)`` and check the contract of every public call.

    The call raises only ``allowed`` exceptions, and those of the types in
    ``named`` mention one of ``names`` (the arguments); it emits no warning;
    it leaves its arguments as they were; and from finite arguments it
    returns finite numbers (when ``finite``). ``consume`` lists an iterator
    result, so that lazy errors count as the call's.
    """
    before = snapshot((args, kwargs))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
            if consume:
                result = list(result)
            error: BaseException | None = None
        except BaseException as e:  # every exception is judged below
            result, error = None, e
    where = f"{getattr(fn, '__name__', fn)}(*{args!r:.300}, **{kwargs!r:.300})"
    assert not caught, f"{where} warned: {[str(w.message) for w in caught]}"
    assert snapshot((args, kwargs)) == before, f"{where} changed its arguments"
    if error is not None:
        if not isinstance(error, allowed):
            raise AssertionError(f"{where} raised {type(error).__name__}") from error
        if isinstance(error, named):
            message = str(error)
            assert any(names_word(n, message) for n in names), (
                f"{where} raised {type(error).__name__}({message!r}), "
                f"which names none of {names}"
            )
        return Outcome(None, error)
    if finite and is_finite((args, kwargs)):
        assert is_finite(result), f"{where} returned non-finite {result!r:.500}"
    return Outcome(result, None)


# -------------------------------------------------------------------- specs


class Call(NamedTuple):
    """Drawn arguments: positional and keyword, plus extra data for the check."""

    args: tuple[tuple[str, Any], ...]
    kwargs: dict[str, Any]
    extra: dict[str, Any]


@dataclass(frozen=True)
class Spec:
    """How to fuzz one public function.

    ``draw`` builds a ``Call``; ``check(result, arguments, extra)`` tests a
    successful result; ``weight`` scales the number of examples.
    """

    fn: Callable[..., Any]
    draw: Callable[[st.DrawFn], Call]
    check: Callable[[Any, dict[str, Any], dict[str, Any]], None] | None = None
    allowed: tuple[type[BaseException], ...] = (ValueError, TypeError)
    consume: bool = False
    finite: bool = True
    weight: float = 1.0
    stats: dict[str, int] = field(default_factory=dict)


def rarely(draw: st.DrawFn, p: float) -> bool:
    """True with probability about ``p`` (never when strict).

    The rare value sits mid-range: hypothesis favours (and shrinks to) the
    ends of an integer range, which would make it common.
    """
    n = max(2, round(1 / p))
    return not fs.MODE.strict and draw(st.integers(0, n - 1)) == n // 2


def maybe(draw: st.DrawFn, value: Any, p: float = 0.1, *, size: bool = False) -> Any:
    """``value``, or (unless strict) with probability ``p`` anything at all.

    ``size``: the argument is a size or a count, so no huge ints (see
    ``fs.scalars``).
    """
    if rarely(draw, p):
        return draw(fs.hostile(huge=not size))
    return value


def corrupt(draw: st.DrawFn, call: Call, p: float = 0.05) -> Call:
    """Sometimes (unless strict) add an argument the function does not take."""
    if rarely(draw, p):
        kwargs = {**call.kwargs, "bogus_arg": draw(fs.hostile())}
        return Call(call.args, kwargs, call.extra)
    return call


def check_params_like(
    r: Any,
    like: Mapping[str, Any],
    dtype: Any = None,
    record: tuple[Any, Any] | None = None,
) -> None:
    """``r`` is a ``Frozen`` value of read-only arrays shaped like ``like``.

    Its record is ``record``, by default the one ``like`` has (None, None
    for a plain mapping): every function keeps the record of its input.
    """
    assert isinstance(r, nf.Frozen)
    assert (r.hidden, r.output) == (fs.record_of(like) if record is None else record)
    assert sorted(map(repr, r)) == sorted(map(repr, like))
    for k, v in r.items():
        ref = np.asarray(like[k])
        assert isinstance(v, np.ndarray)
        assert not v.flags.writeable
        assert v.shape == ref.shape
        assert v.dtype == (ref.dtype if dtype is None else dtype)


def params_dtype(p: Mapping[str, Any]) -> np.dtype[Any]:
    return np.asarray(p["W1"]).dtype


def arch(a: dict[str, Any]) -> tuple[Any, str]:
    """The architecture a successful call ran: the arguments, else the record.

    As the library records it: one name, or a tuple of one per hidden layer.
    """
    rec_h, rec_o = fs.record_of(a["params"])
    h = a.get("hidden")
    h = h if h is not None else rec_h if rec_h is not None else "relu"
    o = a.get("output")
    o = o if o is not None else rec_o if rec_o is not None else "sigmoid"
    return (h if isinstance(h, str) else tuple(h)), str(o)


# ---------------------------------------------------------- scratch files

#: Where the specs of functions that read or write files put them; emptied
#: after each test.
SCRATCH = pathlib.Path(tempfile.mkdtemp(prefix="nnfunc-fuzz-io-"))
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
_files = iter(range(10**9))


def fresh_path() -> pathlib.Path:
    return SCRATCH / f"f{next(_files)}.npz"


@st.composite
def path_arg(draw: st.DrawFn, path: pathlib.Path) -> Any:
    return draw(
        fs.choice(
            [path, str(path)],
            [path, path, SCRATCH / "missing" / "x.npz", SCRATCH, "", bytes(path),
             "bad\0name", None, 3],
        )
    )  # fmt: skip


# ------------------------------------------------------------------ specs


def spec(fn: Callable[..., Any], draw: Any, check: Any = None, **kw: Any) -> Spec:
    """A ``Spec`` whose calls ``draw()`` (a strategy of ``Call``) draws."""
    return Spec(fn, drawer(draw), check, **kw)


def drawer(
    strategy: Callable[[], st.SearchStrategy[Call]],
) -> Callable[[st.DrawFn], Call]:
    """A ``Spec.draw`` from a function that returns a strategy of ``Call``."""

    def draw(d: st.DrawFn) -> Call:
        return d(strategy())

    return draw


#: What a function that reads or writes files may raise.
FILES = (ValueError, TypeError, OSError)


# ------------------------------------------------------------------- runs


def _stats_line(name: str, spec: Spec, seconds: float) -> str:
    s = spec.stats
    return (
        f"{name}\texamples={s.get('examples', 0)}\tok={s.get('ok', 0)}"
        f"\terrors={s.get('errors', 0)}\tseconds={seconds:.1f}"
    )


def fuzz(name: str, spec: Spec) -> None:
    """Fuzz ``spec.fn`` with the calls ``spec`` draws (see the module docstring)."""
    spec.stats.clear()
    examples = max(5, round(FUZZ_EXAMPLES * spec.weight))

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        fs.MODE.strict = data.draw(st.booleans(), label="strict")
        call = data.draw(st.composite(lambda d: spec.draw(d))())
        args = tuple(v for _, v in call.args)
        names = tuple(k for k, _ in call.args) + tuple(call.kwargs)
        names += tuple(str(v) for v in (*args, *call.kwargs.values())
                       if isinstance(v, (str, os.PathLike)))  # fmt: skip
        out = call_and_check(
            spec.fn, args, call.kwargs, names, allowed=spec.allowed,
            consume=spec.consume, finite=spec.finite,
        )  # fmt: skip
        spec.stats["examples"] = spec.stats.get("examples", 0) + 1
        if out.error is not None:
            spec.stats["errors"] = spec.stats.get("errors", 0) + 1
            if path := os.environ.get("NNFUNC_FUZZ_ERRORS"):
                with open(path, "a") as f:
                    print(name, type(out.error).__name__, str(out.error)[:150], file=f)
            if isinstance(out.error, TrainingError):
                assert is_finite(dict(out.error.params))
            return
        spec.stats["ok"] = spec.stats.get("ok", 0) + 1
        if spec.check is not None:
            named = dict(call.args)
            if name == "derive_seed":
                named["keys"] = [v for k, v in call.args if k == "keys"]
            spec.check(out.result, {**named, **call.kwargs}, call.extra)

    t0 = time.perf_counter()
    try:
        run()
    finally:  # the files the examples wrote
        shutil.rmtree(SCRATCH, ignore_errors=True)
        SCRATCH.mkdir()
    if path := os.environ.get("NNFUNC_FUZZ_STATS"):
        with open(path, "a") as f:
            print(_stats_line(name, spec, time.perf_counter() - t0), file=f)


# ------------------------------------------- masked arrays and np.matrix

#: Arguments that hold arrays, or mappings of arrays (params, grads, states).
ARRAY_ARGS = frozenset(
    {"x", "y", "z", "params", "grads", "state", "arrays", "opt_state",
     "validation", "y_true", "y_pred", "labels", "x_train", "mean", "std"}
)  # fmt: skip


def takes_arrays(fn: Callable[..., Any]) -> bool:
    return bool(ARRAY_ARGS & set(inspect.signature(fn).parameters))


def subclass_specs(specs: Mapping[str, Spec]) -> list[str]:
    """The names in ``specs`` of the functions that take an array."""
    return sorted(n for n, s in specs.items() if takes_arrays(s.fn))


def array_slots(
    arguments: dict[str, Any],
) -> list[tuple[str, str | int | None]]:
    """Where an array sits in a call: ``(argument, None)`` for an array-like
    argument, ``(argument, key)`` for a value of a mapping argument,
    ``("validation", 0 or 1)``."""
    slots: list[tuple[str, str | int | None]] = []
    for name, value in arguments.items():
        if name not in ARRAY_ARGS:
            continue
        if isinstance(value, Mapping):
            slots += [(name, k) for k, v in value.items() if isinstance(v, np.ndarray)]
        elif name == "validation" and isinstance(value, tuple):
            slots += [(name, i) for i in range(len(value))]
        elif isinstance(value, (np.ndarray, list)):
            slots.append((name, None))
    return slots


def swapped(value: Any, key: str | int | None, new: Any) -> Any:
    """``value`` with the array at ``key`` (or itself, for None) replaced."""
    if key is None:
        return new
    if isinstance(key, int):  # validation = (x_val, y_val)
        return tuple(new if i == key else v for i, v in enumerate(value))
    return {k: new if k == key else v for k, v in value.items()}


def refuse_subclasses(name: str, spec: Spec) -> None:
    """Valid calls of ``spec.fn``, one array swapped for a masked array or matrix."""
    tried: list[str] = []

    @settings(
        max_examples=max(10, round(FUZZ_EXAMPLES * spec.weight)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        fs.MODE.strict = True  # a valid call, so that only the swap can fail
        call = data.draw(st.composite(lambda d: spec.draw(d))())
        arguments = {**dict(call.args), **call.kwargs}
        slots = array_slots(arguments)
        if not slots:
            return
        args = tuple(v for _, v in call.args)
        names = (*(k for k, _ in call.args), *call.kwargs)
        ok = call_and_check(
            spec.fn, args, call.kwargs, names, allowed=spec.allowed,
            consume=spec.consume, finite=spec.finite,
        )  # fmt: skip
        if ok.error is not None:  # the call itself was refused: nothing to swap
            return
        arg, key = data.draw(st.sampled_from(slots), label="slot")
        old = arguments[arg] if key is None else arguments[arg][key]
        kind, new = data.draw(st.sampled_from(fs.subclassed(old)), label="kind")
        value = swapped(arguments[arg], key, new)
        positional = [k for k, _ in call.args]
        if arg in positional:
            args = tuple(value if k == arg else v for k, v in call.args)
            kwargs = call.kwargs
        else:
            kwargs = {**call.kwargs, arg: value}
        where = f"{kind} as {arg}" + ("" if key is None else f"[{key!r}]")
        out = call_and_check(
            spec.fn, args, kwargs, (arg,), allowed=(TypeError, ValueError),
            consume=spec.consume,
        )  # fmt: skip
        assert out.error is not None, f"{name} accepted a {where}"
        assert isinstance(out.error, TypeError), (
            f"{name} with a {where} raised {type(out.error).__name__}: "
            f"{out.error} (expected a TypeError naming {arg})"
        )
        tried.append(where)

    try:
        run()
    finally:
        fs.MODE.strict = False
        shutil.rmtree(SCRATCH, ignore_errors=True)
        SCRATCH.mkdir()
    assert tried, f"no valid call of {name} was drawn: nothing was swapped"
