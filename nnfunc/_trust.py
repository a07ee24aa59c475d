"""A memo of parameter sets that the library built and knows to be valid.

Checking a Params mapping (keys, shapes, dtype, finiteness) costs far more
than the arithmetic of a small network's step. Arrays the library allocated
and froze itself cannot change, so once a set of them is known to be valid
there is nothing to re-check: ``remember`` records the set, and ``known``
recognises a mapping that holds exactly those arrays under exactly those
keys. Only weak references are kept, so the memo never keeps an array
alive; an entry disappears with its first array.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np

_Entry = tuple[tuple[str, "weakref.ref[np.ndarray[Any, Any]]"], ...]

#: id of an entry's first array (W1) -> (key, weak reference) for each array.
_KNOWN: dict[int, _Entry] = {}


def remember(arrays: Mapping[str, np.ndarray[Any, Any]]) -> None:
    """Record that these read-only arrays, under these keys, are valid.

    Only for arrays the library itself allocated and froze, whose validity
    (keys, shapes that chain, one float dtype, finite values) it has
    established.
    """
    items = list(arrays.items())  # in layer order: W1, b1, W2, b2, ...
    first_key, first = items[0]
    slot = id(first)

    def forget(_: object) -> None:
        # The first array is gone; its id may be reused, so drop the entry.
        _KNOWN.pop(slot, None)

    refs = [(first_key, weakref.ref(first, forget))]
    refs += [(k, weakref.ref(a)) for k, a in items[1:]]
    _KNOWN[slot] = tuple(refs)


def known(params: Mapping[str, object]) -> list[np.ndarray[Any, Any]] | None:
    """The arrays of ``params`` in remembered order, or None.

    Not None only if ``params`` holds exactly a remembered set of frozen
    arrays under the same keys.
    """
    entry = _KNOWN.get(id(params.get("W1")))
    if entry is None or len(entry) != len(params):
        return None
    arrays = []
    for k, ref in entry:
        a = ref()
        if a is None or params.get(k) is not a or a.flags.writeable:
            return None
        arrays.append(a)
    return arrays
