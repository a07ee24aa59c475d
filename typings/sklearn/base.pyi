from typing import Any, Self, TypeVar

import numpy.typing as npt

from sklearn.utils import Tags

_E = TypeVar("_E")

class BaseEstimator:
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Self: ...
    def __sklearn_tags__(self) -> Tags: ...

class ClassifierMixin:
    def __sklearn_tags__(self) -> Tags: ...
    def score(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
    ) -> float: ...

class RegressorMixin:
    def __sklearn_tags__(self) -> Tags: ...
    def score(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
    ) -> float: ...

def clone(estimator: _E, *, safe: bool = True) -> _E: ...
def is_classifier(estimator: object) -> bool: ...
def is_regressor(estimator: object) -> bool: ...
