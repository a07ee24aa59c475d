r"""Classification metrics from integer labels: accuracy, confusion, precision, recall.

For true labels :math:`y` and predictions :math:`\hat y` over ``n`` samples
and ``k`` classes, the confusion matrix counts

.. math:: C_{ij} = \#\{s : y_s = i,\ \hat y_s = j\}

(rows are the true class, columns the predicted one, as in scikit-learn).
Everything else reads off it:

.. math::
    \text{accuracy} = \frac{\operatorname{tr} C}{n}, \qquad
    \text{precision}_j = \frac{C_{jj}}{\sum_i C_{ij}}, \qquad
    \text{recall}_j = \frac{C_{jj}}{\sum_i C_{ji}}

Precision asks "of the samples predicted ``j``, how many are ``j``?", recall
"of the samples that are ``j``, how many were found?". A class that is never
predicted has no precision and a class absent from ``y_true`` has no recall;
both are reported as ``0.0`` here (scikit-learn's ``zero_division=0``),
silently. Labels are the integer outputs of ``nnfunc.predict`` for
``softmax`` (``(n,)`` class indices) or for one ``sigmoid`` unit (``(n,)``
zeros and ones); float arrays holding whole numbers are accepted too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from nnfunc._checks import as_array, check_int

#: Integer class labels, one per sample.
Labels = npt.NDArray[np.int64]

#: The most classes a confusion matrix may have: ``k * k`` int64 cells are
#: allocated, so a larger label is more likely a score or an ID than a class.
MAX_CLASSES = 4096


def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """The fraction of samples whose predicted label equals the true one.

    Shapes: ``(n,)`` and ``(n,)``; or ``(n, k)`` and ``(n, k)`` for several
    sigmoid units, where a sample counts as right only when its whole row
    matches (subset accuracy).

    Args:
        y_true: the true integer labels.
        y_pred: the predicted integer labels, same shape.

    Returns:
        A float in ``[0, 1]``.

    Examples:
        >>> accuracy([0, 1, 2, 2], [0, 2, 2, 2])
        0.75
        >>> accuracy([[0, 1], [1, 1]], [[0, 1], [1, 0]])
        0.5
    """
    t = _labels(y_true, "y_true", ndims=(1, 2))
    p = _labels(y_pred, "y_pred", ndims=(1, 2))
    _same_shape(t, p)
    right = (t == p) if t.ndim == 1 else (t == p).all(axis=1)
    return float(np.count_nonzero(right)) / int(t.shape[0])


def confusion_matrix(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, k: int | None = None
) -> npt.NDArray[np.int64]:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as ``j``.

    Args:
        y_true: true class labels in ``[0, k)``, shape ``(n,)``.
        y_pred: predicted class labels in ``[0, k)``, shape ``(n,)``.
        k: the number of classes; by default ``1 + max`` of both label sets
            (pass it so that classes missing from a sample still get a row).

    Returns:
        A new int64 array of shape ``(k, k)`` that sums to ``n``; its trace
        over ``n`` is the accuracy.

    Examples:
        >>> confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2])
        array([[1, 0, 0],
               [0, 0, 1],
               [0, 0, 2]])
        >>> confusion_matrix([0, 0], [0, 0], k=2)
        array([[2, 0],
               [0, 0]])
    """
    t = _labels(y_true, "y_true", ndims=(1,))
    p = _labels(y_pred, "y_pred", ndims=(1,))
    _same_shape(t, p)
    if int(min(t.min(), p.min())) < 0:
        raise ValueError(
            "class labels must be >= 0 for a confusion matrix, got "
            f"min(y_true) = {int(t.min())}, min(y_pred) = {int(p.min())}"
        )
    top = int(max(t.max(), p.max()))
    n_classes = top + 1 if k is None else check_int(k, "k", lo=1)
    if n_classes > MAX_CLASSES:
        raise ValueError(
            f"a confusion matrix of {n_classes} classes (k, or 1 + the largest "
            f"label) is larger than MAX_CLASSES = {MAX_CLASSES}; are these class "
            "labels?"
        )
    if k is not None and top >= n_classes:
        raise ValueError(
            f"class labels must lie in [0, {n_classes - 1}] for k={n_classes}, "
            f"got a label {top}"
        )
    # Each (true, predicted) pair is one cell of the flattened k*k matrix.
    counts = np.bincount(t * n_classes + p, minlength=n_classes * n_classes)
    C: npt.NDArray[np.int64] = counts.astype(np.int64).reshape(n_classes, n_classes)
    return C


def precision_recall(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, k: int | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per-class precision ``C_jj / sum_i C_ij`` and recall ``C_jj / sum_i C_ji``.

    A class never predicted gets precision ``0.0``; a class absent from
    ``y_true`` gets recall ``0.0`` (no warning; see the module docstring).

    Args:
        y_true: true class labels, shape ``(n,)``.
        y_pred: predicted class labels, shape ``(n,)``.
        k: the number of classes (see ``confusion_matrix``).

    Returns:
        ``(precision, recall)``, two new float64 arrays of shape ``(k,)``.

    Examples:
        >>> precision, recall = precision_recall([0, 1, 2, 2], [0, 2, 2, 2])
        >>> precision.round(3).tolist(), recall.tolist()
        ([1.0, 0.0, 0.667], [1.0, 0.0, 1.0])
    """
    C = confusion_matrix(y_true, y_pred, k)
    hits = np.diag(C).astype(np.float64)
    return _ratio(hits, C.sum(axis=0)), _ratio(hits, C.sum(axis=1))


def _ratio(
    num: npt.NDArray[np.float64], den: npt.NDArray[Any]
) -> npt.NDArray[np.float64]:
    """``num / den`` with ``0.0`` where ``den == 0`` (no division by zero)."""
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)  # out was just allocated here
    return out


def _labels(y: object, name: str, ndims: tuple[int, ...]) -> Labels:
    """``y`` as int64 labels: integer (or bool, or whole float) values."""
    arr = as_array(y, name)
    if arr.ndim not in ndims:
        shapes = " or ".join(("(n,)", "(n, k)")[d - 1] for d in ndims)
        raise ValueError(f"{name} must have shape {shapes}, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one label, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} has NaN or infinite values")
        # beyond 2**53 floats skip integers; compared as a Python float, since
        # 2**53 overflows float16; initial=0 allows (n, 0) arrays
        if float(np.abs(arr).max(initial=0)) >= 2.0**53:
            raise ValueError(f"{name} has labels too large to be class labels")
        fractional = arr[arr != np.round(arr)]
        if fractional.size:
            raise ValueError(
                f"{name} must hold integer class labels, got fractional values "
                f"such as {float(fractional[0])}; for scores or probabilities, "
                f"take labels first (nnfunc.predict, or argmax over classes)"
            )
    elif arr.dtype == np.uint64 and arr.max(initial=0) > np.iinfo(np.int64).max:
        raise ValueError(f"{name} has labels too large to be class labels")
    elif arr.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    out: Labels = arr.astype(np.int64, copy=False)
    return out


def _same_shape(t: Labels, p: Labels) -> None:
    if t.shape != p.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {t.shape} and {p.shape}"
        )
