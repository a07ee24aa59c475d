"""The shared vocabulary of nnfunc: one place for every type name.

A network is data: ``Params`` maps ``"W1", "b1", ..., "WL", "bL"`` to arrays.
``W{l}`` has shape ``(n_{l-1}, n_l)`` and ``b{l}`` has shape ``(n_l,)``, so a
batch of row vectors ``x`` of shape ``(batch, n_0)`` flows through
``z = a_prev @ W + b``. (The textbook writes ``z = W x + b`` for one column
vector ``x``; stacking samples as rows transposes it.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal, NamedTuple, NoReturn, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt

#: A NumPy floating array (``float64`` by default, ``float32`` supported).
Array: TypeAlias = npt.NDArray[np.floating[Any]]

#: Network parameters as accepted: any mapping ``"W1", "b1", ...`` to arrays.
#: Every function returns them as a ``Frozen`` value.
Params: TypeAlias = Mapping[str, Array]

#: Gradients have exactly the keys and shapes of the params they belong to.
Grads: TypeAlias = Params

#: Optimizer state: a mapping of arrays. ``"count"`` is a 0-d int64 array
#: (steps taken so far); slots are keyed ``"{slot}.{param}"``, e.g.
#: ``"m.W1"``, so a state saves to one flat ``.npz``. ``train`` adds
#: ``"epoch"`` (0-d int64, epochs completed), which every step keeps.
OptState: TypeAlias = Mapping[str, npt.NDArray[Any]]

#: A learning-rate schedule: step number (0, 1, 2, ...) to learning rate.
Schedule: TypeAlias = Callable[[int], float]

#: A learning rate: a constant or a schedule.
LearningRate: TypeAlias = float | Schedule

#: Anything ``np.random.default_rng`` turns into the same stream every time.
Seed: TypeAlias = int | np.random.SeedSequence

#: A batch of inputs, one sample per row (anything ``np.asarray`` turns into
#: a real 2-D array; cast once to the params' dtype).
Batch: TypeAlias = Annotated[npt.ArrayLike, "batch n_0"]

#: Targets: ``(batch, k)`` values or probability rows, ``(batch,)`` when
#: ``k == 1``, or ``(batch,)`` integer class labels for a softmax output.
Targets: TypeAlias = Annotated[npt.ArrayLike, "batch k"]

#: The network's output for a batch, one sample per row.
Output: TypeAlias = Annotated[Array, "batch n_L"]

#: Hidden-layer activation names; every one has a derivative in the registry.
ActivationName: TypeAlias = Literal[
    "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "identity"
]

#: One activation for every hidden layer, or one name per hidden layer.
Hidden: TypeAlias = ActivationName | Sequence[ActivationName]

#: Output activations, each paired with its canonical loss.
OutputName: TypeAlias = Literal["sigmoid", "softmax", "identity"]

#: Weight initialization schemes.
InitName: TypeAlias = Literal[
    "xavier",
    "xavier_uniform",
    "xavier_normal",
    "he",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "lecun_uniform",
    "small_normal",
]

#: Floating dtypes the library computes in.
FloatDType: TypeAlias = type[np.floating[Any]] | np.dtype[Any]

#: The arrays a ``Frozen`` value holds (floating for params and grads).
A_co = TypeVar("A_co", bound="np.ndarray[Any, Any]", covariant=True)


class Net(NamedTuple):
    """The validated structure of a Params mapping, for the kernels.

    ``Ws`` and ``bs`` in layer order, their common dtype, the layer widths
    ``(n_0, ..., n_L)``, and ``flat``: the one contiguous buffer that every
    array is a view of, in the order ``W1, b1, W2, ...``, when there is one
    (a ``Frozen`` value's), else None.
    """

    Ws: tuple[Array, ...]
    bs: tuple[Array, ...]
    dtype: np.dtype[Any]
    sizes: tuple[int, ...]
    flat: Array | None = None

    def keys(self) -> tuple[str, ...]:
        """``("W1", "b1", ..., "WL", "bL")``: the canonical key order."""
        return param_keys(len(self.Ws))

    def items(self) -> list[tuple[str, Array]]:
        """``[("W1", W1), ("b1", b1), ...]`` in layer order."""
        arrays = [a for pair in zip(self.Ws, self.bs, strict=True) for a in pair]
        return list(zip(self.keys(), arrays, strict=True))


def param_keys(L: int) -> tuple[str, ...]:
    """``("W1", "b1", ..., "WL", "bL")`` for ``L`` layers."""
    if len(_KEYS) > L:
        return _KEYS[L]
    return _keys(L)


def _keys(L: int) -> tuple[str, ...]:
    return tuple(f"{p}{l}" for l in range(1, L + 1) for p in "Wb")


#: The key tuples of networks of up to 63 layers, made once (a constant).
_KEYS: tuple[tuple[str, ...], ...] = tuple(_keys(L) for L in range(64))


class Frozen(Mapping[str, A_co]):
    """The library's value: an immutable mapping of read-only arrays.

    Params, grads and optimizer states come back from every function as a
    ``Frozen``. It reads like a ``dict`` (``p["W1"]``, ``dict(p)``,
    iteration in layer order) but cannot change: its arrays are read-only
    and share memory with nothing writable. Params record the architecture
    that runs them, ``hidden`` and ``output`` (None when not recorded).
    A value is validated when it is built (by ``nnfunc.freeze``,
    ``init_params``, a step, or unpickling), so the library can trust its
    structure; results are still checked finite before they are returned.

    It pickles and copies (``pickle``, ``copy``, process pools) and comes back
    the same type, read-only, with the same bits. Equality compares keys,
    dtypes, shapes, values and the record. Build one with ``nnfunc.freeze``.

    Examples:
        >>> import nnfunc as nf
        >>> p = nf.init_params([3, 4, 2], hidden="tanh", output="softmax")
        >>> p
        Frozen(hidden='tanh', output='softmax')
          W1  (3, 4)  float64
          b1  (4,)    float64
          W2  (4, 2)  float64
          b2  (2,)    float64
        >>> p.hidden, p["W1"].flags.writeable
        ('tanh', False)
    """

    __slots__ = ("_arrays", "_hidden", "_net", "_output", "_slots")

    _arrays: dict[str, A_co]
    _net: Net | None
    _slots: dict[str, Array] | None
    _hidden: Hidden | None
    _output: OutputName | None

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError(
            "build a Frozen value with nnfunc.freeze(mapping, hidden=..., "
            "output=...) (or init_params), not Frozen(...)"
        )

    @classmethod
    def _wrap(
        cls,
        arrays: dict[str, A_co],
        net: Net | None = None,
        hidden: Hidden | None = None,
        output: OutputName | None = None,
        slots: dict[str, Array] | None = None,
    ) -> Frozen[A_co]:
        """Wrap arrays the library just allocated and validated (no copy).

        The dict and its arrays must be referenced by nothing else; each
        array becomes read-only, and so do the buffers they are views of:
        ``net.flat`` for params and grads, and for an optimizer state
        ``slots``, one buffer per slot (``"m"``: ``m.W1, m.b1, ...``).
        """
        flat = None if net is None else net.flat
        if flat is None or flat.flags.writeable:
            for a in arrays.values():
                a.flags.writeable = False
        if flat is not None:
            flat.flags.writeable = False
        if slots:
            for buffer in slots.values():
                buffer.flags.writeable = False
        self = object.__new__(cls)
        setattr_ = object.__setattr__  # Frozen's own __setattr__ refuses
        setattr_(self, "_arrays", arrays)
        setattr_(self, "_net", net)
        setattr_(self, "_hidden", hidden)
        setattr_(self, "_output", output)
        setattr_(self, "_slots", slots)
        return self

    @property
    def hidden(self) -> Hidden | None:
        """The recorded hidden activation(s), or None."""
        return self._hidden

    @property
    def output(self) -> OutputName | None:
        """The recorded output activation (and so the loss), or None."""
        return self._output

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"a Frozen value cannot change (setting {name!r})")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"a Frozen value cannot change (deleting {name!r})")

    def __getitem__(self, key: str) -> A_co:
        return self._arrays[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __contains__(self, key: object) -> bool:
        return key in self._arrays

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping) or other.keys() != self._arrays.keys():
            return False
        if isinstance(other, Frozen) and (
            other.hidden != self.hidden or other.output != self.output
        ):
            return False
        return all(
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and bool(np.array_equal(a, b))
            for a, b in ((self._arrays[k], other[k]) for k in self._arrays)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        record = f"hidden={self.hidden!r}, output={self.output!r}"
        width = max((len(str(a.shape)) for a in self._arrays.values()), default=0)
        rows = [
            f"  {k:<3} {a.shape!s:<{width}}  {a.dtype}"
            for k, a in self._arrays.items()
        ]
        return "\n".join([f"Frozen({record})", *rows])

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt, and validated again, by nnfunc.params.unpickle.
        from nnfunc.params import unpickle

        record = (self.hidden, self.output, self._net is not None)
        return (unpickle, (dict(self._arrays), *record))


#: A state as every optimizer returns it (float slots, integer counters).
State: TypeAlias = "Frozen[npt.NDArray[Any]]"

__all__ = [
    "ActivationName",
    "Array",
    "Batch",
    "FloatDType",
    "Frozen",
    "Grads",
    "Hidden",
    "InitName",
    "LearningRate",
    "Net",
    "OptState",
    "Output",
    "OutputName",
    "Params",
    "Schedule",
    "Seed",
    "State",
    "Targets",
]
