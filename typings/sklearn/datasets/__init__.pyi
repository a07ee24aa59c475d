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
