"""Save and load a network, and its optimizer state, as one ``.npz`` file.

A checkpoint is a ZIP archive of ``.npy`` arrays (format 1.0), stored
uncompressed, so ``np.load(path)`` opens it too::

    header.npy            uint8, the UTF-8 bytes of a JSON object (below)
    params/W1.npy         (n_0, n_1)  float32 or float64
    params/b1.npy         (n_1,)      same dtype
    ...                   up to params/bL.npy
    opt_state/count.npy   ()          integer, when a state was saved
    opt_state/m.W1.npy    any shape   the params' dtype
    ...

The header (never a pickled object array) reads::

    {"format": "nnfunc.checkpoint", "version": 1, "dtype": "float64",
     "sizes": [n_0, ..., n_L], "hidden": "relu" | ["relu", ...] | null,
     "output": "sigmoid" | null, "params": ["W1", "b1", ...],
     "opt_state": ["count", "m.W1", ...] | null, "meta": <JSON value>}

The header is at most 1 MiB of JSON (``save`` refuses a bigger ``meta``).

``save`` writes the file exactly at the path given (no ``.npz`` is appended;
use the suffix yourself) and atomically: a temporary file in the same
directory is written, flushed, ``fsync``-ed and then renamed over the target
with ``os.replace``, so a crash or a kill leaves the old file whole. It
replaces only a regular file: a directory, a FIFO, a device or a socket at
the path (or a symlink to one) is a ``ValueError``, and nothing is written.
A symlink to a regular file, or a dangling one, is replaced, not followed.
The new file keeps the permission bits of the file it replaces (for a
symlink, of the file it points to; owner, group and other hard links are not
kept); a new file gets ``0o666`` minus the umask, as ``open`` gives.

Stale temporary files: a save that is killed (SIGKILL, power loss) cannot
clean up, and leaves its temporary file in the directory of the path, named
``.<name>.<16 hex digits>.tmp`` where ``<name>`` is the checkpoint's file
name (cut to its first 200 bytes, between characters). It is never the
checkpoint: ``save`` only ever renames it to the path you gave, so the file
at the path is the checkpoint, whole, and a temporary may hold half of one.
``stale_temporaries(path)`` lists them. A save running right now has one
too, so remove them only when no save to that path runs, in Python::

    for t in nnfunc.io.stale_temporaries("net.npz"):
        os.remove(t)

or in a shell, sparing any less than an hour old (a save still writing)::

    find . -maxdepth 1 -type f -name '.net.npz.????????????????.tmp' -mmin +60 -delete

Any other failure of ``save`` removes its temporary file.

``load`` opens only a regular file (or a symlink to one): a directory, a
FIFO, a device or a socket is a ``CheckpointError``, checked before it is
opened, so a FIFO never blocks. It never unpickles anything: every member is
parsed as a plain numeric ``.npy``, and any file that is not a valid
checkpoint raises ``CheckpointError`` (a ``ValueError``) naming the path and
the problem. Before any member is read, the layout is checked (members
stored, none overlapping another, none past the end) and the header, read
first, must declare sizes that fit the file, so memory stays within a small
multiple of the file's size on every Python version, whatever the file.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import struct
import zipfile
from collections import Counter
from collections.abc import Mapping
from typing import IO, Any, NamedTuple, NoReturn

import numpy as np
import numpy.typing as npt

from nnfunc._checks import (
    all_finite,
    as_array,
    check_hidden,
    check_output,
    check_params,
    merge_record,
)
from nnfunc._npz import (
    NPY_HEADER_MAX,
    Invalid,
    check_layout,
    open_regular,
    read_npy,
    temporaries,
    write_atomic,
)
from nnfunc._types import Array, Frozen, Hidden, OptState, OutputName, Params
from nnfunc.params import freeze_new

FORMAT = "nnfunc.checkpoint"
VERSION = 1
SUPPORTED_VERSIONS = (1,)

_FIELDS = ["dtype", "format", "hidden", "meta", "opt_state", "output"]
_FIELDS += ["params", "sizes", "version"]  # sorted
_MAX_HEADER = 2**20  # bytes of header JSON: parsing it stays cheap
_STATE_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")
#: What a corrupt archive can raise from zipfile, struct, json and bytes.
_CORRUPT: tuple[type[BaseException], ...] = (
    *(zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError),
    *(KeyError, IndexError, struct.error, RuntimeError, MemoryError),
    *(OverflowError, SyntaxError),
)


class CheckpointError(ValueError):
    """The file exists but is not a valid nnfunc checkpoint."""


class Checkpoint(NamedTuple):
    """What ``load`` returns; ``params`` and ``opt_state`` are read-only."""

    params: Frozen[Array]
    opt_state: OptState | None
    hidden: Hidden | None
    output: OutputName | None
    meta: Any
    sizes: tuple[int, ...]
    dtype: np.dtype[Any]


def save(
    path: str | os.PathLike[str],
    params: Params,
    *,
    opt_state: OptState | None = None,
    hidden: Hidden | None = None,
    output: OutputName | None = None,
    meta: Any = None,
) -> None:
    """Write ``params`` (and optionally an optimizer state) to ``path``.

    Everything is validated before anything is written; the inputs are only
    read. The write is atomic, and replaces only a regular file, keeping its
    permission bits (see the module docstring for the layout and the files).
    A killed save may leave a temporary ``.<name>.<16 hex digits>.tmp`` beside
    ``path``, never a half-written ``path``: ``stale_temporaries`` lists them.

    Args:
        path: where to write, used exactly as given (no suffix is added).
        params: ``W1, b1, ..., WL, bL`` with shapes that chain, one float dtype.
        opt_state: counters, keys without a dot such as ``"count"`` and
            ``"epoch"`` (0-d integer arrays >= 0), and slots such as
            ``"m.W1"`` (finite arrays of the params' dtype); keys match
            ``[A-Za-z0-9_][A-Za-z0-9_.-]*``. A state returned by ``train``
            saves as it is.
        hidden: the hidden activation(s) to record (a sequence loads back as
            a tuple); None records the params' own record, if any. A name
            that contradicts the params' record is a ValueError.
        output: the output name to record; None likewise.
        meta: any JSON value (dicts with ``str`` keys, lists, ``str``, ``int``,
            finite ``float``, ``bool``, ``None``) that loads back equal; the
            whole header must stay within 1 MiB of JSON.

    Raises:
        TypeError, ValueError: a bad argument (a ``meta`` too big, a file
            name too long for the file system), or ``path`` is a directory,
            a FIFO, a device or a socket (or a symlink to one).
        FileNotFoundError, NotADirectoryError: the directory of ``path``
            does not exist, or is not a directory.
        OSError: the write itself failed (no space, no permission); the old
            file, if any, is left as it was.

    Examples:
        >>> import os, tempfile
        >>> from nnfunc.params import init_params
        >>> params = init_params([2, 3, 1], hidden="tanh", seed=0)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "net.npz")
        ...     save(path, params, meta={"epoch": 3})  # the params' record goes too
        ...     ckpt = load(path)
        >>> ckpt.sizes, ckpt.hidden, ckpt.output, ckpt.meta, ckpt.opt_state
        ((2, 3, 1), 'tanh', 'sigmoid', {'epoch': 3}, None)
        >>> ckpt.params == params, ckpt.params.hidden  # same bits, same record
        (True, 'tanh')
    """
    net = check_params(params)
    for key, a in net.items():  # a value's arrays may have been made writeable
        if not all_finite(a):
            raise ValueError(f"params[{key!r}] has NaN or infinite values")
    target = _check_path(path)
    hidden, output = merge_record(
        params, hidden, output, len(net.Ws) - 1, net.sizes[-1]
    )
    if hidden is not None and not isinstance(hidden, str):
        hidden = list(hidden)
    state = None if opt_state is None else _check_state(opt_state, net.dtype)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "dtype": net.dtype.name,
        "sizes": list(net.sizes),
        "hidden": hidden,
        "output": output,
        "params": [k for k, _ in net.items()],
        "opt_state": None if state is None else list(state),
        "meta": _check_meta(meta),
    }
    text = json.dumps(header, allow_nan=False).encode("utf-8")
    if len(text) > _MAX_HEADER:
        raise ValueError(
            f"cannot save {target!r}: the header (sizes, keys and meta) would be "
            f"{len(text)} bytes of JSON, more than the {_MAX_HEADER} allowed; "
            "keep meta small and big data in arrays or a file of its own"
        )
    members: dict[str, npt.NDArray[Any]] = {
        "header": np.frombuffer(text, dtype=np.uint8)
    }
    members.update((f"params/{k}", a) for k, a in net.items())
    members.update((f"opt_state/{k}", a) for k, a in (state or {}).items())
    write_atomic(target, members)


def load(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by ``save``, validating every part of it.

    Args:
        path: the file to read.

    Returns:
        A ``Checkpoint``; its arrays are bit-identical to the saved ones.

    Raises:
        FileNotFoundError: ``path`` does not exist (any other ``OSError``,
            such as no permission, passes through too).
        CheckpointError: ``path`` is not a regular file (a directory, a FIFO,
            a device, a socket), or anything else is wrong with the file
            (empty, truncated, not a zip, compressed, overlapping members,
            a member that is not a plain numeric ``.npy``, missing or extra
            members, a bad, huge or newer header, sizes that do not fit the
            file, shapes that do not chain, dtypes other than the header's,
            NaN or inf).

    Examples:
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "empty.npz")
        ...     open(path, "wb").close()
        ...     try:
        ...         load(path)
        ...     except CheckpointError as e:
        ...         print(str(e).replace(repr(path), "PATH"))
        cannot load PATH: the file is empty
    """
    target = _check_path(path)
    try:
        f, size = open_regular(target)  # a missing file raises OSError here
    except Invalid as e:
        raise CheckpointError(f"cannot load {target!r}: {e}") from None
    with f:
        try:
            return _read(f, size)
        except Invalid as e:
            msg = str(e)
        except _CORRUPT as e:
            msg = f"the archive is corrupt or truncated ({type(e).__name__}: {e})"
    raise CheckpointError(f"cannot load {target!r}: {msg}")


def stale_temporaries(path: str | os.PathLike[str]) -> list[str]:
    """The temporary files that killed saves to ``path`` left behind, sorted.

    They sit beside ``path`` and are named ``.<name>.<16 hex digits>.tmp``
    (``<name>`` cut to 200 bytes); none is ever the checkpoint, which is the
    file at ``path``. A save to ``path`` that is running right now has one
    too: remove them only when none is.

    Examples:
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "net.npz")
        ...     for name in ("net.npz", ".net.npz.0123456789abcdef.tmp", "a.tmp"):
        ...         open(os.path.join(d, name), "wb").close()
        ...     [os.path.basename(t) for t in stale_temporaries(path)]
        ['.net.npz.0123456789abcdef.tmp']
    """
    return temporaries(_check_path(path))


def _read(f: IO[bytes], size: int) -> Checkpoint:
    start = f.read(4)
    if not start:
        raise Invalid("the file is empty")
    if not start.startswith(b"PK"):
        raise Invalid("not an .npz (zip) archive")
    f.seek(0)
    with zipfile.ZipFile(f) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        dups = [
            n for n, c in Counter(i.filename for i in zf.infolist()).items() if c > 1
        ]
        if dups:
            raise Invalid(f"duplicate members {_names(dups)}")
        if "header.npy" not in infos:
            raise Invalid(f"no header.npy member; members are {_names(infos)}")
        check_layout(f, zf, size)  # where each member lies, before any is read
        header = _read_header(zf, infos["header.npy"])
        prefixed = _check_declared(header, infos, size)
        arrays = {k: read_npy(zf, infos[f"{k}.npy"]) for k in prefixed}
    params = {k: arrays[f"params/{k}"] for k in header["params"]}
    try:
        net = check_params(params)
    except (TypeError, ValueError) as e:
        raise Invalid(str(e)) from None
    if net.dtype.name != header["dtype"] or list(net.sizes) != header["sizes"]:
        raise Invalid(
            f"header says {header['dtype']} {header['sizes']} but the params are "
            f"{net.dtype} {list(net.sizes)}"
        )
    state = None
    if header["opt_state"] is not None:
        ks = header["opt_state"]
        state = {k: arrays[f"opt_state/{k}"] for k in ks}
        try:
            _check_state(state, net.dtype)
        except (TypeError, ValueError) as e:
            raise Invalid(str(e)) from None
    hidden, output = header["hidden"], header["output"]
    try:
        if hidden is not None:
            names = check_hidden(hidden, len(net.Ws) - 1)
            hidden = hidden if isinstance(hidden, str) else names
        if output is not None:
            output = check_output(output, net.sizes[-1])
    except (TypeError, ValueError) as e:
        raise Invalid(f"header: {e}") from None
    return Checkpoint(
        params=freeze_new(params, "params", hidden, output),  # new arrays
        opt_state=None if state is None else freeze_new(state, "opt_state"),
        hidden=hidden,
        output=output,
        meta=header["meta"],
        sizes=net.sizes,
        dtype=net.dtype,
    )


def _read_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, Any]:
    if info.file_size > _MAX_HEADER + NPY_HEADER_MAX:  # too big to even read
        raise Invalid(
            f"header.npy is {info.file_size} bytes; a header is at most "
            f"{_MAX_HEADER} bytes of JSON"
        )
    return _parse_header(read_npy(zf, info))


def _check_declared(
    h: dict[str, Any], infos: Mapping[str, zipfile.ZipInfo], size: int
) -> list[str]:
    """The members the header declares, checked against the archive unread.

    ``sizes`` fix the params' keys and bytes: together they must fit in the
    file, and each member must hold its bytes plus at most a ``.npy`` header.
    """
    sizes = h["sizes"]
    if len(sizes) < 2 or min(sizes) < 1:
        raise Invalid(
            f"header sizes must be 2 or more widths >= 1, got {_short(sizes)}"
        )
    # Count first and bytes next, so a hostile header never gets a big dict
    # built for it.
    L, listed = len(sizes) - 1, h["params"]
    wanted = "'W1', 'b1'" if L == 1 else f"'W1', 'b1', ..., 'W{L}', 'b{L}'"
    if len(listed) != 2 * L:
        raise Invalid(
            f"header sizes {_short(sizes)} make {2 * L} params ({wanted}) but it "
            f"lists {len(listed)} ({_names(listed)})"
        )
    itemsize = np.dtype(h["dtype"]).itemsize
    total = itemsize * sum(m * n + n for m, n in itertools.pairwise(sizes))
    if total > size:
        raise Invalid(
            f"header sizes {_short(sizes)} need {total} bytes of {h['dtype']} "
            f"params but the file has only {size} bytes"
        )
    shapes: dict[str, tuple[int, ...]] = {}
    for l in range(1, L + 1):
        shapes |= {f"W{l}": (sizes[l - 1], sizes[l]), f"b{l}": (sizes[l],)}
    if sorted(listed) != sorted(shapes):
        raise Invalid(
            f"header sizes {_short(sizes)} make params {wanted} but it lists "
            f"{_names(listed)}"
        )
    prefixed = [f"params/{k}" for k in h["params"]]
    prefixed += [f"opt_state/{k}" for k in h["opt_state"] or []]
    expected = {f"{k}.npy" for k in prefixed} | {"header.npy"}
    if missing := expected - infos.keys():
        raise Invalid(f"members {_names(missing)} are declared but missing")
    if extra := infos.keys() - expected:
        raise Invalid(f"members {_names(extra)} are not declared in the header")
    for k, shape in shapes.items():
        nbytes = math.prod(shape) * itemsize
        got = infos[f"params/{k}.npy"].file_size
        if not nbytes + 10 <= got <= nbytes + NPY_HEADER_MAX:
            raise Invalid(
                f"member 'params/{k}.npy' is {got} bytes but the header makes {k} "
                f"a {h['dtype']} {shape} array ({nbytes} bytes and a .npy header)"
            )
    return prefixed


def _short(x: object) -> str:
    text = repr(x)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _parse_header(raw: npt.NDArray[Any]) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise Invalid(f"header.npy must be 1-D uint8, got {raw.dtype} {raw.shape}")
    if raw.size > _MAX_HEADER:
        raise Invalid(f"header is {raw.size} bytes; at most {_MAX_HEADER} are read")
    try:
        h = json.loads(raw.tobytes().decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise Invalid(f"header is not valid UTF-8 JSON ({e})") from None
    if not isinstance(h, dict) or h.get("format") != FORMAT:
        got = h.get("format") if isinstance(h, dict) else type(h).__name__
        raise Invalid(f"header format is {got!r}, expected {FORMAT!r}")
    v = h.get("version")
    if type(v) is int and v > VERSION:
        raise Invalid(
            f"checkpoint format version {v} was written by a newer nnfunc; this "
            f"one reads versions {list(SUPPORTED_VERSIONS)}: upgrade nnfunc"
        )
    if type(v) is not int or v not in SUPPORTED_VERSIONS:
        raise Invalid(f"unsupported checkpoint format version {v!r}")
    if sorted(h) != _FIELDS:
        raise Invalid(f"header fields are {sorted(h)}, expected {_FIELDS}")
    state_keys = h["opt_state"]
    if (
        h["dtype"] not in ("float32", "float64")
        or not _str_list(h["params"])
        or not (state_keys is None or _str_list(state_keys))
        or not isinstance(h["sizes"], list)
        or not all(type(n) is int for n in h["sizes"])
    ):
        raise Invalid("header has a bad dtype, sizes, params or opt_state field")
    if state_keys is not None and not all(map(_STATE_KEY.match, state_keys)):
        raise Invalid(f"header has bad opt_state keys {state_keys!r}")
    return h


def _str_list(x: object) -> bool:
    """A list of distinct strings."""
    return (
        isinstance(x, list)
        and all(isinstance(s, str) for s in x)
        and (len(set(x)) == len(x))
    )


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _names(names: Any) -> str:
    shown = sorted(names)
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    return ", ".join(map(repr, shown[:5])) + more


def _check_path(path: object) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = os.fspath(path)
    if not isinstance(p, str):
        raise TypeError(f"path must be a text path, got {type(p).__name__} {p!r}")
    if not p:
        raise ValueError("path must not be empty")
    if "\0" in p:
        raise ValueError(f"path must not contain a NUL character, got {p!r}")
    return p


def _check_state(state: object, dtype: np.dtype[Any]) -> dict[str, npt.NDArray[Any]]:
    """Check an optimizer state before it is written.

    Counters (keys without a dot: ``count``, ``epoch``) are 0-d integers
    >= 0; slots (``m.W1``, ...) are finite arrays of ``dtype``.
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"opt_state must be a mapping of str to arrays, got {type(state).__name__}"
        )
    out: dict[str, npt.NDArray[Any]] = {}
    for k, a in state.items():
        if isinstance(a, np.ndarray):
            as_array(a, f"opt_state[{k!r}]")  # refuses masked arrays, matrices
        if not isinstance(k, str) or not _STATE_KEY.match(k):
            raise ValueError(
                f"opt_state keys must match [A-Za-z0-9_][A-Za-z0-9_.-]* "
                f"(such as 'count', 'm.W1'), got {k!r}"
            )
        if not isinstance(a, np.ndarray):
            raise TypeError(
                f"opt_state[{k!r}] must be a NumPy array, got {type(a).__name__}"
            )
        if "." not in k:
            if a.dtype.kind not in "iu" or a.ndim != 0 or int(a) < 0:
                raise ValueError(
                    f"opt_state[{k!r}] (a counter) must be a 0-d integer array "
                    f">= 0, got {a.dtype} of shape {a.shape}"
                )
        elif a.dtype != dtype:
            raise TypeError(
                f"opt_state[{k!r}] must be {dtype} like params, got {a.dtype}"
            )
        elif not np.isfinite(a).all():
            raise ValueError(f"opt_state[{k!r}] has NaN or infinite values")
        out[k] = a
    return out


def _check_meta(meta: object) -> Any:
    """``meta`` if it survives ``json.dumps`` then ``json.loads`` unchanged."""
    try:
        same = json.loads(json.dumps(meta, allow_nan=False)) == meta
    except (TypeError, ValueError, RecursionError) as e:
        raise TypeError(
            f"meta must be a JSON value (dict, list, str, ...): {e}"
        ) from None
    if not same:
        raise TypeError(
            "meta must load back equal from JSON: use lists, not tuples, and str "
            f"dict keys; got {meta!r}"
        )
    return meta


__all__ = [
    "FORMAT",
    "SUPPORTED_VERSIONS",
    "VERSION",
    "Checkpoint",
    "CheckpointError",
    "load",
    "save",
    "stale_temporaries",
]
