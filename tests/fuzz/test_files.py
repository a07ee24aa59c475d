"""Hostile files: random zip archives for ``load``, and saves killed mid-write.

``tests/test_io.py`` checks each kind of damage by hand (truncation, flipped
bytes, pickles, bad headers); here hypothesis builds whole archives from
random parts: members named like a checkpoint's or not, holding valid or
wrong ``.npy`` arrays (any dtype and shape, object arrays whose unpickling
would run code), raw pickles, junk, compressed data, duplicate names, and
headers with random fields and versions. ``load`` must return a valid
checkpoint or raise ``CheckpointError`` naming the file; nothing else, no
warning, and never run the payload.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import pickle
import signal
import sys
import tempfile
import time
import warnings
import zipfile
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import nnfunc as nf
from nnfunc.io import CheckpointError
from tests.fuzz import strategies as fs
from tests.fuzz.harness import FUZZ_EXAMPLES

#: What unpickling a ``Payload`` records: arbitrary code that ran.
RAN: list[str] = []


def _run(tag: str) -> str:
    RAN.append(tag)
    return tag


class Payload:
    """Unpickling this calls ``_run``: stands for arbitrary code execution."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_run, ("payload ran",))


def npy(a: np.ndarray[Any, Any], version: tuple[int, int] = (1, 0)) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, version, allow_pickle=True)
    return buf.getvalue()


NAMES = [
    "header.npy", "params/W1.npy", "params/b1.npy", "params/W2.npy",
    "params/b2.npy", "opt_state/count.npy", "opt_state/m.W1.npy",
    "opt_state/epoch.npy", "params/W3.npy", "extra.npy", "../escape.npy",
    "/abs.npy", "params/", "header", "params/W1",
]  # fmt: skip


@st.composite
def headers(draw: st.DrawFn) -> bytes:
    """A header.npy: near the real one, with random fields changed or dropped."""
    h: dict[str, Any] = {
        "format": draw(st.sampled_from(["nnfunc.checkpoint"] * 4 + ["other", ""])),
        "version": draw(st.sampled_from([1, 1, 1, 2, 99, 0, "1", 1.0, None, -1])),
        "dtype": draw(st.sampled_from(["float64", "float32", "float16", "object"])),
        "sizes": draw(st.sampled_from([[2, 3, 1], [2, 1], [], [2, -1], "2,1"])),
        "hidden": draw(st.sampled_from([None, "tanh", ["relu"], "nope", 3])),
        "output": draw(st.sampled_from([None, "sigmoid", "softmax", "x"])),
        "params": draw(
            st.sampled_from(
                [["W1", "b1", "W2", "b2"], ["W1", "b1"], ["W1", "W1"], [], [1], None]
            )
        ),
        "opt_state": draw(
            st.sampled_from([None, ["count"], ["count", "m.W1"], ["../x"], "count"])
        ),
        "meta": draw(st.sampled_from([None, {"a": [1, 2]}, "x" * 50])),
    }
    for k in draw(st.sets(st.sampled_from(sorted(h)), max_size=2)):
        del h[k]
    if draw(st.booleans()):
        h[draw(st.text(max_size=4))] = 1
    text = json.dumps(h).encode()
    kind = draw(st.sampled_from(["json"] * 6 + ["cut", "utf16", "nan", "array"]))
    if kind == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == "utf16":
        text = json.dumps(h).encode("utf-16")
    elif kind == "nan":
        text = text.replace(b"null", b"NaN", 1)
    elif kind == "array":
        return npy(np.array(json.loads(json.dumps(h)), dtype=object))
    dtype = draw(st.sampled_from([np.uint8] * 5 + [np.int8, np.uint16]))
    raw = np.frombuffer(text, dtype=np.uint8).astype(dtype)
    return npy(raw[None] if draw(st.integers(0, 9)) == 0 else raw)


@st.composite
def members(draw: st.DrawFn) -> bytes:
    """A member's bytes: a numeric array, an object array, a pickle, junk."""
    kind = draw(
        st.sampled_from(
            ["array"] * 6 + ["object", "pickle", "junk", "empty", "v2", "cut", "header"]
        )
    )
    if kind in ("array", "v2", "cut"):
        dtype = draw(
            st.sampled_from(["<f8", "<f4", ">f8", "<f2", "<i8", "|u1", "|b1", "<c16"])
        )
        shape = draw(array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
        a = draw(arrays(np.dtype(dtype), shape))
        if draw(st.booleans()):
            a = np.asfortranarray(a)
        data = npy(a, (2, 0) if kind == "v2" else (1, 0))
        if kind == "cut":
            data = data[: draw(st.integers(0, len(data) - 1))]
        return data
    if kind == "object":
        return npy(np.array([Payload(), 1.0], dtype=object))
    if kind == "pickle":
        return pickle.dumps(Payload())
    if kind == "header":
        return draw(headers())
    if kind == "empty":
        return b""
    return draw(st.binary(max_size=64))


@st.composite
def archives(draw: st.DrawFn) -> bytes:
    """A zip archive of random members (sometimes compressed or duplicated)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names
        with zipfile.ZipFile(buf, "w") as zf:
            if draw(st.integers(0, 4)):
                zf.writestr("header.npy", draw(headers()))
            names = draw(st.lists(st.sampled_from(NAMES), max_size=6))
            for name in names:
                compress = draw(st.sampled_from([zipfile.ZIP_STORED] * 4 + [8]))
                zf.writestr(name, draw(members()), compress_type=compress)
    data = buf.getvalue()
    if draw(st.integers(0, 9)) == 0:  # a damaged archive
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    return data


@settings(
    max_examples=3 * FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=archives())
def test_random_archives_load_or_fail_cleanly(data: bytes) -> None:
    RAN.clear()
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d, "random.npz")
        path.write_bytes(data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ckpt, message = nf.load(path), None
            except CheckpointError as e:
                ckpt, message = None, str(e)
    assert not caught, [str(w.message) for w in caught]
    assert RAN == []  # nothing was unpickled
    assert message is None or repr(str(path)) in message  # names the file
    if ckpt is not None:  # it happened to be a valid checkpoint: check it is
        assert nf.layer_sizes(ckpt.params) == ckpt.sizes
        for v in ckpt.params.values():
            assert not v.flags.writeable
            assert np.isfinite(v).all()
            assert v.dtype == ckpt.dtype


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    params=fs.valid_params(),
    member=st.sampled_from(["params/W1", "params/b1", "header"]),
    replacement=members(),
)
def test_one_member_replaced_is_rejected_or_still_valid(
    params: Any, member: str, replacement: bytes
) -> None:
    """A real checkpoint with one member swapped for random bytes."""
    RAN.clear()
    with tempfile.TemporaryDirectory() as d:
        good = pathlib.Path(d, "good.npz")
        nf.save(good, params)
        bad = pathlib.Path(d, "bad.npz")
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
            for info in src.infolist():
                same = info.filename != f"{member}.npy"
                dst.writestr(info, src.read(info) if same else replacement)
        try:
            ckpt, message = nf.load(bad), None
        except CheckpointError as e:
            ckpt, message = None, str(e)
    assert RAN == []
    assert message is None or repr(str(bad)) in message
    if ckpt is not None:  # the replacement was itself a valid member
        for k, v in ckpt.params.items():
            assert np.isfinite(v).all()
            assert v.shape == np.shape(params[k]) or member != "header"


# ------------------------------------------------------ killed mid-save

N_KILLS = max(10, FUZZ_EXAMPLES // 2)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_save_killed_at_random_moments_leaves_old_or_new() -> None:
    """Fork a child that saves two networks in turn; SIGKILL it at random.

    After every kill the file loads and holds one of the two networks, whole
    (``test_io`` does this with fresh interpreters, 8 times; a fork costs
    no import, so this does it ``N_KILLS`` times).
    """
    nets = [nf.init_params([300, 400, 100], seed=s) for s in (0, 1)]
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d, "net.npz")
        nf.save(path, nets[0], meta={"seed": 0})
        hit = 0
        for _ in range(N_KILLS):
            before = set(os.listdir(d))
            r, w = os.pipe()
            with warnings.catch_warnings():  # 3.12+: fork() with BLAS threads
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # the child: save forever, never return to pytest
                try:
                    os.close(r)
                    os.write(w, b"x")
                    for i in range(10**6):
                        nf.save(path, nets[i % 2], meta={"seed": i % 2})
                finally:
                    os._exit(0)
            os.close(w)
            assert os.read(r, 1) == b"x"
            os.close(r)
            time.sleep(float(rng.uniform(0.0, 0.03)))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            ckpt = nf.load(path)
            seed = ckpt.meta["seed"]
            assert all(
                ckpt.params[k].tobytes() == nets[seed][k].tobytes() for k in nets[0]
            )
            new = set(os.listdir(d)) - before
            assert all(n.startswith(".net.npz.") and n.endswith(".tmp") for n in new)
            hit += bool(new)
    # A kill inside a write leaves its temp file: at least some kills must
    # have landed mid-write for the test to mean anything.
    assert hit >= 2, f"only {hit} of {N_KILLS} kills landed inside a write"
    print(f"{hit} of {N_KILLS} kills landed inside a write")


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="POSIX file semantics")
