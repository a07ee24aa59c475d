"""Hostile values for the fuzz suite: every dtype, rank, layout and shape of lie.

``hostile()`` draws anything a caller might pass by mistake (arrays of every
dtype and rank, in C, Fortran, strided, read-only and memory-mapped layouts,
lists, scalars, None, mappings of the wrong kind). The other strategies draw
values that are valid, or nearly so (``near_params`` may drop a key, change
a shape or a dtype, hold NaN), so that a good share of fuzzed calls succeed
and their results can be checked too. Valid params record the architecture
they are drawn for (``hidden``/``output``) or record nothing (a plain
mapping, or ``nf.freeze`` of one); ``arch_kwargs`` then passes the
architecture the way a caller would: left out when the params record it,
given when they do not, and (unless strict) sometimes contradicting.
``opt_state_for`` draws an optimizer's state: fresh, stepped, or a lie.

The library's names (``HIDDEN``, ``OUTPUT``, ``INITS``) and float dtypes
come from ``tests/strategies.py``, the suite's one list of them.

``subclassed`` turns an array into a masked array (with and without masked
elements) or an ``np.matrix``: the ndarray subclasses every public function
refuses, with a TypeError naming the argument. (Any other subclass, such as
the ``np.memmap`` layouts above, is read as a plain array.)
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import types
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, from_dtype

import nnfunc as nf
from tests.strategies import FLOAT_DTYPES, HIDDEN, INITS, OUTPUT

NDArray = npt.NDArray[Any]

#: Every kind of dtype NumPy has: bool, ints, floats, complex, object,
#: strings, bytes, datetimes and timedeltas.
ALL_DTYPES: tuple[np.dtype[Any], ...] = tuple(
    np.dtype(d)
    for d in (
        "?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8",
        ">f8", "c8", "c16", "O", "U3", "S3", "M8[s]", "m8[ms]",
    )
)  # fmt: skip
#: The dtypes a real array can have (what the library computes with).
REAL_DTYPES = tuple(d for d in ALL_DTYPES if d.kind in "biuf")

#: Values at the edges of float64 (and float32, and float16).
EXTREMES = (
    0.0, -0.0, 1e-300, 5e-324, 1.0, -1.0, 80.0, -80.0, 700.0, -700.0, 1e4, -1e4,
    6.5e4, 3e38, -3e38, 3.5e38, 1e300, -1e300, 1.7976931348623157e308,
    -1.7976931348623157e308, float("nan"), float("inf"), float("-inf"),
)  # fmt: skip

# ----------------------------------------------------------------- modes


class Mode:
    """Whether the example being drawn is *strict*: valid arguments only.

    The fuzz test draws it first for every example, so that about half of
    the calls get arguments that should succeed (and their results are
    checked), and the rest get near misses and anything at all.
    """

    strict = False


MODE = Mode()


@st.composite
def choice(draw: st.DrawFn, valid: Sequence[Any], invalid: Sequence[Any] = ()) -> Any:
    """One of ``valid``, or (unless strict) one of ``valid`` or ``invalid``."""
    return draw(st.sampled_from([*valid] if MODE.strict else [*valid, *invalid]))


# ------------------------------------------------------------ memory maps

_MMAP_DIR = tempfile.mkdtemp(prefix="nnfunc-fuzz-")
atexit.register(shutil.rmtree, _MMAP_DIR, ignore_errors=True)
_mmap_ids = itertools.count()


def as_memmap(a: NDArray, *, writable: bool) -> NDArray:
    """A copy of ``a`` backed by a file: ``np.memmap`` in mode r+ or r."""
    path = f"{_MMAP_DIR}/{next(_mmap_ids)}.dat"
    shape = a.shape if a.size else (1,)  # a memory map cannot be empty
    m = np.memmap(path, dtype=a.dtype, mode="w+", shape=shape)
    if a.size:
        m[...] = a
    m.flush()
    del m
    mode = "r+" if writable else "r"
    out: NDArray = np.memmap(path, dtype=a.dtype, mode=mode, shape=shape)  # type: ignore[call-overload]
    os.unlink(path)  # the mapping lives on; the file goes when the array does
    return out if a.size else out[:0]


# ------------------------------------------------------------------ layouts

LAYOUTS = ("C", "F", "strided", "readonly", "memmap", "memmap_readonly", "list")


def relayout(a: NDArray, layout: str) -> Any:
    """The same values as ``a`` in another memory layout (or as a list)."""
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "strided" and a.ndim:  # a non-contiguous view into a larger array
        big = np.zeros(tuple(2 * n for n in a.shape), dtype=a.dtype)
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if layout == "readonly":
        r = a.copy()
        r.flags.writeable = False
        return r
    if layout in ("memmap", "memmap_readonly") and a.dtype.kind in "biufc":
        return as_memmap(a, writable=layout == "memmap")
    if layout == "list" and a.dtype.kind in "biuf":
        return a.tolist()
    return a


def layouts() -> st.SearchStrategy[str]:
    """C order most often, then every other layout."""
    return st.one_of(st.just("C"), st.sampled_from(LAYOUTS))


@st.composite
def laid_out(draw: st.DrawFn, a: NDArray) -> Any:
    """``a`` in a drawn layout."""
    return relayout(a, draw(layouts()))


# ------------------------------------------------------------ any array


def elements(dtype: np.dtype[Any]) -> st.SearchStrategy[Any]:
    """Any value of ``dtype``, with the float extremes made likely."""
    if dtype.kind == "f":
        width = 8 * dtype.itemsize
        base = st.floats(width=width)  # type: ignore[arg-type]
        extremes = [
            v for v in EXTREMES if np.isnan(v) or abs(v) <= float(np.finfo(dtype).max)
        ]
        return st.one_of(base, st.sampled_from(extremes))
    if dtype.kind == "O":
        return st.one_of(
            st.none(), st.integers(), st.floats(), st.text(max_size=2), st.just([1])
        )
    return from_dtype(dtype)


@st.composite
def any_array(draw: st.DrawFn, dtypes: tuple[np.dtype[Any], ...] = ALL_DTYPES) -> Any:
    """An array of any dtype, rank 0 to 4 (sides 0 to 4), in any layout."""
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    a = draw(arrays(dtype, shape, elements=elements(dtype)))
    return draw(laid_out(a))


# -------------------------------------------------------- wrong mappings


def wrong_mappings() -> st.SearchStrategy[Any]:
    """Things that are not a mapping of str to arrays, or barely one."""
    arr = st.builds(np.ones, st.integers(0, 3))
    return st.one_of(
        st.lists(arr, max_size=3),
        st.lists(st.tuples(st.sampled_from(["W1", "b1"]), arr), max_size=2),
        st.sets(st.sampled_from(["W1", "b1", "count"]), max_size=3),
        st.frozensets(st.integers(0, 3), max_size=3),
        st.dictionaries(st.integers(-1, 3), arr, max_size=3),
        st.dictionaries(st.sampled_from(["W1", "b1", "W2"]), arr, max_size=3).map(
            types.MappingProxyType
        ),
        st.just({}),
        st.just(types.MappingProxyType({})),
        st.tuples(arr, arr),
    )


# ------------------------------------------------------------- hostile


def scalars(huge: bool = True) -> st.SearchStrategy[Any]:
    """Python and NumPy scalars of every kind, with the float extremes.

    ``huge=False`` keeps ints within +-64: for sizes (``n``, ``epochs``,
    ``k``), where a huge int asks for more memory or time than exists (a
    MemoryError, or the OOM killer) rather than probing the checks.
    """
    big = 2**70 if huge else 64
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-big, big),
        st.sampled_from([-1, 0, 1, 2, 3, *([2**63, 10**400] if huge else [])]),
        st.floats(),
        st.sampled_from(EXTREMES),
        st.complex_numbers(max_magnitude=1e10),
        st.text(max_size=4),
        st.binary(max_size=4),
        st.sampled_from(
            [np.int64(2), np.uint8(3), np.float32(0.5), np.float16(1.0),
             np.bool_(True), np.nan, np.float64(-1.0), np.complex64(1j),
             np.datetime64("2024-01-01"), object(), int, np.float64, "float64",
             Ellipsis, slice(1)]
        ),
    )  # fmt: skip


def hostile(huge: bool = True) -> st.SearchStrategy[Any]:
    """Anything at all that a caller might pass by mistake (see ``scalars``)."""
    return st.one_of(
        scalars(huge),
        any_array(),
        wrong_mappings(),
        st.lists(st.one_of(st.integers(-5, 5), st.floats()), max_size=4),
        st.lists(st.lists(st.floats(-1, 1), max_size=3), max_size=3),  # ragged
        st.just([[1.0, 2.0], [3.0]]),
        st.just([[["a"]]]),
    )


# --------------------------------------------------------------- networks


def sizes(max_layers: int = 4, max_width: int = 5) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(1, max_width), min_size=2, max_size=max_layers)


def record_of(params: object) -> tuple[Any, Any]:
    """``(hidden, output)`` recorded by a ``Frozen`` value, else ``(None, None)``."""
    if isinstance(params, nf.Frozen):
        return params.hidden, params.output
    return None, None


def record(params: object) -> dict[str, Any]:
    """``hidden=``/``output=`` as ``params`` record them, for ``nf.freeze``."""
    hidden, output = record_of(params)
    return {"hidden": hidden, "output": output}


def valid_hidden(n_hidden: int) -> st.SearchStrategy[Any]:
    """A valid ``hidden``: one name, or one per hidden layer (list or tuple)."""
    one = st.sampled_from(HIDDEN)
    per_layer = st.lists(one, min_size=n_hidden, max_size=n_hidden)
    return st.one_of(one, one, per_layer, per_layer.map(tuple))


@st.composite
def valid_params(
    draw: st.DrawFn,
    widths: list[int] | None = None,
    dtype: np.dtype[Any] | None = None,
    *,
    hidden: Any = None,
    output: Any = None,
) -> Any:
    """Valid params of drawn sizes, dtype and scale, in drawn layouts.

    Most often the library's own value, recording ``hidden`` and ``output``
    (``init_params``' defaults when None; nothing when ``output`` cannot
    run these widths, a softmax of one unit); else such a value with no
    record (``nf.freeze`` of a dict), or a dict or a MappingProxy of arrays
    in any layout (writable, Fortran, strided, memory-mapped); sometimes
    scaled so large that products overflow.
    """
    widths = draw(sizes()) if widths is None else widths
    dt = draw(st.sampled_from(FLOAT_DTYPES)) if dtype is None else dtype
    arch: dict[str, Any] = {
        "hidden": "relu" if hidden is None else hidden,
        "output": "sigmoid" if output is None else output,
    }
    if arch["output"] == "softmax" and widths[-1] < 2:
        arch = {}
    p = nf.init_params(
        widths,
        seed=draw(st.integers(0, 2**32)),
        init=draw(st.sampled_from(INITS)),
        dtype=dt,
        **arch,
    )
    scale = draw(choice([1.0] * 6 + [10.0], [1e3, 1e18, 1e30, 1e150]))
    how = draw(st.sampled_from(["library", "library", "bare", "dict", "proxy"]))
    if how == "library" and scale == 1.0 and arch:
        return p
    with np.errstate(over="ignore"):
        raw = {k: (v.astype(np.float64) * scale).astype(dt) for k, v in p.items()}
    if not all(np.isfinite(v).all() for v in raw.values()):
        raw = {k: v.copy() for k, v in p.items()}
    if how in ("library", "bare"):
        return nf.freeze(raw, **(arch if how == "library" else {}))
    out = {k: draw(laid_out(v)) for k, v in raw.items()}
    out = {
        k: v if isinstance(v, np.ndarray) else np.asarray(v, dt) for k, v in out.items()
    }
    return out if how == "dict" else types.MappingProxyType(out)


@st.composite
def near_params(draw: st.DrawFn, base: Mapping[str, Any]) -> Any:
    """``base`` with one lie: a key dropped or added, a bad shape, dtype or value."""
    d: dict[Any, Any] = dict(base)
    keys = sorted(d, key=str)
    k = draw(st.sampled_from(keys))
    lie = draw(
        st.sampled_from(
            ["drop", "extra", "int_key", "transpose", "dtype", "nan", "inf", "list",
             "scalar", "empty", "mixed_dtype", "rank", "wrong_type"]
        )
    )  # fmt: skip
    v = np.asarray(d[k])
    if lie == "drop":
        del d[k]
    elif lie == "extra":
        d[draw(st.sampled_from(["W9", "b9", "c1", "W0", "count", "m.W1"]))] = v
    elif lie == "int_key":
        d[1] = v
    elif lie == "transpose":
        d[k] = v.T if v.ndim == 2 and v.shape[0] != v.shape[1] else v[..., None]
    elif lie == "dtype":
        with np.errstate(all="ignore"):  # casts of NaN or huge values to ints
            d[k] = v.astype(draw(st.sampled_from(ALL_DTYPES)))
    elif lie in ("nan", "inf") and v.size:
        w = v.astype(v.dtype if v.dtype.kind == "f" else np.float64)
        w.flat[draw(st.integers(0, v.size - 1))] = np.nan if lie == "nan" else -np.inf
        d[k] = w
    elif lie == "list":
        d[k] = v.tolist()
    elif lie == "scalar":
        d[k] = draw(scalars())
    elif lie == "empty":
        d[k] = np.zeros((0,) * max(v.ndim, 1), v.dtype)
    elif lie == "mixed_dtype":
        other = np.float32 if v.dtype == np.float64 else np.float64
        with np.errstate(over="ignore"):  # huge float64 params overflow float32
            d[k] = v.astype(other)
    elif lie == "rank":
        d[k] = v.reshape(-1) if v.ndim == 2 else v[None]
    else:
        return draw(wrong_mappings())
    return d


@st.composite
def params_arg(draw: st.DrawFn, valid: Any) -> Any:
    """``valid`` most of the time, else a near miss or anything at all."""
    kind = draw(choice(["valid"] * 6, ["near", "near", "hostile"]))
    if kind == "valid":
        return valid
    if kind == "near":
        return draw(near_params(valid))
    return draw(hostile())


# -------------------------------------------------------------- batches


@st.composite
def real_batch(draw: st.DrawFn, rows: int, cols: int, *, extreme: bool = True) -> Any:
    """A ``(rows, cols)`` batch of any real dtype, values moderate or extreme."""
    dtype = draw(st.sampled_from(REAL_DTYPES))
    if dtype.kind == "f":
        info = np.finfo(dtype)
        moderate = st.floats(-4.0, 4.0, width=8 * dtype.itemsize)  # type: ignore[arg-type,unused-ignore]
        vals = [v for v in EXTREMES if np.isnan(v) or abs(v) <= float(info.max)]
        el = st.one_of(moderate, st.sampled_from(vals)) if extreme else moderate
        el = draw(choice([moderate, moderate], [el]))
    elif dtype.kind == "b":
        el = st.booleans()
    else:
        info_i = np.iinfo(dtype)
        el = st.integers(max(info_i.min, -3), min(info_i.max, 3))
        if extreme:
            el = st.one_of(el, st.sampled_from([int(info_i.min), int(info_i.max)]))
    a = draw(arrays(dtype, (rows, cols), elements=el))
    return draw(laid_out(a))


@st.composite
def targets(draw: st.DrawFn, output: str, rows: int, k: int) -> Any:
    """Targets of the kind ``output`` expects, in any layout, sometimes off."""
    kind = draw(choice(["right"] * 4, ["off"]))
    if output == "softmax" and draw(st.booleans()):
        dt = draw(st.sampled_from([np.int64, np.int32, np.uint8, np.float64]))
        lo = 0 if dt == np.uint8 else -1
        labels = st.integers(0, k - 1) if kind == "right" else st.integers(lo, k)
        a = np.asarray(draw(st.lists(labels, min_size=rows, max_size=rows)), dt)
        return draw(laid_out(a))
    if output == "softmax":
        p = draw(arrays(np.float64, (rows, k), elements=st.floats(0.01, 1.0)))
        a = p / p.sum(axis=1, keepdims=True)
    elif output == "sigmoid":
        a = draw(arrays(np.float64, (rows, k), elements=st.floats(0.0, 1.0)))
    else:
        a = draw(arrays(np.float64, (rows, k), elements=st.floats(-1e3, 1e3)))
    if kind == "off":
        a = a * draw(st.sampled_from([-1.0, 2.0, 1e300, np.nan, 0.0]))
    if k == 1 and draw(st.booleans()):
        a = a[:, 0]
    return draw(laid_out(a))


def hidden_arg(n_hidden: int) -> st.SearchStrategy[Any]:
    """One hidden name, or one per layer (unless strict, sometimes wrong)."""
    one = st.sampled_from(HIDDEN)
    valid = valid_hidden(n_hidden)
    invalid = st.one_of(
        st.lists(one, max_size=3), st.sampled_from(["RELU", "", "softmax", "swish"])
    )
    return st.one_of(valid, valid, _unless_strict(invalid, valid))


@st.composite
def arch_kwargs(
    draw: st.DrawFn, params: Any, hidden: Any, output: Any, n_hidden: int
) -> dict[str, Any]:
    """``hidden=``/``output=`` for a call on ``params`` drawn for ``(hidden, output)``.

    What the params record may be left out (the record is used) or given
    again; what they do not record is given (left out, unless strict: then
    the defaults, relu and sigmoid, run). Unless strict, sometimes anything
    (``hidden_arg``, any output name), which may contradict the record: a
    ValueError naming the argument.
    """
    kw: dict[str, Any] = {}
    for name, value, recorded in zip(
        ("hidden", "output"), (hidden, output), record_of(params), strict=True
    ):
        how = draw(
            choice(
                ["give", "omit"] if recorded is not None else ["give"],
                ["omit", "wild"],
            )
        )
        if how == "give":
            kw[name] = value
        elif how == "wild":
            other = (
                hidden_arg(n_hidden) if name == "hidden" else st.sampled_from(OUTPUT)
            )
            kw[name] = draw(other)
    return kw


def subclassed(a: Any) -> list[tuple[str, Any]]:
    """``a`` as the ndarray subclasses nnfunc refuses, by kind.

    A masked array with nothing masked, one with its first element masked
    (when it has one), and an ``np.matrix`` (of at most 2 dimensions: a
    1-D array becomes one row, a 0-d one a 1 x 1 matrix). Copies: ``a`` is
    never shared.
    """
    arr = np.array(a)  # a copy, also of a list
    # fill 0: the default (1e20) overflows float16 when the array is printed
    fill = 0 if arr.dtype.kind in "biufc" else None
    out: list[tuple[str, Any]] = [
        ("masked", np.ma.masked_array(arr, mask=False, fill_value=fill))
    ]
    if arr.size:
        mask = np.zeros(arr.shape, dtype=bool)
        mask.flat[0] = True
        some = np.ma.masked_array(arr.copy(), mask=mask, fill_value=fill)
        out.append(("masked_some", some))
    if arr.ndim <= 2:  # a view: np.matrix(...) itself warns that it is pending removal
        out.append(("matrix", np.atleast_2d(arr.copy()).view(np.matrix)))
    return out


@st.composite
def _unless_strict(
    draw: st.DrawFn, strategy: st.SearchStrategy[Any], fallback: st.SearchStrategy[Any]
) -> Any:
    return draw(fallback if MODE.strict else strategy)


def seeds() -> st.SearchStrategy[Any]:
    """Valid seeds: ints of any size >= 0 and SeedSequences."""
    return st.one_of(
        st.integers(0, 2**128),
        st.builds(np.random.SeedSequence, st.integers(0, 2**64)),
        st.sampled_from([np.int64(3), np.uint64(2**63)]),
    )


# ------------------------------------------------------- optimizer states

#: The slots of each optimizer's state, one letter each (``m.W1``, ``v.W1``).
SLOTS = {"sgd": "", "momentum": "m", "rmsprop": "v", "adam": "mv", "adamw": "mv"}


@st.composite
def opt_state_for(draw: st.DrawFn, name: str, p: Mapping[str, Any]) -> Any:
    """A state for optimizer ``name``: fresh, stepped, or one of many lies."""
    init = getattr(nf, f"{name}_init") if name != "sgd" else nf.sgd_init
    state = dict(init(p))
    if draw(st.booleans()):
        state["count"] = np.array(draw(st.integers(0, 2**40)), dtype=np.int64)
        for k in state:
            if k != "count":
                v = draw(arrays(np.float64, state[k].shape, elements=st.floats(0, 2)))
                state[k] = v.astype(state[k].dtype)
    if draw(st.booleans()):  # a state from train: every step keeps its epoch
        state["epoch"] = np.array(draw(st.integers(0, 2**40)), dtype=np.int64)
    lie = draw(choice(["none"], ["none"] * 5 + ["count", "drop", "other", "neg"]))
    if lie == "count":
        state["count"] = draw(st.sampled_from([0, np.int32(0), np.array([0]), 1.5]))
    elif lie == "drop" and len(state) > 1:
        del state[sorted(state)[0]]
    elif lie == "other":
        return dict(nf.adam_init(p)) if name != "adam" else dict(nf.sgd_init(p))
    elif lie == "neg":
        state["count"] = np.array(-1, dtype=np.int64)
    if draw(st.booleans()):
        return nf.freeze(state)
    return {k: draw(laid_out(v)) if k != "count" else v for k, v in state.items()}
