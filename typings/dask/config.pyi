from collections.abc import Mapping
from types import TracebackType
from typing import Any

class set:
    def __init__(self, arg: Mapping[str, Any] | None = None, **kwargs: Any) -> None: ...
    def __enter__(self) -> set: ...
    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...
