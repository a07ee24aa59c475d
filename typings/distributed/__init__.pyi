# Stubs for the part of distributed that nnfunc imports (see typings/README.md).
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from dask.array import Array
from dask.delayed import Delayed

_T = TypeVar("_T")

class Future(Generic[_T]):
    @property
    def key(self) -> Hashable: ...
    @property
    def status(self) -> str: ...
    def result(self, timeout: float | None = None) -> _T: ...
    def exception(self, timeout: float | None = None) -> BaseException | None: ...
    def done(self) -> bool: ...
    def cancel(self) -> None: ...
    def release(self) -> None: ...

class LocalCluster:
    scheduler_address: str
    def __init__(
        self,
        name: str | None = None,
        n_workers: int | None = None,
        threads_per_worker: int | None = None,
        processes: bool | None = None,
        *,
        host: str | None = None,
        dashboard_address: str | None = ":8787",
        silence_logs: int | bool = ...,
        memory_limit: str | float | None = "auto",
        scheduler_kwargs: dict[str, Any] | None = None,
        **worker_kwargs: Any,
    ) -> None: ...
    def close(self, timeout: float | None = None) -> None: ...
    def __enter__(self) -> LocalCluster: ...
    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

class Client:
    def __init__(
        self,
        address: str | LocalCluster | None = None,
        *,
        timeout: float | str = ...,
        set_as_default: bool = True,
        **kwargs: Any,
    ) -> None: ...
    @property
    def status(self) -> str: ...
    def scatter(
        self,
        data: list[_T],
        workers: Sequence[str] | None = None,
        broadcast: bool = False,
        direct: bool | None = None,
        hash: bool = True,
    ) -> list[Future[_T]]: ...
    # The coroutine behind scatter, run through sync with a time limit
    # (nnfunc.distributed._train): scatter itself takes none.
    def _scatter(
        self, data: list[_T], broadcast: bool = False, hash: bool = True
    ) -> Any: ...
    def sync(
        self,
        func: Callable[..., Any],
        *args: Any,
        callback_timeout: float | None = None,
        **kwargs: Any,
    ) -> Any: ...
    def submit(
        self,
        func: Callable[..., _T],
        *args: Any,
        key: str | None = None,
        workers: Sequence[str] | None = None,
        retries: int | None = None,
        priority: int = 0,
        allow_other_workers: bool = False,
        pure: bool = True,
        **kwargs: Any,
    ) -> Future[_T]: ...
    def map(
        self,
        func: Callable[..., _T],
        *iterables: Iterable[Any],
        key: str | Sequence[str] | None = None,
        workers: Sequence[str] | None = None,
        retries: int | None = None,
        pure: bool = True,
        **kwargs: Any,
    ) -> list[Future[_T]]: ...
    @overload
    def gather(self, futures: Future[_T], errors: str = "raise") -> _T: ...
    @overload
    def gather(self, futures: list[Future[_T]], errors: str = "raise") -> list[_T]: ...
    def compute(
        self, collections: list[Delayed], *, optimize_graph: bool = True
    ) -> list[Future[Any]]: ...
    def persist(self, collections: Array) -> Array: ...
    def who_has(
        self, futures: Sequence[Future[Any]] | None = None
    ) -> Mapping[Hashable, Sequence[str]]: ...
    def cancel(self, futures: Sequence[Future[Any]], force: bool = False) -> None: ...
    def run(
        self,
        function: Callable[..., _T],
        *args: Any,
        workers: Sequence[str] | None = None,
        wait: bool = True,
        nanny: bool = False,
        **kwargs: Any,
    ) -> dict[str, _T]: ...
    def scheduler_info(self, n_workers: int = -1, **kwargs: Any) -> dict[str, Any]: ...
    def wait_for_workers(self, n_workers: int, timeout: float | None = None) -> None: ...
    def close(self, timeout: float | None = None) -> None: ...
    def __enter__(self) -> Client: ...
    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...
