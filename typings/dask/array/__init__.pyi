from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

# Chunk sizes and shape entries are ints, or NaN (a float) where unknown.
Chunks = tuple[tuple[float, ...], ...]

class Array:
    @property
    def shape(self) -> tuple[float, ...]: ...
    @property
    def ndim(self) -> int: ...
    @property
    def dtype(self) -> np.dtype[Any]: ...
    @property
    def chunks(self) -> Chunks: ...
    @property
    def numblocks(self) -> tuple[int, ...]: ...
    @property
    def nbytes(self) -> float: ...
    @property
    def name(self) -> str: ...
    def rechunk(self, chunks: Any = "auto") -> Array: ...
    def to_delayed(self, optimize_graph: bool = True) -> npt.NDArray[np.object_]: ...
    def map_blocks(
        self,
        func: Callable[..., Any],
        *args: Any,
        name: str | None = None,
        dtype: npt.DTypeLike | None = None,
        chunks: Any = None,
        drop_axis: int | Sequence[int] | None = None,
        new_axis: int | Sequence[int] | None = None,
        meta: Any = None,
        **kwargs: Any,
    ) -> Array: ...
    def astype(self, dtype: npt.DTypeLike) -> Array: ...
    def compute(self, **kwargs: Any) -> npt.NDArray[Any]: ...
    def persist(self, **kwargs: Any) -> Array: ...
    def __getitem__(self, index: Any) -> Array: ...
    def __array__(self, dtype: npt.DTypeLike | None = None) -> npt.NDArray[Any]: ...

def from_array(
    x: Any,
    chunks: Any = "auto",
    name: str | bool | None = None,
    lock: bool = False,
    asarray: bool | None = None,
    fancy: bool = True,
    getitem: Any = None,
    meta: Any = None,
    inline_array: bool = False,
) -> Array: ...
def from_npy_stack(dirname: str, mmap_mode: str | None = "r") -> Array: ...
def to_npy_stack(dirname: str, x: Array, axis: int = 0) -> None: ...
def map_blocks(
    func: Callable[..., Any],
    *args: Any,
    name: str | None = None,
    dtype: npt.DTypeLike | None = None,
    chunks: Any = None,
    drop_axis: int | Sequence[int] | None = None,
    new_axis: int | Sequence[int] | None = None,
    meta: Any = None,
    **kwargs: Any,
) -> Array: ...
def concatenate(seq: Sequence[Array], axis: int = 0) -> Array: ...
