from collections.abc import Callable
from typing import Any, Literal

def check_estimator(
    estimator: object = None,
    *,
    legacy: bool = True,
    expected_failed_checks: dict[str, str] | None = None,
    on_skip: Literal["warn"] | None = "warn",
    on_fail: Literal["raise", "warn"] | None = "raise",
    callback: Callable[..., None] | None = None,
) -> list[dict[str, Any]]: ...
