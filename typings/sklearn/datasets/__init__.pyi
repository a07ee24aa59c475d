from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

@overload
def load_digits(
    *, n_class: int = 10, return_X_y: Literal[True], as_frame: Literal[False] = False
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
@overload
def load_digits(
    *, n_class: int = 10, return_X_y: Literal[False] = False, as_frame: bool = False
) -> Any: ...

# The generators below are stubbed for the arguments the tests pass, with
# their default return form (arrays, no extras).
def make_classification(
    n_samples: int = 100,
    n_features: int = 20,
    *,
    n_informative: int = 2,
    n_redundant: int = 2,
    n_repeated: int = 0,
    n_classes: int = 2,
    n_clusters_per_class: int = 2,
    flip_y: float = 0.01,
    class_sep: float = 1.0,
    random_state: int | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def make_regression(
    n_samples: int = 100,
    n_features: int = 100,
    *,
    n_informative: int = 10,
    n_targets: int = 1,
    bias: float = 0.0,
    noise: float = 0.0,
    random_state: int | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def make_multilabel_classification(
    n_samples: int = 100,
    n_features: int = 20,
    *,
    n_classes: int = 5,
    n_labels: int = 2,
    length: int = 50,
    allow_unlabeled: bool = True,
    random_state: int | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def make_blobs(
    n_samples: int = 100,
    n_features: int = 2,
    *,
    centers: int | npt.ArrayLike | None = None,
    cluster_std: float = 1.0,
    random_state: int | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
