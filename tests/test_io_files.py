"""save/load and the file system: hostile archives, special files, modes, names.

``test_io`` checks what a checkpoint holds; this file checks the file that
holds it: archives whose members overlap (a zip bomb that older ``zipfile``
versions read), headers that declare more than the file holds, FIFOs,
devices, sockets and directories where a checkpoint is expected, permission
bits, long non-ASCII names, and the temporary files a killed save leaves.
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import pathlib
import socket
import stat
import struct
import threading
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc import _npz
from nnfunc.io import CheckpointError, load, save, stale_temporaries

NDArray = npt.NDArray[Any]
GOOD = nf.init_params([3, 4, 2], seed=0)
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
    out.update((f"params/{k}.npy", npy(np.asarray(v))) for k, v in GOOD.items())
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
    save(path, GOOD, meta="")
    with np.load(path) as z:
        base = int(z["header"].size)  # the header's bytes with meta ""
    save(path, GOOD, meta="x" * (2**20 - base))  # exactly 1 MiB: round-trips
    assert load(path).meta == "x" * (2**20 - base)
    before = path.read_bytes()
    with pytest.raises(
        ValueError, match=r"1048577 bytes of JSON.*1048576 allowed"
    ) as e:
        save(path, GOOD, meta="x" * (2**20 - base + 1))
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
    save(regular, GOOD)
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
    save(tmp_path / "real.npz", GOOD)
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
        save(path, GOOD)
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
        save("/dev/null", GOOD)
    monkeypatch.undo()
    assert "'/dev/null'" in str(e.value)
    assert touched == []
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@posix
def test_save_replaces_a_symlink_unless_it_points_to_a_special_file(
    tmp_path: pathlib.Path, fifo: pathlib.Path
) -> None:
    save(tmp_path / "real.npz", GOOD, meta="old")
    link = tmp_path / "link.npz"
    link.symlink_to("real.npz")
    save(link, GOOD, meta="new")  # the link is replaced, its target kept
    assert not link.is_symlink()
    assert (load(link).meta, load(tmp_path / "real.npz").meta) == ("new", "old")
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to("nowhere.npz")
    save(dangling, GOOD)
    assert not dangling.is_symlink()
    assert not (tmp_path / "nowhere.npz").exists()
    to_fifo = tmp_path / "to_fifo.npz"
    to_fifo.symlink_to(fifo)
    with pytest.raises(ValueError, match="it is a symlink to a FIFO, not a regular"):
        save(to_fifo, GOOD)
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
    save(path, GOOD)
    os.chmod(path, mode)
    seen: list[int] = []
    real_write = np.lib.format.write_array

    def write(*args: Any, **kw: Any) -> None:  # the temporary's mode mid-write
        (tmp,) = stale_temporaries(path)
        seen.append(stat.S_IMODE(os.stat(tmp).st_mode))
        real_write(*args, **kw)

    monkeypatch.setattr(np.lib.format, "write_array", write)
    save(path, GOOD, meta="new")
    monkeypatch.undo()
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert set(seen) == {mode}  # never more open than the old file
    (tmp_path / "link.npz").symlink_to("net.npz")
    save(tmp_path / "link.npz", GOOD)  # a symlink: the mode of its target
    assert stat.S_IMODE(os.stat(tmp_path / "link.npz").st_mode) == mode
    assert load(path).meta == "new"


@posix
@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0, 0o666)])
def test_a_new_file_follows_the_umask(
    tmp_path: pathlib.Path, umask: Callable[[int], int], mask: int, mode: int
) -> None:
    umask(mask)
    save(tmp_path / "new.npz", GOOD)
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
    save(tmp_path / name, GOOD)
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
        save(path, GOOD)
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
        save(tmp_path / "file" / "x.npz", GOOD)


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
        save(tmp_path / "x.npz", GOOD)
    monkeypatch.undo()
    assert str(e.value) == (
        f"[Errno 13] cannot save {str(tmp_path / 'x.npz')!r}: cannot create a "
        f"temporary file in {str(tmp_path)!r} (Permission denied)"
    )
    assert os.listdir(tmp_path) == []
