"""save/load: bit-exact round trips, strict validation, no unpickling, atomicity.

The first part checks what a checkpoint holds; the second (from "the file
system" on) the file that holds it: archives whose members overlap (a zip
bomb that older ``zipfile`` versions read), headers that declare more than
the file holds, FIFOs, devices, sockets and directories where a checkpoint
is expected, permission bits, long non-ASCII names, and the temporary files
a killed save leaves.
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import pathlib
import pickle
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nnfunc as nf
from nnfunc import _npz
from nnfunc._types import OptState
from nnfunc.io import Checkpoint, CheckpointError, load, save, stale_temporaries
from nnfunc.params import freeze
from tests.strategies import FLOAT_DTYPES, HIDDEN

NDArray = npt.NDArray[Any]

# ---------------------------------------------------------------- strategies


def finite(dtype: np.dtype[Any], shape: tuple[int, ...]) -> st.SearchStrategy[NDArray]:
    """Finite values of every kind: subnormals, -0.0, huge and tiny."""
    width: Literal[32, 64] = 32 if dtype == np.float32 else 64
    elements = st.floats(allow_nan=False, allow_infinity=False, width=width)
    return arrays(dtype, shape, elements=elements)


@st.composite
def nets(draw: st.DrawFn) -> nf.Params:
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    out: dict[str, NDArray] = {}
    for l in range(1, len(sizes)):
        out[f"W{l}"] = draw(finite(dtype, (sizes[l - 1], sizes[l])))
        out[f"b{l}"] = draw(finite(dtype, (sizes[l],)))
    return freeze(out)


@st.composite
def states(draw: st.DrawFn, params: nf.Params) -> OptState:
    """A state shaped like Adam's: a count and ``m.``/``v.`` slots."""
    state: dict[str, NDArray] = {"count": np.array(draw(st.integers(0, 2**62)))}
    for slot in draw(st.sets(st.sampled_from(["m", "v", "velocity"]))):
        for k, p in params.items():
            state[f"{slot}.{k}"] = draw(finite(p.dtype, p.shape))
    return freeze(state)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)

# ------------------------------------------------------------------- helpers


def same_bits(a: Mapping[str, NDArray], b: Mapping[str, NDArray]) -> bool:
    return list(a) == list(b) and all(
        a[k].dtype == b[k].dtype
        and a[k].shape == b[k].shape
        and a[k].tobytes() == b[k].tobytes()
        for k in a
    )


def net_members(dtype: Any = np.float64) -> dict[str, NDArray]:
    """The members of a valid checkpoint of a [3, 4, 2] net, for tampering."""
    p = nf.init_params([3, 4, 2], seed=0, dtype=dtype)
    return {f"params/{k}": np.array(v) for k, v in p.items()}


def header(**changes: Any) -> NDArray:
    h: dict[str, Any] = {
        "format": "nnfunc.checkpoint",
        "version": 1,
        "dtype": "float64",
        "sizes": [3, 4, 2],
        "hidden": "relu",
        "output": "softmax",
        "params": ["W1", "b1", "W2", "b2"],
        "opt_state": None,
        "meta": None,
    }
    h.update(changes)
    for k in [k for k, v in changes.items() if v is DROP]:
        del h[k]
    return np.frombuffer(json.dumps(h).encode(), dtype=np.uint8)


DROP = object()


def write_npz(path: pathlib.Path, members: Mapping[str, Any]) -> None:
    with open(path, "wb") as f:
        np.savez(f, **members)


def expect_error(path: pathlib.Path, match: str) -> CheckpointError:
    with pytest.raises(CheckpointError, match=match) as e:
        load(path)
    assert repr(str(path)) in str(e.value)  # the message names the file
    assert e.value.__context__ is None  # no zipfile/numpy traceback attached
    return e.value


@pytest.fixture
def good(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "good.npz"
    state = freeze({"count": np.array(7), "m.W1": np.ones((3, 4))})
    save(path, nf.init_params([3, 4, 2], seed=0), opt_state=state, meta={"k": 1})
    return path


@pytest.fixture
def calls() -> Iterator[list[str]]:
    CALLS.clear()
    yield CALLS
    CALLS.clear()


CALLS: list[str] = []


def _record(tag: str) -> str:
    """Stands for arbitrary code: unpickling a Payload calls it."""
    CALLS.append(tag)
    return tag


class Payload:
    def __reduce__(self) -> tuple[Callable[[str], str], tuple[str]]:
        return (_record, ("unpickled",))


# ---------------------------------------------------------------- round trip


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), params=nets(), meta=json_values)
def test_round_trip_is_bit_exact(
    data: st.DataObject, params: nf.Params, meta: Any
) -> None:
    state = data.draw(st.none() | states(params))
    n_hidden = len(params) // 2 - 1
    one = st.sampled_from(HIDDEN)
    hidden = data.draw(
        st.none() | one | st.lists(one, min_size=n_hidden, max_size=n_hidden)
    )
    k = params[f"b{n_hidden + 1}"].shape[0]
    outs: list[nf.OutputName] = ["sigmoid", "identity"]
    if k >= 2:
        outs.append("softmax")
    output = data.draw(st.none() | st.sampled_from(outs))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ckpt.npz")
        save(path, params, opt_state=state, hidden=hidden, output=output, meta=meta)
        ckpt = load(path)
        assert os.listdir(d) == ["ckpt.npz"]
    assert isinstance(ckpt, Checkpoint)
    assert same_bits(ckpt.params, params)
    if state is None:
        assert ckpt.opt_state is None
    else:
        assert ckpt.opt_state is not None
        assert same_bits(ckpt.opt_state, state)
    assert ckpt.hidden == (
        hidden if hidden is None or isinstance(hidden, str) else tuple(hidden)
    )
    assert ckpt.output == output
    assert ckpt.meta == meta
    assert ckpt.sizes == nf.layer_sizes(params)
    assert ckpt.dtype == params["W1"].dtype
    for a in [*ckpt.params.values(), *(ckpt.opt_state or {}).values()]:
        assert not a.flags.writeable


def test_loaded_mappings_are_read_only(good: pathlib.Path) -> None:
    ckpt = load(good)
    assert ckpt.opt_state is not None
    with pytest.raises(TypeError):
        ckpt.params["W1"] = np.zeros((3, 4))  # type: ignore[index]
    with pytest.raises(TypeError):
        ckpt.opt_state["count"] = np.array(0)  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        ckpt.params["W1"][0, 0] = 1.0
    assert int(ckpt.opt_state["count"]) == 7
    assert ckpt.opt_state["count"].dtype == np.array(7).dtype


def test_save_leaves_inputs_alone(tmp_path: pathlib.Path) -> None:
    frozen = nf.init_params([3, 4, 2], hidden="tanh", seed=1)  # ["tanh"] agrees
    W1 = np.asfortranarray(np.arange(12.0).reshape(3, 4))  # F order round-trips
    W2 = np.arange(16.0).reshape(4, 4)[:, ::2]  # a strided view round-trips
    writable = {"W1": W1, "b1": np.zeros(4), "W2": W2, "b2": np.ones(2)}
    for params in (frozen, writable):
        before = {
            k: (v.copy(), v.flags.writeable, v.flags.owndata) for k, v in params.items()
        }
        state = {"count": np.array(1), "m.W1": np.ones((3, 4))}
        save(tmp_path / "a.npz", params, opt_state=state, hidden=["tanh"])
        for k, (copy, w, own) in before.items():
            v = params[k]
            assert (v == copy).all()
            assert (v.flags.writeable, v.flags.owndata) == (w, own)
        assert state["m.W1"].flags.writeable
        assert same_bits(load(tmp_path / "a.npz").params, params)


def test_same_inputs_give_the_same_bytes(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = nf.init_params([5, 3, 1], seed=4, dtype=np.float32)
    save(tmp_path / "a.npz", params, meta={"epoch": 1})
    later = time.time() + 3600.0
    monkeypatch.setattr(time, "time", lambda: later)  # no clock time is stored
    save(tmp_path / "b.npz", params, meta={"epoch": 1})
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_path_is_used_exactly_as_given(tmp_path: pathlib.Path) -> None:
    params = nf.init_params([2, 1])
    save(str(tmp_path / "net"), params)
    assert os.listdir(tmp_path) == ["net"]
    assert same_bits(load(tmp_path / "net").params, params)
    np.load(tmp_path / "net").close()  # a plain .npz for NumPy too


# ------------------------------------------------------- save: bad arguments

GOOD = nf.init_params([3, 4, 2], hidden="tanh", output="softmax", seed=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"params": {"W1": np.ones((3, 4))}}, ValueError, "params must have keys"),
        (
            {"params": {"W1": np.ones((3, 2), int), "b1": np.ones(2, int)}},
            TypeError,
            "float32",
        ),
        ({"meta": object()}, TypeError, "meta"),
        ({"meta": {"a": float("nan")}}, TypeError, "meta"),
        ({"meta": (1, 2)}, TypeError, "meta.*tuples"),
        ({"meta": {1: "a"}}, TypeError, "meta"),
        ({"opt_state": [np.ones(3)]}, TypeError, "opt_state must be a mapping"),
        ({"opt_state": {"m.W1": [1.0]}}, TypeError, r"opt_state\['m.W1'\]"),
        ({"opt_state": {"m.W1": np.ones(2, np.float32)}}, TypeError, "float64"),
        ({"opt_state": {"m.W1": np.full(2, np.inf)}}, ValueError, "NaN or infinite"),
        ({"opt_state": {"count": np.array(1.0)}}, ValueError, "count"),
        ({"opt_state": {"count": np.array([1])}}, ValueError, "count"),
        ({"opt_state": {"count": np.array(-1)}}, ValueError, "count"),
        ({"opt_state": {"a/b": np.ones(1)}}, ValueError, "opt_state keys"),
        ({"hidden": "nope"}, ValueError, "hidden"),
        ({"hidden": ["relu", "relu"]}, ValueError, "hidden"),
        (
            {"output": "softmax", "params": freeze(nf.init_params([2, 1]))},
            ValueError,
            "softmax' needs at least 2 output units",
        ),
        ({"hidden": "relu"}, ValueError, "hidden='relu' contradicts the params"),
        ({"output": "sigmoid"}, ValueError, "output='sigmoid' contradicts"),
        ({"output": "mse"}, ValueError, "output"),
        ({"path": b"x.npz"}, TypeError, "path"),
        ({"path": ""}, ValueError, "path"),
    ],
)
def test_bad_arguments_are_rejected_before_writing(
    tmp_path: pathlib.Path, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    args: dict[str, Any] = {"path": tmp_path / "x.npz", "params": GOOD, **kwargs}
    with pytest.raises(error, match=match):
        save(**args)
    assert os.listdir(tmp_path) == []


def test_missing_directory_and_missing_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save(tmp_path / "no" / "x.npz", GOOD)
    with pytest.raises(FileNotFoundError, match=r"x\.npz"):
        load(tmp_path / "x.npz")


# ---------------------------------------------------- load: corrupted bytes


def good_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "g.npz")
        state = freeze({"count": np.array(2), "m.W1": np.ones((3, 4))})
        save(path, GOOD, opt_state=state, meta={"note": "x"})  # records tanh
        return pathlib.Path(path).read_bytes()


BYTES = good_bytes()


@settings(deadline=None)
@given(cut=st.integers(0, len(BYTES) - 1))
def test_truncated_files_are_rejected(cut: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d, "t.npz")
        path.write_bytes(BYTES[:cut])
        expect_error(path, "empty" if cut == 0 else "corrupt|truncated|not an .npz")


@settings(deadline=None)
@given(at=st.integers(0, len(BYTES) - 1), xor=st.integers(1, 255))
def test_a_flipped_byte_never_gives_wrong_data(at: int, xor: int) -> None:
    corrupt = bytearray(BYTES)
    corrupt[at] ^= xor
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d, "f.npz")
        path.write_bytes(bytes(corrupt))
        try:
            ckpt: Checkpoint | None = load(path)
        except CheckpointError as e:
            ckpt, message = None, str(e)
    if ckpt is None:
        assert repr(str(path)) in message
    else:  # the byte was in a field load does not read (a time, a mode)
        assert same_bits(ckpt.params, GOOD)
        assert ckpt.opt_state is not None
        assert int(ckpt.opt_state["count"]) == 2


@settings(deadline=None)
@given(junk=st.binary(max_size=300), zip_like=st.booleans())
def test_random_bytes_are_rejected(junk: bytes, zip_like: bool) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d, "r.npz")
        path.write_bytes(b"PK\x03\x04" + junk if zip_like else junk)
        expect_error(path, ".")


# ----------------------------------------------------- load: never unpickle


def test_object_array_member_is_never_unpickled(
    tmp_path: pathlib.Path, calls: list[str]
) -> None:
    path = tmp_path / "evil.npz"
    members = {"header": header(), **net_members()}
    members["params/W1"] = np.array([Payload()], dtype=object)
    write_npz(path, members)
    with np.load(path, allow_pickle=True) as z:  # the payload is live...
        z["params/W1"]
    assert calls == ["unpickled"]
    calls.clear()
    expect_error(path, "never holds Python objects")  # ...but load never runs it
    assert calls == []


def test_raw_pickle_member_and_pickle_file_are_never_unpickled(
    tmp_path: pathlib.Path, calls: list[str]
) -> None:
    payload = pickle.dumps(Payload())
    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("header.npy", _npy(header()))
        for k, v in net_members().items():
            zf.writestr(f"{k}.npy", payload if k == "params/b1" else _npy(v))
    expect_error(path, r"'params/b1.npy' is not a .npy array")
    path.write_bytes(payload)
    expect_error(path, "not an .npz")
    with open(path, "wb") as f:
        np.save(f, np.array([Payload()], dtype=object), allow_pickle=True)
    expect_error(path, "not an .npz")
    assert calls == []


def _npy(a: NDArray, fmt_version: tuple[int, int] = (1, 0)) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, fmt_version, allow_pickle=True)
    return buf.getvalue()


# ------------------------------------------------ load: structural problems


def _huge_npy() -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 4)}
    )
    return buf.getvalue() + bytes(16)


CASES: list[tuple[str, Callable[[dict[str, NDArray]], object], str]] = [
    ("no header", lambda m: m.pop("header"), "no header.npy"),
    (
        "missing",
        lambda m: m.pop("params/b2"),
        r"'params/b2.npy' are declared but missing",
    ),
    ("extra", lambda m: m.update(junk=np.ones(1)), r"'junk.npy' are not declared"),
    (
        "state missing",
        lambda m: m.update(header=header(opt_state=["count"])),
        "missing",
    ),
    ("not json", lambda m: m.update(header=np.frombuffer(b"{oops", np.uint8)), "JSON"),
    (
        "not utf8",
        lambda m: m.update(header=np.frombuffer(b"\xff\xfe", np.uint8)),
        "UTF-8",
    ),
    ("NaN json", lambda m: m.update(header=np.frombuffer(b"NaN", np.uint8)), "JSON"),
    (
        "unicode header",
        lambda m: m.update(header=np.array(["{}"])),
        "not a plain numeric",
    ),
    ("2-D header", lambda m: m.update(header=header().reshape(1, -1)), "1-D uint8"),
    ("json list", lambda m: m.update(header=np.frombuffer(b"[1]", np.uint8)), "format"),
    ("other format", lambda m: m.update(header=header(format="other")), "'other'"),
    (
        "future",
        lambda m: m.update(header=header(version=2)),
        r"version 2 .*newer.*\[1\]",
    ),
    ("version 0", lambda m: m.update(header=header(version=0)), "unsupported .* 0"),
    ("version str", lambda m: m.update(header=header(version="1")), "unsupported"),
    ("extra field", lambda m: m.update(header=header(extra=1)), "fields"),
    ("missing field", lambda m: m.update(header=header(meta=DROP)), "fields"),
    ("bad dtype", lambda m: m.update(header=header(dtype="float16")), "dtype"),
    ("bad sizes", lambda m: m.update(header=header(sizes=[3, True, 2])), "sizes"),
    ("dup keys", lambda m: m.update(header=header(params=["W1", "W1"])), "params"),
    ("bad key", lambda m: m.update(header=header(opt_state=["../x"])), "opt_state"),
    ("wrong sizes", lambda m: m.update(header=header(sizes=[3, 5, 2])), "header says"),
    ("wrong dtype", lambda m: m.update(header=header(dtype="float32")), "header says"),
    (
        "bad hidden",
        lambda m: m.update(header=header(hidden="nope")),
        "header: unknown hidden",
    ),
    ("bad output", lambda m: m.update(header=header(output=3)), "header: output"),
    (
        "int",
        lambda m: m.update({"params/W1": np.ones((3, 4), int)}),
        "float32 or float64",
    ),
    ("complex", lambda m: m.update({"params/W1": np.ones((3, 4), complex)}), "numeric"),
    ("big endian", lambda m: m.update({"params/W1": np.ones((3, 4), ">f8")}), ">f8"),
    (
        "float16",
        lambda m: m.update({"params/W1": np.ones((3, 4), np.float16)}),
        "float32 or float64, got float16",
    ),
    ("mixed", lambda m: m.update({"params/b1": np.ones(4, np.float32)}), "one dtype"),
    ("shape", lambda m: m.update({"params/W2": np.ones((5, 2))}), r"'W2'.*\(5, 2\)"),
    ("1-D W", lambda m: m.update({"params/W1": np.ones(12)}), "2-D"),
    ("nan", lambda m: m.update({"params/b1": np.full(4, np.nan)}), "NaN"),
    ("inf", lambda m: m.update({"params/W2": np.full((4, 2), -np.inf)}), "infinite"),
]


def _with_state(**state: NDArray) -> Callable[[dict[str, NDArray]], object]:
    def change(m: dict[str, NDArray]) -> None:
        m["header"] = header(opt_state=list(state))
        m.update((f"opt_state/{k}", v) for k, v in state.items())

    return change


CASES += [
    ("float count", _with_state(count=np.array(1.0)), "count"),
    ("1-D count", _with_state(count=np.array([1])), "count"),
    ("state dtype", _with_state(**{"m.W1": np.ones((3, 4), np.float32)}), "float64"),
    ("state nan", _with_state(**{"m.W1": np.full((3, 4), np.nan)}), "NaN"),
]


@pytest.mark.parametrize(
    ("change", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_content_is_a_clear_error(
    tmp_path: pathlib.Path, change: Callable[[dict[str, NDArray]], object], match: str
) -> None:
    members = {"header": header(), **net_members()}
    path = tmp_path / "bad.npz"
    write_npz(path, members)
    assert load(path).sizes == (3, 4, 2)  # untouched, the file is valid
    change(members)
    write_npz(path, members)
    expect_error(path, match)


def test_zip_level_tampering_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    members: dict[str, Any] = {"header": header(), **net_members()}
    path = tmp_path / "bad.npz"
    with open(path, "wb") as f:
        np.savez_compressed(f, **members)
    expect_error(path, "compressed")
    with zipfile.ZipFile(path, "w") as zf:
        for k, v in members.items():
            zf.writestr(f"{k}.npy", _npy(v))
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("params/W1.npy", _npy(members["params/W1"]))
    expect_error(path, "duplicate members 'params/W1.npy'")
    with zipfile.ZipFile(path, "w") as zf:
        for k, v in members.items():
            zf.writestr(f"{k}.npy", _huge_npy() if k == "params/W1" else _npy(v))
    expect_error(
        path, r"holds 16 data bytes but its header says float64 \(1000000000000, 4\)"
    )
    with zipfile.ZipFile(path, "w") as zf:
        for k, v in members.items():
            zf.writestr(f"{k}.npy", _npy(v, (2, 0)))
    expect_error(path, r"is not a .npy array \(format 1.0\)")


# ------------------------------------------------------------------ atomicity


@pytest.mark.parametrize("stage", ["write", "replace"])
@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_save_keeps_the_old_file(
    good: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    error: BaseException,
) -> None:
    before = good.read_bytes()
    written: list[str] = []
    real_write = np.lib.format.write_array

    def write_then_fail(fp: Any, a: NDArray, *args: Any, **kw: Any) -> None:
        if written:  # the first member is written, then the disk fills up
            raise error
        written.append("one")
        real_write(fp, a, *args, **kw)

    def fail(*args: Any) -> None:
        raise error

    if stage == "write":
        monkeypatch.setattr(np.lib.format, "write_array", write_then_fail)
    else:
        monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(type(error)):
        save(good, nf.init_params([3, 4, 2], seed=9), meta={"new": True})
    monkeypatch.undo()
    assert good.read_bytes() == before
    assert os.listdir(good.parent) == [good.name]  # no temp file left
    assert load(good).meta == {"k": 1}


def test_saving_over_a_directory_fails_cleanly(tmp_path: pathlib.Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(ValueError, match="it is a directory, not a regular file"):
        save(tmp_path / "d", GOOD)
    assert os.listdir(tmp_path) == ["d"]


CHILD = textwrap.dedent(
    """
    import sys
    from nnfunc.io import save
    from nnfunc.params import init_params

    nets = [init_params([300, 400, 100], seed=s) for s in (0, 1)]
    for i in range(10**6):
        save(sys.argv[1], nets[i % 2], meta={"seed": i % 2})
        if i == 0:
            print("saved", flush=True)
    """
)


def test_killing_a_saving_process_leaves_old_or_new(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "net.npz"
    nets = [nf.init_params([300, 400, 100], seed=s) for s in (0, 1)]
    save(path, nets[0], meta={"seed": 0})
    rng = np.random.default_rng(2024)
    leftovers: set[str] = set()
    # At least 8 kills, and on until one has landed inside a write (about 2
    # in 3 do: a temp file is left). The cap makes a miss vanishingly rare.
    for attempt in range(40):
        if attempt >= 8 and leftovers:
            break
        with subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE
        ) as child:
            assert child.stdout is not None
            assert child.stdout.readline() == b"saved\n"
            time.sleep(float(rng.uniform(0.0, 0.15)))
            child.kill()
            child.wait()
        ckpt = load(path)
        seed = ckpt.meta["seed"]
        assert same_bits(ckpt.params, nets[seed])
        leftovers = set(os.listdir(tmp_path)) - {"net.npz"}
        assert all(n.startswith(".net.npz.") and n.endswith(".tmp") for n in leftovers)
        found = {os.path.basename(t) for t in nf.io.stale_temporaries(path)}
        assert found == leftovers  # the documented pattern finds exactly these
    assert leftovers  # the kills did hit writes in progress


def test_the_state_train_returns_round_trips(tmp_path: pathlib.Path) -> None:
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    kw: dict[str, Any] = {"optimizer": nf.adam(0.01), "batch_size": 2, "verbose": False}
    params, state, _ = nf.train(
        nf.init_params([2, 3, 1], hidden="tanh"), x, y, epochs=2, **kw
    )
    path = tmp_path / "run.npz"
    nf.save(path, params, opt_state=state)
    back = nf.load(path)
    assert back.opt_state is not None
    assert sorted(back.opt_state) == sorted(state)
    for k, v in state.items():
        assert back.opt_state[k].dtype == v.dtype
        assert back.opt_state[k].tobytes() == v.tobytes()
    # the library's own value, equal to the one train returned (epoch too)
    assert isinstance(state, nf.Frozen)
    assert isinstance(back.opt_state, nf.Frozen)
    assert back.opt_state == state
    assert int(back.opt_state["epoch"]) == 2
    assert back.params == params  # bits and record: hidden='tanh'
    assert (back.hidden, back.output) == ("tanh", "sigmoid")
    # and both resume alike: train, and the step function fed directly
    again = nf.train(back.params, x, y, epochs=1, opt_state=back.opt_state, **kw)
    same = nf.train(params, x, y, epochs=1, opt_state=state, **kw)
    assert (again.params, again.opt_state) == (same.params, same.opt_state)
    assert again.history[0].train_loss == same.history[0].train_loss
    g = nf.grads(params, x, y)
    assert nf.adam_step(back.params, g, back.opt_state, lr=0.01) == nf.adam_step(
        params, g, state, lr=0.01
    )


# ---------------------------------------------------------------- the record


def header_of(path: pathlib.Path) -> dict[str, Any]:
    """The JSON header of a checkpoint, read with NumPy alone."""
    with np.load(path) as z:
        h: dict[str, Any] = json.loads(z["header"].tobytes())
    return h


@pytest.mark.parametrize(
    ("hidden", "output"),
    [
        ("tanh", "softmax"),
        ("relu", "sigmoid"),
        (("elu", "gelu"), "identity"),
        (["sigmoid", "relu"], "sigmoid"),
    ],
)
def test_save_writes_the_params_record_and_load_returns_it(
    tmp_path: pathlib.Path, hidden: nf.Hidden, output: nf.OutputName
) -> None:
    p = nf.init_params([3, 4, 4, 2], hidden=hidden, output=output, seed=2)
    path = tmp_path / "net.npz"
    save(path, p)  # no hidden/output given: the record is written
    h = header_of(path)
    assert h["hidden"] == (hidden if isinstance(hidden, str) else list(hidden))
    assert h["output"] == output
    ckpt = load(path)
    assert isinstance(ckpt.params, nf.Frozen)
    assert ckpt.params.hidden == p.hidden
    assert ckpt.params.output == p.output == output
    assert (ckpt.hidden, ckpt.output) == (p.hidden, p.output)
    assert ckpt.params == p  # keys, dtypes, bits and record
    x = np.linspace(-2.0, 2.0, 15).reshape(5, 3)
    assert np.array_equal(nf.forward(ckpt.params, x), nf.forward(p, x))
    # arguments that agree with the record are no contradiction: same file
    save(tmp_path / "same.npz", p, hidden=hidden, output=output)
    assert (tmp_path / "same.npz").read_bytes() == path.read_bytes()


def test_a_plain_mapping_saves_without_a_record(tmp_path: pathlib.Path) -> None:
    plain = dict(nf.init_params([3, 4, 2], seed=0))
    save(tmp_path / "a.npz", plain)
    h = header_of(tmp_path / "a.npz")
    assert (h["hidden"], h["output"]) == (None, None)
    ckpt = load(tmp_path / "a.npz")
    assert (ckpt.hidden, ckpt.output) == (None, None)
    assert isinstance(ckpt.params, nf.Frozen)
    assert (ckpt.params.hidden, ckpt.params.output) == (None, None)
    assert ckpt.params == freeze(plain)
    save(tmp_path / "b.npz", plain, hidden="elu", output="identity")  # recorded
    back = load(tmp_path / "b.npz").params
    assert isinstance(back, nf.Frozen)
    assert (back.hidden, back.output) == ("elu", "identity")


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"hidden": "relu"}, r"hidden='relu' contradicts .* record hidden='tanh'"),
        (
            {"hidden": ["relu", "tanh"]},
            r"hidden=\['relu', 'tanh'\] contradicts .* record hidden='tanh'",
        ),
        (
            {"output": "identity"},
            r"output='identity' contradicts .* record output='softmax'",
        ),
        (
            {"hidden": "tanh", "output": "sigmoid"},
            r"output='sigmoid' contradicts .* record output='softmax'",
        ),
    ],
)
def test_an_argument_that_contradicts_the_record_is_refused(
    tmp_path: pathlib.Path, kw: dict[str, Any], match: str
) -> None:
    p = nf.init_params([3, 4, 4, 2], hidden="tanh", output="softmax", seed=0)
    path = tmp_path / "net.npz"
    save(path, p, meta="old")
    before = path.read_bytes()
    with pytest.raises(ValueError, match=match):
        save(path, p, meta="new", **kw)
    assert path.read_bytes() == before  # nothing was written
    assert os.listdir(tmp_path) == ["net.npz"]


# ========================================================== the file system

#: The network of the file-system tests (the record relu/sigmoid).
NET = nf.init_params([3, 4, 2], seed=0)
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX file semantics")

# ----------------------------------------------------- zip records by hand


def npy(a: NDArray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, (1, 0), allow_pickle=False)
    return buf.getvalue()


def npy_header(n_bytes: int) -> bytes:
    """The ``.npy`` header of a 1-D uint8 array of ``n_bytes``."""
    buf = io.BytesIO()
    d = {"descr": "|u1", "fortran_order": False, "shape": (n_bytes,)}
    np.lib.format.write_array_header_1_0(buf, d)
    return buf.getvalue()


def local(name: str, crc: int, size: int) -> bytes:
    """A zip local file header for a stored member."""
    n = name.encode()
    fields = (b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, size, size, len(n), 0)
    return struct.pack("<4s5H3L2H", *fields) + n


def central(name: str, crc: int, size: int, offset: int) -> bytes:
    """A zip central-directory entry for a stored member at ``offset``."""
    n = name.encode()
    fields = (b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, crc, size, size, len(n))
    return struct.pack("<4s6H3L5H2L", *fields, 0, 0, 0, 0, 0, offset) + n


def end_record(n: int, cd_size: int, cd_start: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, cd_size, cd_start, 0)


def header_bytes(**changes: Any) -> bytes:
    h: dict[str, Any] = {
        "format": "nnfunc.checkpoint",
        "version": 1,
        "dtype": "float64",
        "sizes": [3, 4, 2],
        "hidden": None,
        "output": None,
        "params": ["W1", "b1", "W2", "b2"],
        "opt_state": None,
        "meta": None,
    }
    h.update(changes)
    return npy(np.frombuffer(json.dumps(h).encode(), dtype=np.uint8))


def plain_members(**header: Any) -> dict[str, bytes]:
    """The members of a valid [3, 4, 2] checkpoint, as ``.npy`` bytes."""
    out = {"header.npy": header_bytes(**header)}
    out.update((f"params/{k}.npy", npy(np.asarray(v))) for k, v in NET.items())
    return out


def chained(n: int, payload: int) -> bytes:
    """A checkpoint whose ``n`` state members overlap like a telescope.

    Each member ``opt_state/s.i.npy`` is a valid uint8 ``.npy`` whose data
    holds the local header and bytes of member ``i + 1``, the last one holds
    ``payload`` zero bytes: a file of about ``payload`` bytes whose members
    add up to about ``n * payload``. Every CRC is right, so a ``zipfile``
    that does not check overlaps reads it all.
    """
    keys = [f"s.{i}" for i in range(n)]
    names = [f"opt_state/{k}.npy" for k in keys]
    zeros = bytes(payload)
    npy_heads, crcs, sizes = [b""] * n, [0] * n, [0] * n
    after: list[bytes] = []  # local header and npy header of each later member
    for i in reversed(range(n)):
        rest = b"".join(after)
        npy_heads[i] = npy_header(len(rest) + payload)
        sizes[i] = len(npy_heads[i]) + len(rest) + payload
        crcs[i] = zlib.crc32(zeros, zlib.crc32(rest, zlib.crc32(npy_heads[i])))
        after = [local(names[i], crcs[i], sizes[i]), npy_heads[i], *after]
    out, cd = io.BytesIO(), []
    for name, data in plain_members(opt_state=keys).items():
        cd.append(central(name, zlib.crc32(data), len(data), out.tell()))
        out.write(local(name, zlib.crc32(data), len(data)) + data)
    for i in range(n):
        cd.append(central(names[i], crcs[i], sizes[i], out.tell()))
        out.write(local(names[i], crcs[i], sizes[i]) + npy_heads[i])
    out.write(zeros)
    return finish(out, cd)


def shared_offset(n: int, payload: int) -> bytes:
    """A checkpoint whose ``n`` state members all point at one local record."""
    keys = [f"s.{i}" for i in range(n)]
    data = npy(np.zeros(payload, np.uint8))
    out, cd = io.BytesIO(), []
    for name, member in plain_members(opt_state=keys).items():
        cd.append(central(name, zlib.crc32(member), len(member), out.tell()))
        out.write(local(name, zlib.crc32(member), len(member)) + member)
    at = out.tell()
    out.write(local("opt_state/s.0.npy", zlib.crc32(data), len(data)) + data)
    cd += [central(f"opt_state/{k}.npy", zlib.crc32(data), len(data), at) for k in keys]
    return finish(out, cd)


def finish(out: io.BytesIO, cd: list[bytes]) -> bytes:
    start = out.tell()
    out.write(b"".join(cd))
    out.write(end_record(len(cd), out.tell() - start, start))
    return out.getvalue()


def archive(members: dict[str, bytes]) -> bytes:
    """A well-formed stored zip of ``members``, written by ``zipfile``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def peak_of_load(path: pathlib.Path) -> tuple[int, str]:
    """The peak bytes Python allocated during ``load(path)``, and its error."""
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError) as e:
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert repr(str(path)) in str(e.value)
    return peak, str(e.value)


# ------------------------------------------------------- archives that lie


def test_the_hand_made_archives_are_valid_zips() -> None:
    data = archive(plain_members())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
    with zipfile.ZipFile(io.BytesIO(chained(3, 100))) as zf:
        assert len(zf.infolist()) == 8
        s0 = zf.getinfo("opt_state/s.0.npy")
        assert s0.file_size > 2 * 100  # s.0 holds s.1 and s.2 inside it


@pytest.mark.parametrize("build", [chained, shared_offset])
def test_overlapping_members_are_refused_before_any_is_read(
    tmp_path: pathlib.Path, build: Callable[[int, int], bytes]
) -> None:
    # 64 members sharing 1 MiB: 64 MiB read on Python < 3.11.8 before the fix.
    path = tmp_path / "bomb.npz"
    path.write_bytes(build(64, 2**20))
    size = path.stat().st_size
    peak, message = peak_of_load(path)
    assert "overlap" in message
    assert peak < 2 * size, f"load of a {size}-byte file allocated {peak} bytes"


def test_a_member_past_the_central_directory_is_refused(
    tmp_path: pathlib.Path,
) -> None:
    out, cd = io.BytesIO(), []
    for name, data in plain_members().items():
        size = len(data) + (10**6 if name == "params/W2.npy" else 0)
        cd.append(central(name, zlib.crc32(data), size, out.tell()))
        out.write(local(name, zlib.crc32(data), size) + data)
    path = tmp_path / "long.npz"
    path.write_bytes(finish(out, cd))
    _, message = peak_of_load(path)
    assert "'params/W2.npy'" in message
    assert "runs past the end" in message


def test_a_huge_header_is_refused_unread(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "big.npz"
    path.write_bytes(archive(plain_members(meta="x" * 2**21)))
    peak, message = peak_of_load(path)
    assert "header.npy is" in message
    assert "at most 1048576 bytes" in message
    assert peak < 2**20  # not even read


def test_save_refuses_a_header_that_load_would_refuse(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "m.npz"
    save(path, NET, meta="")
    with np.load(path) as z:
        base = int(z["header"].size)  # the header's bytes with meta ""
    save(path, NET, meta="x" * (2**20 - base))  # exactly 1 MiB: round-trips
    assert load(path).meta == "x" * (2**20 - base)
    before = path.read_bytes()
    with pytest.raises(
        ValueError, match=r"1048577 bytes of JSON.*1048576 allowed"
    ) as e:
        save(path, NET, meta="x" * (2**20 - base + 1))
    assert repr(str(path)) in str(e.value)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (
            {"sizes": [10**6, 10**6, 2]},
            r"sizes \[1000000, 1000000, 2\] need 8000024000016 bytes of float64 "
            r"params but the file has only \d+ bytes",
        ),
        ({"sizes": [3]}, r"sizes must be 2 or more widths >= 1, got \[3\]"),
        ({"sizes": [3, 0, 2]}, r"sizes must be 2 or more .* got \[3, 0, 2\]"),
        (
            {"params": [f"W{i}" for i in range(1, 1001)]},
            r"sizes \[3, 4, 2\] make 4 params \('W1', 'b1', ..., 'W2', 'b2'\) but "
            r"it lists 1000 \('W1', 'W10', 'W100', 'W1000', 'W101' and 995 more\)",
        ),
        (
            {"params": ["W1", "b1", "W2", "b3"]},
            r"sizes \[3, 4, 2\] make params 'W1', 'b1', ..., 'W2', 'b2' but it "
            r"lists 'W1', 'W2', 'b1', 'b3'",
        ),
    ],
)
def test_a_header_that_declares_what_the_file_cannot_hold(
    tmp_path: pathlib.Path, header: dict[str, Any], match: str
) -> None:
    path = tmp_path / "lies.npz"
    path.write_bytes(archive(plain_members(**header)))
    with pytest.raises(CheckpointError, match=match):
        load(path)


def test_a_header_declaring_many_layers_is_refused_by_count(
    tmp_path: pathlib.Path,
) -> None:
    # The count is compared before any per-layer work is done for it.
    path = tmp_path / "deep.npz"
    path.write_bytes(archive(plain_members(sizes=[1] * 4321)))
    with pytest.raises(CheckpointError, match="make 8640 params"):
        load(path)


def test_a_member_bigger_than_its_declared_shape_is_refused_unread(
    tmp_path: pathlib.Path,
) -> None:
    members = plain_members()
    members["params/W1.npy"] = npy(np.zeros((300, 400)))  # sizes say (3, 4)
    path = tmp_path / "fat.npz"
    path.write_bytes(archive(members))
    peak, message = peak_of_load(path)
    assert (
        "member 'params/W1.npy' is 960128 bytes but the header makes W1 a "
        "float64 (3, 4) array (96 bytes and a .npy header)"
    ) in message
    assert peak < 100_000


# ---------------------------------------------------- load: special files


def unblocked(fn: Callable[[], object], fifo: pathlib.Path) -> BaseException | None:
    """Run ``fn`` in a thread; fail (after unblocking it) if it blocks.

    A reader stuck opening a FIFO is freed by opening the FIFO for writing.
    """
    box: list[BaseException | None] = []

    def run() -> None:
        try:
            fn()
            box.append(None)
        except BaseException as e:  # handed to the test thread
            box.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(5.0)
    if t.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        t.join(5.0)
        pytest.fail(f"{fn} blocked on the FIFO {fifo}")
    return box[0]


@pytest.fixture
def fifo(tmp_path: pathlib.Path) -> pathlib.Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs os.mkfifo")
    path = tmp_path / "fifo.npz"
    os.mkfifo(path)
    return path


@pytest.fixture
def sock(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("needs Unix sockets")
    path = tmp_path / "s.npz"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        yield path


@posix
def test_load_of_a_fifo_with_no_writer_does_not_block(fifo: pathlib.Path) -> None:
    error = unblocked(lambda: load(fifo), fifo)
    assert isinstance(error, CheckpointError)
    assert str(error) == f"cannot load {str(fifo)!r}: it is a FIFO, not a regular file"


@posix
def test_a_fifo_swapped_in_after_the_check_does_not_block_either(
    fifo: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    regular = tmp_path / "regular.npz"
    save(regular, NET)
    real_stat = os.stat
    # os.stat sees a regular file; by the time of the open it is a FIFO.
    monkeypatch.setattr(os, "stat", lambda p, **kw: real_stat(regular, **kw))
    error = unblocked(lambda: load(fifo), fifo)
    monkeypatch.undo()
    assert isinstance(error, CheckpointError)
    assert "it is a FIFO, not a regular file" in str(error)


@posix
@pytest.mark.parametrize("kind", ["directory", "socket", "character device"])
def test_load_names_what_a_special_file_is(
    tmp_path: pathlib.Path, sock: pathlib.Path, kind: str
) -> None:
    path = {"directory": tmp_path, "socket": sock, "character device": "/dev/null"}
    target = str(path[kind])
    with pytest.raises(CheckpointError) as e:
        load(target)
    assert str(e.value) == f"cannot load {target!r}: it is a {kind}, not a regular file"


@posix
def test_load_follows_a_symlink_to_a_regular_file_only(
    tmp_path: pathlib.Path, fifo: pathlib.Path
) -> None:
    save(tmp_path / "real.npz", NET)
    (tmp_path / "link.npz").symlink_to("real.npz")
    assert load(tmp_path / "link.npz").sizes == (3, 4, 2)
    (tmp_path / "to_fifo.npz").symlink_to(fifo)
    error = unblocked(lambda: load(tmp_path / "to_fifo.npz"), fifo)
    assert isinstance(error, CheckpointError)
    assert "it is a symlink to a FIFO, not a regular file" in str(error)


# ---------------------------------------------------- save: special files


@posix
@pytest.mark.parametrize("kind", ["directory", "FIFO", "socket"])
def test_save_never_replaces_a_special_file(
    tmp_path: pathlib.Path, fifo: pathlib.Path, sock: pathlib.Path, kind: str
) -> None:
    (tmp_path / "d").mkdir()
    path = {"directory": tmp_path / "d", "FIFO": fifo, "socket": sock}[kind]
    before = sorted(os.listdir(tmp_path))
    mode = os.lstat(path).st_mode
    with pytest.raises(ValueError, match="not a regular file") as e:
        save(path, NET)
    assert str(e.value) == (
        f"cannot save to {str(path)!r}: it is a {kind}, not a regular file; "
        "save replaces only regular files"
    )
    assert os.lstat(path).st_mode == mode  # still what it was
    assert sorted(os.listdir(tmp_path)) == before  # and no temporary file


@posix
def test_save_to_dev_null_is_refused_before_anything_is_touched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    touched: list[str] = []

    def refuse(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kw: Any) -> Any:
            touched.append(name)
            raise AssertionError(f"save called os.{name}{args}")

        return call

    # Were the check missing, save would stop here, not at /dev/null.
    for name in ("open", "replace", "rename", "unlink", "chmod", "fchmod"):
        monkeypatch.setattr(os, name, refuse(name))
    with pytest.raises(ValueError, match="it is a character device") as e:
        save("/dev/null", NET)
    monkeypatch.undo()
    assert "'/dev/null'" in str(e.value)
    assert touched == []
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@posix
def test_save_replaces_a_symlink_unless_it_points_to_a_special_file(
    tmp_path: pathlib.Path, fifo: pathlib.Path
) -> None:
    save(tmp_path / "real.npz", NET, meta="old")
    link = tmp_path / "link.npz"
    link.symlink_to("real.npz")
    save(link, NET, meta="new")  # the link is replaced, its target kept
    assert not link.is_symlink()
    assert (load(link).meta, load(tmp_path / "real.npz").meta) == ("new", "old")
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to("nowhere.npz")
    save(dangling, NET)
    assert not dangling.is_symlink()
    assert not (tmp_path / "nowhere.npz").exists()
    to_fifo = tmp_path / "to_fifo.npz"
    to_fifo.symlink_to(fifo)
    with pytest.raises(ValueError, match="it is a symlink to a FIFO, not a regular"):
        save(to_fifo, NET)
    assert to_fifo.is_symlink()
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


# ---------------------------------------------------------- save: modes


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


@posix
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444, 0o664])
def test_save_keeps_the_mode_of_the_file_it_replaces(
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    umask: Callable[[int], int],
    mode: int,
) -> None:
    path = tmp_path / "net.npz"
    save(path, NET)
    os.chmod(path, mode)
    seen: list[int] = []
    real_write = np.lib.format.write_array

    def write(*args: Any, **kw: Any) -> None:  # the temporary's mode mid-write
        (tmp,) = stale_temporaries(path)
        seen.append(stat.S_IMODE(os.stat(tmp).st_mode))
        real_write(*args, **kw)

    monkeypatch.setattr(np.lib.format, "write_array", write)
    save(path, NET, meta="new")
    monkeypatch.undo()
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert set(seen) == {mode}  # never more open than the old file
    (tmp_path / "link.npz").symlink_to("net.npz")
    save(tmp_path / "link.npz", NET)  # a symlink: the mode of its target
    assert stat.S_IMODE(os.stat(tmp_path / "link.npz").st_mode) == mode
    assert load(path).meta == "new"


@posix
@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0, 0o666)])
def test_a_new_file_follows_the_umask(
    tmp_path: pathlib.Path, umask: Callable[[int], int], mask: int, mode: int
) -> None:
    umask(mask)
    save(tmp_path / "new.npz", NET)
    assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == mode


# ---------------------------------------------------------- save: names


def test_a_long_non_ascii_name_saves(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "é" * 120 + ".npz"  # 244 bytes: legal, NAME_MAX is 255
    assert len(os.fsencode(name)) == 244
    temps: list[str] = []
    real_write = np.lib.format.write_array

    def write(*args: Any, **kw: Any) -> None:
        temps.extend(os.path.basename(t) for t in stale_temporaries(tmp_path / name))
        real_write(*args, **kw)

    monkeypatch.setattr(np.lib.format, "write_array", write)
    save(tmp_path / name, NET)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == [name]
    assert load(tmp_path / name).sizes == (3, 4, 2)
    tmp = temps[0]
    assert len(os.fsencode(tmp)) <= 255
    assert tmp == "." + "é" * 100 + "." + tmp[-20:]  # 200 bytes of the name
    assert fnmatch.fnmatchcase(tmp, f".{'é' * 100}.????????????????.tmp")


def test_a_name_longer_than_the_file_system_allows_is_refused_unwritten(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / ("a" * 256)
    with pytest.raises(ValueError, match=r"the file name is 256 bytes, more .* 255"):
        save(path, NET)
    assert os.listdir(tmp_path) == []


@given(st.text(st.characters(exclude_characters="/\0", codec="utf-8"), min_size=1))
def test_temporary_names_are_cut_between_characters(name: str) -> None:
    prefix = _npz.temp_prefix(name)
    raw = os.fsencode(prefix)
    assert len(raw) <= _npz.TMP_NAME_BYTES + 2
    assert prefix[0] == prefix[-1] == "."
    assert name.startswith(prefix[1:-1])  # whole characters of the name
    assert len(raw) >= min(len(os.fsencode(name)) + 2, _npz.TMP_NAME_BYTES - 1)


# ------------------------------------------------------- stale temporaries


def test_stale_temporaries_finds_exactly_the_temporary_names(
    tmp_path: pathlib.Path,
) -> None:
    names = [
        "net.npz",
        ".net.npz.0123456789abcdef.tmp",  # a killed save's
        ".net.npz.fedcba9876543210.tmp",  # another one
        ".net.npz.0123456789abcdeg.tmp",  # not hex
        ".net.npz.0123456789abcdef0.tmp",  # 17 digits
        ".net.npz.0123456789abcdef.tmp.x",
        ".other.npz.0123456789abcdef.tmp",  # another checkpoint's
        "net.npz.0123456789abcdef.tmp",
    ]
    for n in names:
        (tmp_path / n).touch()
    found = [os.path.basename(t) for t in stale_temporaries(tmp_path / "net.npz")]
    assert found == names[1:3]
    glob = ".net.npz.????????????????.tmp"  # the module docstring's find command
    # The glob also takes a non-hex digit; only ever a dot-file of this name.
    assert {n for n in names if fnmatch.fnmatchcase(n, glob)} == set(names[1:4])
    assert stale_temporaries(tmp_path / "missing" / "x.npz") == []


# ------------------------------------------------------------------ siblings


def test_a_directory_that_is_a_file_is_named(tmp_path: pathlib.Path) -> None:
    (tmp_path / "file").touch()
    with pytest.raises(NotADirectoryError, match=r"'.*file' is not a directory"):
        save(tmp_path / "file" / "x.npz", NET)


def test_an_unwritable_directory_names_the_path(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def deny(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        if str(path).endswith(".tmp"):  # as a non-root user in a 0o555 dir
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(PermissionError) as e:
        save(tmp_path / "x.npz", NET)
    monkeypatch.undo()
    assert str(e.value) == (
        f"[Errno 13] cannot save {str(tmp_path / 'x.npz')!r}: cannot create a "
        f"temporary file in {str(tmp_path)!r} (Permission denied)"
    )
    assert os.listdir(tmp_path) == []
