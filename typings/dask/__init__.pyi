# Stubs for the part of dask that nnfunc imports (see typings/README.md).
from typing import Any

def compute(*args: Any, **kwargs: Any) -> tuple[Any, ...]: ...

from dask import config as config
