"""The bytes under ``nnfunc.io``: safe opening, a strict reader, an atomic writer.

``open_regular`` opens only a regular file (never a FIFO, a device, a socket
or a directory, which could block or have side effects). ``check_layout``
checks where every archive member lies before any is read: inside the file,
not overlapping another, so a small file can never make ``load`` read (and
hold) more than its own size. ``read_npy`` parses a member as a plain numeric
``.npy`` 1.0 array by hand, so nothing in a file can ever be unpickled or
executed. ``write_atomic`` puts a whole archive in a temporary file beside
the target, ``fsync``-s it and renames it over the target with
``os.replace``: a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import math
import os
import re
import secrets
import stat
import struct
import zipfile
from collections.abc import Mapping
from typing import IO, Any, Literal

import numpy as np
import numpy.typing as npt

_DESCR = re.compile(r"[<>|][fiu][1248]\Z")  # plain numbers only, never objects
_NPY_MAGIC = b"\x93NUMPY\x01\x00"
NPY_HEADER_MAX = 10 + 0xFFFF  # magic, version, length, then at most 65535 bytes
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed member times: same inputs, same bytes
_LOCAL = struct.Struct("<4s22xHH")  # a zip local file header, 30 bytes
#: A temporary file keeps at most this many bytes of the target's name, so
#: ``.<name>.<16 hex digits>.tmp`` fits in NAME_MAX (255 bytes).
TMP_NAME_BYTES = 200


class Invalid(Exception):
    """A problem with the file's content; ``load`` adds the path."""


# ------------------------------------------------------------------ reading


def open_regular(path: str) -> tuple[IO[bytes], int]:
    """Open ``path`` for reading if it is a regular file; return it and its size.

    ``os.stat`` comes first, so a FIFO, a device or a socket is never even
    opened; the open is non-blocking and ``fstat`` checks the file again, so
    one swapped in between cannot block either. A symlink to a regular file
    is followed. ``FileNotFoundError`` and other ``OSError`` pass through.
    """
    _check_regular(path, os.stat(path).st_mode)
    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, os.O_RDONLY | nonblock | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        _check_regular(path, st.st_mode)
        if nonblock:  # no effect on a regular file; reads block as usual
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), st.st_size
    except BaseException:
        os.close(fd)
        raise


def _check_regular(path: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise Invalid(f"it is {describe(path, mode)}, not a regular file")


def describe(path: str, mode: int) -> str:
    """What a non-regular file is: ``"a FIFO"``, ``"a symlink to a directory"``."""
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    kind = next((k for test, k in kinds if test(mode)), "a special file")
    with contextlib.suppress(OSError):
        if os.path.islink(path):
            return f"a symlink to {kind}"
    return kind


def check_layout(f: IO[bytes], zf: zipfile.ZipFile, size: int) -> None:
    """Check where each member lies, before any member is read.

    Every member must be stored (not compressed), lie whole between the
    start of the file and the central directory, and overlap no other
    member; their sizes then add up to at most ``size``, the file's. Newer
    Pythons' ``zipfile`` refuses overlapping members itself (3.11.8, 3.12.2);
    this check makes older ones safe too: an archive whose members share
    their bytes ("overlapping", a zip bomb) could otherwise make a few-MB
    file read as a GB.
    """
    spans: list[tuple[int, int, str]] = []
    for info in zf.infolist():
        name = info.filename
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise Invalid(f"member {name!r} is compressed or encrypted")
        if info.file_size != info.compress_size:
            raise Invalid(
                f"member {name!r} is stored but says {info.file_size} bytes "
                f"unpacked and {info.compress_size} bytes packed"
            )
        start = info.header_offset
        if start < 0 or start + _LOCAL.size > zf.start_dir:
            raise Invalid(f"member {name!r} starts outside the archive ({start})")
        f.seek(start)
        magic, n_name, n_extra = _LOCAL.unpack(f.read(_LOCAL.size))
        if magic != b"PK\x03\x04":
            raise Invalid(f"member {name!r} has no local header at byte {start}")
        end = start + _LOCAL.size + n_name + n_extra + info.compress_size
        if end > zf.start_dir:
            raise Invalid(
                f"member {name!r} (bytes {start}..{end}) runs past the end of the "
                f"members (byte {zf.start_dir})"
            )
        spans.append((start, end, name))
    spans.sort()
    for (_, end, a), (start, _, b) in itertools.pairwise(spans):
        if start < end:
            raise Invalid(
                f"members {a!r} and {b!r} overlap (byte {start} is in both): "
                "each member must have bytes of its own (a zip bomb shares them)"
            )
    total = sum(info.file_size for info in zf.infolist())
    if total > size:  # implied by the above; said once more, cheaply
        raise Invalid(f"members hold {total} bytes but the file has only {size}")


def read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> npt.NDArray[Any]:
    """Parse one member as a numeric ``.npy`` 1.0 array, without pickle.

    Only ``STORED`` members are read, so memory stays bounded by the file size.
    """
    name = info.filename
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        raise Invalid(f"member {name!r} is compressed or encrypted")
    data = zf.read(info)
    if data[:8] != _NPY_MAGIC:
        raise Invalid(f"member {name!r} is not a .npy array (format 1.0)")
    offset = 10 + int.from_bytes(data[8:10], "little")
    try:
        d = ast.literal_eval(data[10:offset].decode("latin1"))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise Invalid(f"member {name!r} has an unreadable .npy header") from None
    if not isinstance(d, dict) or d.keys() != {"descr", "fortran_order", "shape"}:
        d = {"descr": None, "fortran_order": None, "shape": None}
    descr, fortran, shape = d["descr"], d["fortran_order"], d["shape"]
    if not (
        isinstance(descr, str)
        and _DESCR.match(descr)
        and isinstance(fortran, bool)
        and isinstance(shape, tuple)
        and all(type(n) is int and n >= 0 for n in shape)
    ):
        raise Invalid(
            f"member {name!r} is not a plain numeric .npy array (dtype {descr!r}, "
            f"shape {shape!r}); a checkpoint never holds Python objects"
        )
    dtype = np.dtype(descr)
    count, nbytes = math.prod(shape), math.prod(shape) * dtype.itemsize
    if len(data) - offset != nbytes:
        raise Invalid(
            f"member {name!r} holds {len(data) - offset} data bytes but its "
            f"header says {dtype} {shape} ({nbytes} bytes)"
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    order: Literal["C", "F"] = "F" if fortran else "C"
    out: npt.NDArray[Any] = flat.reshape(shape, order=order).copy(order="K")
    return out


# ------------------------------------------------------------------ writing


def write_atomic(target: str, members: Mapping[str, npt.NDArray[Any]]) -> None:
    """Write a temp file beside ``target``, fsync it, rename it over ``target``.

    The new file keeps the permission bits of the regular file it replaces
    (of the file a symlink at ``target`` points to); a new file gets
    ``0o666`` minus the umask, as ``open`` gives.
    """
    directory, name = os.path.split(os.path.abspath(target))
    keep = _check_target(target, directory, name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    tmp = os.path.join(directory, f"{temp_prefix(name)}{secrets.token_hex(8)}.tmp")
    try:  # 0o600 until the old mode is set: never more open than the old file
        fd = os.open(tmp, flags, 0o666 if keep is None else 0o600)
    except OSError as e:
        raise OSError(
            e.errno,
            f"cannot save {target!r}: cannot create a temporary file in "
            f"{directory!r} ({e.strerror})",
        ) from None
    try:
        if keep is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, keep)
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
                for key, a in members.items():
                    info = zipfile.ZipInfo(f"{key}.npy", date_time=_EPOCH)
                    info.external_attr = 0o644 << 16
                    with zf.open(info, "w", force_zip64=True) as out:
                        np.lib.format.write_array(out, a, (1, 0), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # make the rename itself durable
        with contextlib.suppress(OSError):
            dfd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def _check_target(target: str, directory: str, name: str) -> int | None:
    """Refuse a target that is not a regular file; return its permission bits.

    ``None`` when there is no file to replace (nothing, or a dangling
    symlink): the new file then follows the umask.
    """
    if not os.path.isdir(directory):
        if os.path.lexists(directory):
            raise NotADirectoryError(
                f"path {target!r}: {directory!r} is not a directory"
            )
        raise FileNotFoundError(
            f"path {target!r}: directory {directory!r} does not exist"
        )
    name_max = _name_max(directory)
    if len(os.fsencode(name)) > name_max:
        raise ValueError(
            f"cannot save to {target!r}: the file name is "
            f"{len(os.fsencode(name))} bytes, more than this file system's "
            f"limit of {name_max}"
        )
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(target)
        except OSError:  # dangling or a loop: the link itself is replaced
            return None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(
            f"cannot save to {target!r}: it is {describe(target, st.st_mode)}, "
            "not a regular file; save replaces only regular files"
        )
    return stat.S_IMODE(st.st_mode) & 0o777


def _name_max(directory: str) -> int:
    """The longest file name (in bytes) the file system takes, 255 if unknown."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return int(os.pathconf(directory, "PC_NAME_MAX"))
    return 255


# -------------------------------------------------------- temporary files


def temp_prefix(name: str) -> str:
    """``.<name>.``, ``name`` cut to ``TMP_NAME_BYTES`` bytes between characters."""
    raw = os.fsencode(name)
    if len(raw) > TMP_NAME_BYTES:
        cut = TMP_NAME_BYTES
        for _ in range(3):  # back over UTF-8 continuation bytes (10xxxxxx)
            if raw[cut] & 0xC0 == 0x80:
                cut -= 1
        raw = raw[:cut]
    return f".{os.fsdecode(raw)}."


def temporaries(target: str) -> list[str]:
    """The temporary files of saves to ``target`` that sit beside it, sorted."""
    directory, name = os.path.split(os.path.abspath(target))
    pattern = re.compile(re.escape(temp_prefix(name)) + r"[0-9a-f]{16}\.tmp\Z")
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(os.path.join(directory, n) for n in names if pattern.match(n))
