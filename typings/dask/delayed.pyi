from collections.abc import Hashable
from typing import Any

class Delayed:
    @property
    def key(self) -> Hashable: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Delayed: ...
    def compute(self, **kwargs: Any) -> Any: ...

def delayed(
    obj: Any,
    name: str | None = None,
    pure: bool | None = None,
    nout: int | None = None,
    traverse: bool = True,
) -> Delayed: ...
