from typing import Any, Self

import numpy as np
import numpy.typing as npt

class GridSearchCV:
    best_estimator_: Any
    best_params_: dict[str, Any]
    best_score_: float
    cv_results_: dict[str, Any]
    def __init__(
        self,
        estimator: object,
        param_grid: dict[str, Any] | list[dict[str, Any]],
        *,
        scoring: str | None = None,
        n_jobs: int | None = None,
        refit: bool = True,
        cv: int | None = None,
        verbose: int = 0,
        error_score: float | str = ...,
        return_train_score: bool = False,
    ) -> None: ...
    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike | None = None) -> Self: ...
    def predict(self, X: npt.ArrayLike) -> npt.NDArray[Any]: ...
    def score(self, X: npt.ArrayLike, y: npt.ArrayLike | None = None) -> float: ...

def cross_val_score(
    estimator: object,
    X: npt.ArrayLike,
    y: npt.ArrayLike | None = None,
    *,
    groups: npt.ArrayLike | None = None,
    scoring: str | None = None,
    cv: int | None = None,
    n_jobs: int | None = None,
    verbose: int = 0,
    error_score: float | str = ...,
) -> npt.NDArray[np.float64]: ...
