r"""MNIST's IDX files: a strict reader and ``load_mnist``.

IDX (LeCun et al.) is a tiny binary format: two zero bytes, a type code,
the number of dimensions, each dimension as a big-endian uint32, then the
data, big-endian. MNIST and Fashion-MNIST ship their images and labels in
it, gzipped. Everything here is re-exported by ``nnfunc.datasets``.

Reference: LeCun, Bottou, Bengio & Haffner, *Gradient-based learning
applied to document recognition* (Proc. IEEE 1998).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import sys
import zlib
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from nnfunc._checks import check_float_dtype
from nnfunc._types import FloatDType

I64 = npt.NDArray[np.int64]

# ---------------------------------------------------------------- IDX files

#: IDX type codes and the big-endian dtype each one stores.
IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class _Reader(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


_CHUNK = 1 << 24  # read 16 MiB at a time: memory grows only with real data


def _read_upto(f: _Reader, n: int) -> bytearray:
    """At most ``n`` bytes from ``f``, fewer only at the end of the stream."""
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk  # buf was just allocated here
    return buf


def _check_path(path: object, arg: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{arg} must be a str or os.PathLike, got {type(path).__name__}"
        )
    name = os.fsdecode(path)
    if "\0" in name:
        raise ValueError(f"{arg} must not contain a NUL character, got {name!r}")
    return name


def read_idx(path: str | os.PathLike[str]) -> npt.NDArray[Any]:
    """Read an IDX file (MNIST's format), gzipped or not, into an array.

    The header is ``00 00 TT DD``: two zero bytes, a type code ``TT`` (see
    ``IDX_TYPES``), the number of dimensions ``DD``; then ``DD`` big-endian
    uint32 sizes; then the data, big-endian, in C order. Gzip is detected by
    its magic bytes ``1f 8b``, not by the name. Every inconsistency (bad
    magic or type code, truncated header or data, trailing bytes, sizes that
    cannot fit, a corrupt gzip stream) is a ``ValueError`` naming the file.

    Returns:
        A new array in native byte order with the shape the header declares.

    Examples:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.idx"
        >>> _ = p.write_bytes(bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 1, 2, 255, 254]))
        >>> read_idx(p)
        array([258,  -2], dtype=int16)
    """
    name = _check_path(path, "path")
    with open(name, "rb") as raw:
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            try:
                with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                    return _parse_idx(gz, None, name)
            except (gzip.BadGzipFile, EOFError, zlib.error) as e:
                raise ValueError(f"{name}: corrupt gzip stream: {e}") from e
        raw.seek(0)
        return _parse_idx(raw, os.fstat(raw.fileno()).st_size, name)


def _parse_idx(f: _Reader, size: int | None, name: str) -> npt.NDArray[Any]:
    """Parse an IDX stream; ``size`` is its length in bytes when known."""
    head = _read_upto(f, 4)
    if len(head) < 4:
        raise ValueError(
            f"{name}: truncated header: the IDX magic number needs 4 bytes, "
            f"the file has {len(head)}"
        )
    if head[0] != 0 or head[1] != 0:
        raise ValueError(
            f"{name}: not an IDX file: magic number 0x{head.hex()} does not "
            f"start with two zero bytes (expected 0x0000TTDD)"
        )
    code, ndim = head[2], head[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X} ({t.name})" for c, t in IDX_TYPES.items())
        raise ValueError(f"{name}: unknown IDX type code 0x{code:02X}; known: {known}")
    if ndim == 0:
        raise ValueError(f"{name}: the IDX header declares 0 dimensions")
    dims = _read_upto(f, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(
            f"{name}: truncated header: {ndim} dimensions need {4 * ndim} bytes "
            f"of sizes after the magic number, the file has {len(dims)}"
        )
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = IDX_TYPES[code]
    nbytes = math.prod(shape) * dtype.itemsize  # Python int: cannot overflow
    what = f"the header declares shape {shape} of {dtype.name} ({nbytes} bytes)"
    if nbytes > sys.maxsize:
        raise ValueError(f"{name}: absurd dimensions: {what}, more than memory")
    if size is not None and size - 4 - 4 * ndim != nbytes:
        # the file's own size settles it before anything is read
        rest = size - 4 - 4 * ndim
        problem = "truncated data" if rest < nbytes else "extra trailing bytes"
        raise ValueError(f"{name}: {problem}: {what}, but {rest} bytes follow")
    data = _read_upto(f, nbytes)
    if len(data) < nbytes:
        raise ValueError(
            f"{name}: truncated data: {what}, but {len(data)} bytes follow"
        )
    if f.read(1):
        raise ValueError(f"{name}: extra trailing bytes after the data: {what}")
    a = np.frombuffer(data, dtype=dtype)  # a view of our own bytearray
    if not dtype.isnative:
        a = a.byteswap(inplace=True).view(dtype.newbyteorder("="))  # ours too
    return a.reshape(shape)


# ---------------------------------------------------------------- MNIST

#: The four MNIST files (Fashion-MNIST uses the same names), ``.gz`` or not.
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class MNIST(NamedTuple):
    """MNIST: ``x`` rows of 784 pixels in ``[0, 1]``, ``y`` digits 0-9."""

    x_train: npt.NDArray[np.floating[Any]]
    y_train: I64
    x_test: npt.NDArray[np.floating[Any]]
    y_test: I64


def load_mnist(
    directory: str | os.PathLike[str], *, dtype: FloatDType = np.float32
) -> MNIST:
    """Load MNIST (or Fashion-MNIST) from the four IDX files in ``directory``.

    Images become rows ``x`` of shape ``(n, 784)`` scaled to ``[0, 1]`` in
    ``dtype``: float32 by default, because 60000 x 784 float64 is 376 MB
    (float32 halves it; ``read_idx`` gives the raw uint8). Labels ``y`` are
    int64 of shape ``(n,)``. Each file may be gzipped (``name.gz``); the
    plain file wins when both are there.

    Raises:
        FileNotFoundError: a file is missing; the message says where to get it.
        ValueError: a file is corrupt or not MNIST-shaped.
    """
    folder = _check_path(directory, "directory")
    dt = check_float_dtype(dtype)
    paths = {}
    for stem in MNIST_FILES:
        found = [
            os.path.join(folder, stem + ext)
            for ext in ("", ".gz")
            if os.path.isfile(os.path.join(folder, stem + ext))
        ]
        paths[stem] = found[0] if found else None
    missing = [stem for stem, p in paths.items() if p is None]
    if missing:
        raise FileNotFoundError(
            f"MNIST files missing in {folder!r}: {missing}. The directory must "
            f"hold all of {list(MNIST_FILES)} (each may end in '.gz'). Get "
            f"MNIST from http://yann.lecun.com/exdb/mnist/ (historically) or a "
            f"mirror; Fashion-MNIST, with the same file names, from "
            f"https://github.com/zalandoresearch/fashion-mnist (data/fashion)."
        )
    parts: list[npt.NDArray[Any]] = []
    for images, labels in ((MNIST_FILES[0], MNIST_FILES[1]), MNIST_FILES[2:]):
        ip, lp = str(paths[images]), str(paths[labels])
        img, lab = read_idx(ip), read_idx(lp)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[1:] != (28, 28):
            raise ValueError(
                f"{ip}: expected uint8 images of shape (n, 28, 28), "
                f"got {img.dtype} of shape {img.shape}"
            )
        if lab.dtype != np.uint8 or lab.ndim != 1:
            raise ValueError(
                f"{lp}: expected uint8 labels of shape (n,), "
                f"got {lab.dtype} of shape {lab.shape}"
            )
        if len(img) != len(lab):
            raise ValueError(f"{ip} has {len(img)} images but {lp} {len(lab)} labels")
        if lab.size and lab.max() > 9:
            raise ValueError(f"{lp}: labels must be digits 0-9, got {lab.max()}")
        x = img.reshape(len(img), 784).astype(dt)
        x /= 255  # x was just allocated by astype
        parts += [x, lab.astype(np.int64)]
    return MNIST(*parts)
