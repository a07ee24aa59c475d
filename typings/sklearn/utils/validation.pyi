from collections.abc import Callable, Sequence
from typing import Any

import numpy.typing as npt

# Returns X, or (X, y) when y is given: callers bind the result to typed names.
def validate_data(
    _estimator: object,
    /,
    X: Any = "no_validation",
    y: Any = "no_validation",
    reset: bool = True,
    validate_separately: Any = False,
    skip_check_array: bool = False,
    **check_params: Any,
) -> Any: ...
def check_is_fitted(
    estimator: object,
    attributes: str | Sequence[str] | None = None,
    *,
    msg: str | None = None,
    all_or_any: Callable[..., bool] = ...,
) -> None: ...
def column_or_1d(
    y: npt.ArrayLike,
    *,
    dtype: npt.DTypeLike | None = None,
    input_name: str = "y",
    warn: bool = False,
    device: Any = None,
) -> npt.NDArray[Any]: ...
