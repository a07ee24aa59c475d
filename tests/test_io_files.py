"""save/load and the file system: the temporary files of save.

``test_io`` checks what a checkpoint holds; this file checks the file that
holds it: long non-ASCII names, and the temporary files a killed save leaves.
"""

from __future__ import annotations

import fnmatch
import os
import pathlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnfunc as nf
from nnfunc import _npz
from nnfunc.io import load, save, stale_temporaries

GOOD = nf.init_params([3, 4, 2], seed=0)

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
