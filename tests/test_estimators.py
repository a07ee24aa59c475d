"""nnfunc.estimators: scikit-learn's conventions, its checks and its tools."""

from __future__ import annotations

import pickle
import subprocess
import sys
from typing import Any, get_args

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.base import clone
from sklearn.datasets import (
    load_digits,
    make_blobs,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import nnfunc as nf
from nnfunc.estimators import MLPClassifier, MLPRegressor, Solver

#: Small networks that learn the test problems in a few dozen epochs.
FAST: dict[str, Any] = {
    "hidden_layer_sizes": (16,),
    "learning_rate_init": 0.01,
    "max_iter": 40,
    "random_state": 0,
}

#: Tools are tested here, not convergence: a short run may end unconverged.
unconverged_ok = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

#: check_estimator on the default networks (100 units, up to 200 epochs): 3-5 s.
SLOW = pytest.mark.slow

Arrays = tuple[npt.NDArray[Any], npt.NDArray[Any]]


def digits(n: int = 300) -> Arrays:
    """The first ``n`` of scikit-learn's 8x8 digits, raw pixels 0-16."""
    x, y = load_digits(return_X_y=True)
    return x[:n], y[:n]


def blobs(k: int, n: int = 120) -> Arrays:
    """``k`` well separated clusters in 4-D, labels ``0..k-1``."""
    return make_blobs(n_samples=n, n_features=4, centers=k, random_state=0)


# --- scikit-learn's own checks ----------------------------------------------

#: Checks that fail, by name, with the reason; a declared failure that passes
#: fails the test. The float32 regressor predicts in float32, its dtype, where
#: check_regressor_multioutput asks for float64.
FLOAT32_FAILS: dict[str, str] = {
    "check_regressor_multioutput": "dtype=np.float32 predicts in float32, by design",
}

#: Checks that may skip here: they need pandas, or a decision_function.
MAY_SKIP = {
    "check_classifier_data_not_an_array",
    "check_regressor_data_not_an_array",
    "check_classifiers_multilabel_output_format_decision_function",
}


@unconverged_ok
@pytest.mark.parametrize(
    ("estimator", "expected"),
    [
        pytest.param(MLPClassifier(**FAST), {}, id="classifier"),
        pytest.param(MLPRegressor(**FAST), {}, id="regressor"),
        pytest.param(
            MLPClassifier(**FAST, early_stopping=True), {}, id="early-stopping"
        ),
        pytest.param(
            MLPRegressor(**FAST, dtype=np.float32), FLOAT32_FAILS, id="float32"
        ),
        pytest.param(MLPClassifier(), {}, id="classifier-defaults", marks=SLOW),
        pytest.param(MLPRegressor(), {}, id="regressor-defaults", marks=SLOW),
    ],
)
def test_check_estimator(
    estimator: object, expected: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")  # run the array API check too
    results = check_estimator(
        estimator, expected_failed_checks=expected, on_skip=None, on_fail=None
    )
    status = {r["check_name"]: r["status"] for r in results}
    failed = {
        r["check_name"]: repr(r["exception"])
        for r in results
        if r["status"] == "failed"
    }
    assert failed == {}
    assert {k for k, v in status.items() if v == "xfail"} == set(expected)
    assert {k for k, v in status.items() if v == "skipped"} <= MAY_SKIP
    assert len(status) > 45


# --- with scikit-learn's tools ----------------------------------------------


@unconverged_ok
def test_in_a_pipeline_after_standard_scaler() -> None:
    x, y = digits()
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**FAST))
    pipe.fit(x[:200], y[:200])
    assert pipe.score(x[200:], y[200:]) > 0.85
    assert isinstance(pipe[-1].params_, nf.Frozen)


@pytest.mark.slow  # two worker processes start
@unconverged_ok
def test_grid_search_in_two_processes() -> None:
    x, y = digits()
    x = StandardScaler().fit_transform(x)
    grid = GridSearchCV(
        MLPClassifier(**FAST),
        {"alpha": [1e-4, 1e-2], "solver": ["adam", "nesterov"]},
        cv=3,
        n_jobs=2,
    ).fit(x, y)
    assert grid.best_score_ > 0.85
    assert grid.best_estimator_.params_.output == "softmax"
    assert set(grid.best_params_) == {"alpha", "solver"}


@unconverged_ok
def test_cross_val_score_of_a_regressor() -> None:
    x, y = make_regression(n_samples=150, n_features=5, noise=5.0, random_state=0)
    scores = cross_val_score(MLPRegressor(**FAST), x, y / y.std(), cv=3)
    assert scores.shape == (3,)
    assert (scores > 0.8).all()


@unconverged_ok
def test_clone_copies_the_parameters_not_the_fit() -> None:
    x, y = blobs(3)
    est = MLPClassifier((4, 3), solver="nesterov", dtype=np.float32, random_state=1)
    copy = clone(est.fit(x, y))
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "params_")
    assert hasattr(est, "params_")


@unconverged_ok
def test_pickle_round_trip_predicts_the_same() -> None:
    x, y = blobs(3)
    clf = MLPClassifier(**FAST).fit(x, y)
    back = pickle.loads(pickle.dumps(clf))
    assert isinstance(back.params_, nf.Frozen)
    assert back.params_ == clf.params_
    assert back.opt_state_ == clf.opt_state_
    np.testing.assert_array_equal(back.predict_proba(x), clf.predict_proba(x))
    np.testing.assert_array_equal(back.predict(x), clf.predict(x))


# --- labels -----------------------------------------------------------------


@unconverged_ok
@pytest.mark.parametrize(
    "labels",
    [["cat", "dog", "emu"], [1, 2, 3, 4], [-1, 1], ["no", "yes"], [2.0, 5.0]],
)
def test_labels_come_back_as_given(labels: list[Any]) -> None:
    x, codes = blobs(len(labels))
    y = np.asarray(labels)[codes]
    clf = MLPClassifier(**FAST).fit(x, y)
    assert clf.classes_.tolist() == sorted(labels)
    assert (clf.predict(x) == y).mean() > 0.95
    p = clf.predict_proba(x)
    assert p.shape == (len(x), len(labels))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    if len(labels) == 2:  # one sigmoid unit: p(second class) is its output
        assert clf.n_outputs_ == 1
        assert clf.params_.output == "sigmoid"
        np.testing.assert_array_equal(p[:, 1], nf.forward(clf.params_, x)[:, 0])
    else:  # softmax: nnfunc's own predict gives indices into classes_
        assert clf.n_outputs_ == len(labels)
        assert clf.params_.output == "softmax"
        pred = clf.classes_[nf.predict(clf.params_, x)]
        np.testing.assert_array_equal(pred, clf.predict(x))


@unconverged_ok
def test_multilabel_indicator_targets() -> None:
    x, Y = make_multilabel_classification(
        n_samples=150, n_features=6, n_classes=3, random_state=0
    )
    x = StandardScaler().fit_transform(x)
    clf = MLPClassifier(**dict(FAST, max_iter=100)).fit(x, Y)
    assert clf.params_.output == "sigmoid"
    assert clf.n_outputs_ == 3
    assert clf.classes_.tolist() == [0, 1, 2]
    pred, p = clf.predict(x), clf.predict_proba(x)
    assert pred.shape == p.shape == Y.shape
    assert pred.dtype == np.int64
    np.testing.assert_array_equal(pred, p > 0.5)
    assert (pred == Y).mean() > 0.8  # per label (scikit-learn's MLP: 0.84)


@unconverged_ok
def test_regressor_one_and_several_targets() -> None:
    x, Y = make_regression(
        n_samples=150, n_features=5, n_targets=2, noise=5.0, random_state=0
    )
    Y = Y / Y.std(axis=0)
    reg = MLPRegressor(**FAST).fit(x, Y)
    assert reg.params_.output == "identity"
    assert reg.n_outputs_ == 2
    assert reg.predict(x).shape == (150, 2)
    assert reg.score(x, Y) > 0.9
    one = MLPRegressor(**FAST).fit(x, Y[:, 0])
    assert one.predict(x).shape == (150,)
    np.testing.assert_array_equal(one.predict(x), nf.forward(one.params_, x)[:, 0])


def test_one_class_is_an_error() -> None:
    x, _ = blobs(2)
    with pytest.raises(ValueError, match=r"at least 2 classes.*only one class"):
        MLPClassifier(**FAST).fit(x, np.zeros(len(x)))


# --- training ---------------------------------------------------------------


def test_partial_fit_is_fit_one_epoch_at_a_time() -> None:
    x, y = blobs(3)
    settings = dict(FAST, max_iter=3)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        full = MLPClassifier(**settings).fit(x, y)
    step = MLPClassifier(**settings)
    for _ in range(3):
        step.partial_fit(x, y, classes=[0, 1, 2])
    assert step.params_ == full.params_  # same seeds, same epochs: same bits
    assert step.loss_curve_ == full.loss_curve_
    assert step.n_iter_ == int(step.opt_state_["epoch"]) == 3


def test_partial_fit_checks_its_labels() -> None:
    x, y = blobs(3)
    clf = MLPClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(x, y)
    clf.partial_fit(x[y < 2], y[y < 2], classes=[0, 1, 2])  # 3 softmax units
    assert clf.n_outputs_ == 3
    with pytest.raises(ValueError, match=r"not in classes \[0, 1, 2\]: \[7\]"):
        clf.partial_fit(x, np.where(y == 2, 7, y))
    with pytest.raises(ValueError, match="differs from the classes_"):
        clf.partial_fit(x, y, classes=[0, 1])
    reg = MLPRegressor(**FAST).partial_fit(x, y.astype(float))
    reg.partial_fit(x, y.astype(float))
    assert reg.n_iter_ == len(reg.loss_curve_) == 2


def test_convergence_warning_only_when_max_iter_ends_the_run() -> None:
    x, y = blobs(3)
    with pytest.warns(ConvergenceWarning, match="max_iter=2 epochs"):
        MLPClassifier(**dict(FAST, max_iter=2)).fit(x, y)
    # progress is a drop by tol: with tol=1, every epoch after the first is stale
    clf = MLPClassifier(**dict(FAST, tol=1.0, n_iter_no_change=2)).fit(x, y)
    assert clf.n_iter_ == 3


def test_early_stopping_keeps_the_best_validation_epoch() -> None:
    x, y = digits()
    x = StandardScaler().fit_transform(x)
    settings = dict(FAST, max_iter=200, early_stopping=True, n_iter_no_change=3)
    clf = MLPClassifier(**settings).fit(x, y)
    curve = clf.validation_loss_curve_
    assert curve is not None
    assert len(curve) == len(clf.loss_curve_) == clf.n_iter_ < 200
    best = int(np.argmin(curve)) + 1
    assert int(clf.opt_state_["epoch"]) == best  # its state, and so its params
    quick = dict(FAST, tol=1.0, n_iter_no_change=1)  # stops after epoch 2
    assert MLPClassifier(**quick).fit(x, y).validation_loss_curve_ is None


def test_verbose_prints_a_line_per_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    x, y = blobs(2)
    MLPClassifier(**dict(FAST, verbose=True, tol=1.0, n_iter_no_change=1)).fit(x, y)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("MLPClassifier epoch 2  loss ")


@unconverged_ok
@pytest.mark.parametrize("solver", get_args(Solver))
def test_every_solver_lowers_the_loss(solver: Solver) -> None:
    x, y = blobs(3)
    clf = MLPClassifier(**dict(FAST, solver=solver, max_iter=5)).fit(x, y)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


@unconverged_ok
def test_random_state() -> None:
    x, y = blobs(3)
    first, again = (MLPClassifier(**FAST).fit(x, y) for _ in range(2))
    assert first.params_ == again.params_  # an int: the same bits every fit
    unseeded = dict(FAST, random_state=None)  # numpy's global generator
    a, b = (MLPClassifier(**unseeded).fit(x, y) for _ in range(2))
    assert a.params_ != b.params_


@unconverged_ok
def test_float32_network() -> None:
    x, y = blobs(2)
    clf = MLPClassifier(**dict(FAST, dtype=np.float32)).fit(x, y)
    assert clf.params_["W1"].dtype == np.float32
    assert clf.predict_proba(x).dtype == np.float32


# --- errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"solver": "lbfgs"}, "unknown solver 'lbfgs'"),
        ({"activation": "logistic"}, "unknown activation 'logistic'.*'sigmoid'"),
        ({"hidden_layer_sizes": (4, 0)}, r"hidden_layer_sizes\[1\] must be >= 1"),
        ({"hidden_layer_sizes": "4"}, "hidden_layer_sizes must be an int or"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate_init": 0.0}, "learning_rate_init must be > 0"),
        ({"validation_fraction": 1.0}, "validation_fraction must be finite and in"),
        ({"dtype": np.int64}, "dtype must be np.float32 or np.float64"),
        ({"init": "glorot"}, "unknown init 'glorot'"),
    ],
)
def test_bad_parameters_are_reported_by_fit(params: dict[str, Any], match: str) -> None:
    x, y = blobs(2)
    est = MLPClassifier(**params)  # __init__ only stores them
    assert est.get_params()[next(iter(params))] is next(iter(params.values()))
    with pytest.raises((ValueError, TypeError), match=match):
        est.fit(x, y)


def test_predict_before_fit() -> None:
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(np.zeros((2, 3)))


def test_import_nnfunc_leaves_sklearn_alone() -> None:
    code = (
        "import sys, nnfunc; "
        "assert 'sklearn' not in sys.modules, 'sklearn'; "
        "assert 'nnfunc.estimators' not in sys.modules, 'estimators'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
