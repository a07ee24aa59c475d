from typing import Any, Self

import numpy as np
import numpy.typing as npt

class StandardScaler:
    mean_: npt.NDArray[np.float64]
    scale_: npt.NDArray[np.float64]
    def __init__(
        self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True
    ) -> None: ...
    def fit(self, X: npt.ArrayLike, y: Any = None) -> Self: ...
    def transform(self, X: npt.ArrayLike) -> npt.NDArray[Any]: ...
    def fit_transform(self, X: npt.ArrayLike, y: Any = None) -> npt.NDArray[Any]: ...
