"""Metrics against hand-computed cases, scikit-learn, and their invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnfunc.metrics import accuracy, confusion_matrix, precision_recall


def test_hand_computed_case() -> None:
    # true 0 0 1 1 1 2 ; pred 0 1 1 1 0 0
    t, p = [0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 0]
    C = confusion_matrix(t, p)
    # rows: true class, columns: predicted class
    np.testing.assert_array_equal(C, [[1, 1, 0], [1, 2, 0], [1, 0, 0]])
    assert C.dtype == np.int64
    assert accuracy(t, p) == 0.5  # 1 + 2 right out of 6
    precision, recall = precision_recall(t, p)
    # predicted 0: 3 times, 1 right; predicted 1: 3 times, 2 right; 2: never
    np.testing.assert_allclose(precision, [1 / 3, 2 / 3, 0.0])
    # true 0: 2, 1 found; true 1: 3, 2 found; true 2: 1, none found
    np.testing.assert_allclose(recall, [1 / 2, 2 / 3, 0.0])


def test_absent_classes_count_as_zero_without_warning() -> None:
    precision, recall = precision_recall([0, 0], [0, 0], k=3)
    np.testing.assert_array_equal(precision, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(recall, [1.0, 0.0, 0.0])
    assert confusion_matrix([1], [1], k=4).shape == (4, 4)


def test_accepts_bools_and_whole_floats_and_subset_accuracy() -> None:
    assert accuracy(np.array([True, False]), np.array([1, 1])) == 0.5
    assert accuracy(np.array([0.0, 2.0]), np.array([0, 2])) == 1.0
    assert accuracy([[1, 0], [1, 1], [0, 0]], [[1, 0], [1, 0], [0, 0]]) == 2 / 3


labels = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 5), min_size=n, max_size=n),
        st.lists(st.integers(0, 5), min_size=n, max_size=n),
    )
)


@given(labels)
def test_invariants(pair: tuple[list[int], list[int]]) -> None:
    t, p = np.array(pair[0]), np.array(pair[1])
    C = confusion_matrix(t, p, k=6)
    assert C.sum() == t.size
    assert np.trace(C) / t.size == accuracy(t, p)
    np.testing.assert_array_equal(C.sum(axis=1), np.bincount(t, minlength=6))
    np.testing.assert_array_equal(C.sum(axis=0), np.bincount(p, minlength=6))
    np.testing.assert_array_equal(
        confusion_matrix(t, p),
        C[: max(t.max(), p.max()) + 1, : max(t.max(), p.max()) + 1],
    )
    precision, recall = precision_recall(t, p, k=6)
    assert ((precision >= 0) & (precision <= 1)).all()
    assert ((recall >= 0) & (recall <= 1)).all()
    # recall weighted by class frequency is the accuracy
    assert np.isclose(
        (recall * np.bincount(t, minlength=6)).sum() / t.size, accuracy(t, p)
    )


@settings(deadline=None)  # the first call imports scikit-learn
@given(labels)
def test_agrees_with_scikit_learn(pair: tuple[list[int], list[int]]) -> None:
    sk = pytest.importorskip("sklearn.metrics")
    t, p = np.array(pair[0]), np.array(pair[1])
    k = list(range(6))
    np.testing.assert_array_equal(
        confusion_matrix(t, p, k=6), sk.confusion_matrix(t, p, labels=k)
    )
    precision, recall = precision_recall(t, p, k=6)
    np.testing.assert_allclose(
        precision, sk.precision_score(t, p, labels=k, average=None, zero_division=0)
    )
    np.testing.assert_allclose(
        recall, sk.recall_score(t, p, labels=k, average=None, zero_division=0)
    )
    assert accuracy(t, p) == pytest.approx(sk.accuracy_score(t, p))


def test_inputs_unchanged() -> None:
    t, p = np.array([0, 1, 1]), np.array([1.0, 1.0, 0.0])
    t0, p0 = t.copy(), p.copy()
    confusion_matrix(t, p)
    precision_recall(t, p)
    accuracy(t, p)
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_array_equal(p, p0)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: accuracy([0, 1], [0, 1, 1]),
            ValueError,
            r"same shape, got \(2,\) and \(3,\)",
        ),
        (lambda: accuracy([], []), ValueError, "at least one label"),
        (
            lambda: accuracy([0.5, 1.0], [0, 1]),
            ValueError,
            "fractional values such as 0.5",
        ),
        (lambda: accuracy([np.nan], [0]), ValueError, "NaN"),
        (lambda: accuracy(["a"], ["a"]), TypeError, "integer class labels"),
        (lambda: accuracy(np.zeros((1, 1, 1)), [0]), ValueError, "shape"),
        (lambda: accuracy(1, 1), ValueError, "shape"),
        (lambda: confusion_matrix([[0]], [[0]]), ValueError, r"shape \(n,\)"),
        (lambda: confusion_matrix([-1, 0], [0, 0]), ValueError, ">= 0"),
        (
            lambda: confusion_matrix([0, 3], [0, 0], k=3),
            ValueError,
            r"\[0, 2\] for k=3",
        ),
        (lambda: confusion_matrix([0], [0], k=0), ValueError, "k must be >= 1"),
        (
            lambda: confusion_matrix([0], [0], k=2.0),  # type: ignore[arg-type]
            TypeError,
            "k must be an int",
        ),
        (lambda: confusion_matrix([0], [10**6]), ValueError, "MAX_CLASSES"),
        (lambda: precision_recall([0], [1e300]), ValueError, "too large"),
    ],
)
def test_bad_inputs(call: object, error: type[Exception], match: str) -> None:
    assert callable(call)
    with pytest.raises(error, match=match):
        call()
