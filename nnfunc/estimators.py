"""scikit-learn estimators over nnfunc: ``MLPClassifier`` and ``MLPRegressor``.

Thin adapters: ``fit`` builds a network with ``nnfunc.init_params`` and
runs ``nnfunc.train`` one epoch at a time; ``predict`` and ``predict_proba``
call ``nnfunc.predict`` and ``nnfunc.forward``. The fitted network is
``params_``, an ``nnfunc.Frozen`` value that records its activations, so it
can leave the estimator and be used (or saved) with the core functions.
They follow scikit-learn's conventions (``__init__`` stores the parameters,
everything is checked in ``fit``, fitted attributes end in ``_``), so they
work in ``Pipeline``, ``GridSearchCV``, ``cross_val_score``, ``clone`` and
``pickle``, and pass ``sklearn.utils.estimator_checks.check_estimator``.

This module needs scikit-learn (``pip install 'nnfunc[sklearn]'``);
``import nnfunc`` does not import it.

Parameters (both estimators; the first two may be positional):
    hidden_layer_sizes: the widths of the hidden layers, e.g. ``(100,)``
        (an int is one layer; ``()`` is no hidden layer).
    activation: the hidden activation, an ``nnfunc.ActivationName``.
    solver: ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"rmsprop"``,
        ``"adam"`` or ``"adamw"``.
    alpha: nnfunc's ``l2`` (the adamw weight decay for ``"adamw"``).
    batch_size: samples per step; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init: the optimizer's constant learning rate.
    max_iter: at most this many epochs per ``fit``.
    tol: the least drop of the watched loss that counts as progress.
    early_stopping: hold out ``validation_fraction`` of the training
        data (stratified for a classifier) and watch its loss.
    validation_fraction: the share held out, in ``(0, 1)``.
    n_iter_no_change: stop after this many epochs without progress.
    random_state: None (numpy's global generator), an int, or a
        ``np.random.RandomState``; seeds for the initial weights, the
        shuffling and the split are drawn from it once per ``fit``.
    init: the initializer, an ``nnfunc.InitName``.
    dtype: ``np.float64`` or ``np.float32``, the network's dtype.
    verbose: print one line per epoch to stderr.

Fitted attributes (also ``classes_`` for the classifier):
    params_: the trained network, an ``nnfunc.Frozen`` value.
    opt_state_: the optimizer state (with ``"epoch"``) that
        ``partial_fit`` continues from.
    loss_curve_: the training loss of every epoch (with the penalty).
    validation_loss_curve_: the validation loss of every epoch with
        ``early_stopping``, else None.
    n_iter_: epochs run (by ``fit``, plus one per ``partial_fit``).
    n_outputs_: units of the output layer.
    n_features_in_: features seen in ``fit``.

Where they differ from ``sklearn.neural_network``:

- ``activation`` takes nnfunc's names (``"sigmoid"``, not ``"logistic"``),
  ``solver`` nnfunc's optimizers (``"sgd"``, ``"momentum"``,
  ``"nesterov"`` with β = 0.9, ``"rmsprop"``, ``"adam"``, ``"adamw"``;
  no ``"lbfgs"``), and ``init`` names the initializer (``"he"``).
- ``alpha`` is nnfunc's ``l2``: ``(alpha/2) Σ‖W‖²`` is added to the *mean*
  loss of each batch. scikit-learn divides its penalty by the batch size,
  so its ``alpha`` equals ``batch_size * alpha`` here. For ``"adamw"``,
  ``alpha`` is the decoupled weight decay λ instead (no penalty in the
  loss; see ``nnfunc.adamw_step``; useful values are around 1e-2).
- Convergence: without early stopping, training stops once the training
  loss has not dropped by ``tol`` for ``n_iter_no_change`` epochs in a row
  (scikit-learn waits one epoch more); with ``early_stopping``, the same
  rule watches the *validation loss* (scikit-learn: the validation
  accuracy or R²) and ``params_`` are those of the epoch with the lowest
  one. Reaching ``max_iter`` first emits a ``ConvergenceWarning``.
- A classifier needs at least two classes (scikit-learn's also fits one).

Examples:
    >>> from nnfunc.estimators import MLPClassifier
    >>> x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5
    >>> y = ["same", "differ", "differ", "same"] * 5
    >>> clf = MLPClassifier((8,), activation="tanh", learning_rate_init=0.05,
    ...                     random_state=0).fit(x, y)
    >>> clf.predict([[0, 1], [1, 1]]).tolist(), clf.classes_.tolist()
    (['differ', 'same'], ['differ', 'same'])
    >>> clf.params_  # one sigmoid unit for two classes
    Frozen(hidden='tanh', output='sigmoid')
      W1  (2, 8)  float64
      b1  (8,)    float64
      W2  (8, 1)  float64
      b2  (1,)    float64
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal, NamedTuple, Self, TypeAlias

import numpy as np
import numpy.typing as npt

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils import Tags, check_random_state
    from sklearn.utils.multiclass import (
        check_classification_targets,
        type_of_target,
        unique_labels,
    )
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "nnfunc.estimators needs scikit-learn >= 1.6; install it with "
        "pip install 'nnfunc[sklearn]'"
    ) from e

import nnfunc as nf
from nnfunc._checks import (
    check_flag,
    check_float,
    check_float_dtype,
    check_int,
    check_name,
    check_positive,
)
from nnfunc.datasets import split

#: The optimizers a ``solver`` name selects.
Solver: TypeAlias = Literal["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]

#: solver -> (learning_rate_init, alpha) -> (optimizer, l2 for train).
#: ``alpha`` is the L2 penalty, except for adamw, whose decay it is.
_SOLVERS: dict[str, Callable[[float, float], tuple[nf.Optimizer, float]]] = {
    "sgd": lambda lr, alpha: (nf.sgd(lr), alpha),
    "momentum": lambda lr, alpha: (nf.momentum(lr, beta=0.9), alpha),
    "nesterov": lambda lr, alpha: (nf.momentum(lr, beta=0.9, nesterov=True), alpha),
    "rmsprop": lambda lr, alpha: (nf.rmsprop(lr), alpha),
    "adam": lambda lr, alpha: (nf.adam(lr), alpha),
    "adamw": lambda lr, alpha: (nf.adamw(lr, weight_decay=alpha), 0.0),
}

#: Seeds are drawn from ``random_state`` below this bound (as scikit-learn does).
_SEED_BOUND = int(np.iinfo(np.int32).max)


class _Options(NamedTuple):
    """The estimator's parameters, checked (in ``fit``, never in ``__init__``)."""

    hidden: tuple[int, ...]
    activation: nf.ActivationName
    optimizer: nf.Optimizer
    l2: float
    batch_size: int | None  # None: "auto", min(200, n)
    max_iter: int
    tol: float
    early_stopping: bool
    validation_fraction: float
    n_iter_no_change: int
    dtype: np.dtype[Any]
    verbose: bool


#: Inputs and targets for ``nnfunc.train``.
_Data: TypeAlias = tuple[nf.Array, npt.NDArray[Any]]


class _Targets(NamedTuple):
    """``y`` as ``nnfunc.train`` takes it, the output layer, and the classes."""

    Y: npt.NDArray[Any]
    k: int
    output: nf.OutputName
    classes: npt.NDArray[Any] | None


class _MLP(BaseEstimator):
    """The parameters and the training loop of both estimators.

    The parameters and the fitted attributes are listed in the module
    docstring (``help(nnfunc.estimators)``).
    """

    _y_numeric: ClassVar[bool] = False
    _stratify: ClassVar[bool] = False

    params_: nf.Frozen[nf.Array]
    opt_state_: nf.OptState
    loss_curve_: list[float]
    validation_loss_curve_: list[float] | None
    n_iter_: int
    n_outputs_: int
    n_features_in_: int
    classes_: npt.NDArray[Any]  # the classifier's
    _seed: int  # of the shuffling, kept for partial_fit

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: nf.ActivationName = "relu",
        *,
        solver: Solver = "adam",
        alpha: float = 1e-4,
        batch_size: int | Literal["auto"] = "auto",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        tol: float = 1e-4,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        random_state: int | np.random.RandomState | None = None,
        init: nf.InitName = "he",
        dtype: nf.FloatDType = np.float64,
        verbose: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.init = init
        self.dtype = dtype
        self.verbose = verbose

    def _targets(
        self, y: npt.NDArray[Any], first: bool, classes: npt.ArrayLike | None
    ) -> _Targets:
        raise NotImplementedError  # pragma: no cover - each estimator has its own

    def _options(self) -> _Options:
        solver = check_name(self.solver, "solver", tuple(_SOLVERS))
        lr = check_positive(self.learning_rate_init, "learning_rate_init")
        optimizer, l2 = _SOLVERS[solver](lr, check_float(self.alpha, "alpha"))
        fraction = check_positive(self.validation_fraction, "validation_fraction")
        return _Options(
            hidden=_widths(self.hidden_layer_sizes),
            activation=check_name(self.activation, "activation", nf.ACTIVATION_NAMES),
            optimizer=optimizer,
            l2=l2,
            batch_size=(
                None
                if isinstance(self.batch_size, str) and self.batch_size == "auto"
                else check_int(self.batch_size, "batch_size (or 'auto')", lo=1)
            ),
            max_iter=check_int(self.max_iter, "max_iter", lo=1),
            tol=check_float(self.tol, "tol"),
            early_stopping=check_flag(self.early_stopping, "early_stopping"),
            validation_fraction=check_float(
                fraction, "validation_fraction", hi=1.0, hi_open=True
            ),
            n_iter_no_change=check_int(self.n_iter_no_change, "n_iter_no_change", lo=1),
            dtype=check_float_dtype(self.dtype),
            verbose=check_flag(self.verbose, "verbose"),
        )

    def _fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, incremental: bool,
        classes: npt.ArrayLike | None = None,
    ) -> Self:  # fmt: skip
        """``fit`` (``incremental=False``) or one epoch of ``partial_fit``."""
        o = self._options()
        first = not (incremental and hasattr(self, "params_"))
        dtype = o.dtype if first else self.params_["W1"].dtype
        x: nf.Array
        y_: npt.NDArray[Any]
        x, y_ = validate_data(
            self, X, y, reset=first, multi_output=True, y_numeric=self._y_numeric,
            dtype=dtype,
        )  # fmt: skip
        if y_.ndim == 2 and y_.shape[1] == 1:  # a column: warns, as scikit-learn
            y_ = column_or_1d(y_, warn=True)
        t = self._targets(y_, first, classes)
        data: _Data = (x, t.Y)
        val: _Data | None = None
        curve: list[float] = []
        if first:  # a new network, and new seeds for it
            rng = check_random_state(self.random_state)
            init_seed, seed, split_seed = map(int, rng.randint(_SEED_BOUND, size=3))
            params = nf.init_params(
                [x.shape[1], *o.hidden, t.k], hidden=o.activation, output=t.output,
                seed=init_seed, init=self.init, dtype=dtype,
            )  # fmt: skip
            state: nf.OptState | None = None
            if o.early_stopping and not incremental:
                fraction = o.validation_fraction
                data, val = _holdout(data, fraction, split_seed, self._stratify)
        else:  # partial_fit goes on from where the last call stopped
            params, state, seed = self.params_, self.opt_state_, self._seed
            curve = list(self.loss_curve_)
        run = _Run(o, data, val, seed, type(self).__name__)
        n = 1 if incremental else o.max_iter
        params, state, converged = run.epochs(params, state, n, curve, incremental)
        if t.classes is not None:
            self.classes_ = t.classes
        self.params_, self.opt_state_, self._seed = params, state, seed
        self.loss_curve_, self.n_iter_, self.n_outputs_ = curve, len(curve), t.k
        if first:
            self.validation_loss_curve_ = run.val_curve if val is not None else None
        if not (incremental or converged):
            watched = "validation" if val is not None else "training"
            warnings.warn(
                f"{type(self).__name__} ran max_iter={o.max_iter} epochs and the "
                f"{watched} loss was still dropping by more than tol={o.tol} within "
                f"n_iter_no_change={o.n_iter_no_change} epochs; raise max_iter or tol",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _x(self, X: npt.ArrayLike) -> nf.Array:
        """``X`` checked against the fitted network, in its dtype."""
        check_is_fitted(self)
        x: nf.Array = validate_data(
            self, X, reset=False, dtype=self.params_["W1"].dtype
        )
        return x


class _Run:
    """Epochs of ``nnfunc.train`` on one training set, with a stopping rule.

    Each call to ``train`` runs one epoch and resumes from the state of the
    last: ``train`` makes shuffling a function of the seed and the epoch
    count, so this is the same run as ``train(..., epochs=n)`` in one call,
    with a look at the loss after every epoch.
    """

    def __init__(
        self, o: _Options, data: _Data, val: _Data | None, seed: int, name: str
    ) -> None:
        self.o, self.data, self.val, self.seed, self.name = o, data, val, seed, name
        self.val_curve: list[float] = []

    def epochs(
        self,
        params: nf.Frozen[nf.Array],
        state: nf.OptState | None,
        n: int,
        curve: list[float],
        incremental: bool,
    ) -> tuple[nf.Frozen[nf.Array], nf.OptState, bool]:
        """Run at most ``n`` epochs, appending to ``curve``; True if converged.

        The watched loss (validation if there is a validation set, else
        training) converged once it has not dropped below its best by
        ``tol`` for ``n_iter_no_change`` epochs in a row. With a validation
        set, the params and state of its best epoch are returned.
        """
        o, (x, Y) = self.o, self.data
        size = min(200, len(x)) if o.batch_size is None else o.batch_size
        best, best_loss, stale, converged = None, math.inf, 0, False
        for _ in range(n):
            params, state, (record,) = nf.train(
                params, x, Y, optimizer=o.optimizer, epochs=1, batch_size=size,
                seed=self.seed, l2=o.l2, validation=self.val, opt_state=state,
                verbose=False,
            )  # fmt: skip
            curve.append(record.train_loss)
            loss = record.train_loss
            if record.val_loss is not None:
                loss = record.val_loss
                self.val_curve.append(loss)
            if o.verbose:
                print(_line(self.name, record, len(curve)), file=sys.stderr)
            if incremental:
                continue
            stale = stale + 1 if loss > best_loss - o.tol else 0
            if loss < best_loss:
                best, best_loss = (params, state), loss
            if stale >= o.n_iter_no_change:
                converged = True
                break
        if self.val is not None and best is not None:
            params, state = best
        assert state is not None  # n >= 1 epochs ran
        return params, state, converged


def _line(name: str, r: nf.EpochRecord, n: int) -> str:
    val = "" if r.val_loss is None else f"  val_loss {r.val_loss:.6f}"
    return f"{name} epoch {n}  loss {r.train_loss:.6f}{val}  {r.seconds:.2f}s"


def _widths(sizes: object) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of widths ``>= 1``."""
    if isinstance(sizes, numbers.Integral):
        sizes = (sizes,)
    if isinstance(sizes, np.ndarray):
        sizes = sizes.tolist()
    if isinstance(sizes, str) or not isinstance(sizes, Sequence):
        raise TypeError(
            f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}"
        )
    return tuple(
        check_int(n, f"hidden_layer_sizes[{i}]", lo=1) for i, n in enumerate(sizes)
    )


def _holdout(
    data: _Data, fraction: float, seed: int, stratify: bool
) -> tuple[_Data, _Data]:
    """Hold out early stopping's validation set (``nnfunc.datasets.split``)."""
    x, Y = data
    train, val = split(
        x, Y, (1.0 - fraction, fraction), seed=seed, stratify=stratify and Y.ndim == 1
    )
    if len(train[0]) == 0 or len(val[0]) == 0:
        raise ValueError(
            f"early_stopping holds out validation_fraction={fraction} of the "
            f"{len(x)} samples, which leaves {len(val[0])} for validation and "
            f"{len(train[0])} for training; change validation_fraction, pass more "
            "samples, or set early_stopping=False"
        )
    return train, val


class MLPClassifier(ClassifierMixin, _MLP):
    """A multi-layer perceptron classifier trained by ``nnfunc.train``.

    Parameters and fitted attributes: see the module docstring.
    The output layer follows the labels: two classes (strings, ``±1``,
    ``1..k``, anything sortable) give one sigmoid unit (binary
    cross-entropy; ``predict_proba`` has two columns), more give ``k``
    softmax units, and a 0/1 label-indicator matrix ``(n, k)`` (multilabel)
    gives ``k`` sigmoid units (``predict`` returns an indicator matrix).
    ``partial_fit`` runs one epoch; its first call needs ``classes``.
    """

    _stratify: ClassVar[bool] = True

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> Self:
        """Train a new network on ``(X, y)``; see the class docstring."""
        return self._fit(X, y, incremental=False)

    def partial_fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, classes: npt.ArrayLike | None = None
    ) -> Self:
        """One more epoch on ``(X, y)``; the first call needs ``classes``.

        ``classes`` lists every label ``y`` may hold over all calls (for
        multilabel targets, one per column). The first call starts a network
        as ``fit`` would (``early_stopping`` is not used).
        """
        if classes is None and not hasattr(self, "params_"):
            raise ValueError(
                "classes must be passed on the first call to partial_fit: every "
                "label y may hold, e.g. classes=np.unique(y_all)"
            )
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X: npt.ArrayLike) -> nf.Array:
        """Class probabilities, one column per class of ``classes_``.

        Two classes: ``[1 - p, p]`` from the sigmoid unit; more: the softmax
        rows; multilabel: each label's sigmoid, ``(n, k)``.
        """
        x = self._x(X)  # first: checks that there is a fitted network
        a = nf.forward(self.params_, x)
        if self.n_outputs_ == 1:
            two: nf.Array = np.hstack([1.0 - a, a])
            return two
        return a

    def predict(self, X: npt.ArrayLike) -> npt.NDArray[Any]:
        """The most probable class of each row (an indicator row if multilabel).

        Read off ``predict_proba`` (not ``nnfunc.predict``'s ``z > 0``), so
        that the two always agree, even for a logit within rounding of 0.
        """
        p = self.predict_proba(X)
        if self._multilabel():
            indicator: npt.NDArray[np.int64] = (p > 0.5).astype(np.int64)
            return indicator
        labels: npt.NDArray[Any] = self.classes_[np.argmax(p, axis=1)]
        return labels

    def _multilabel(self) -> bool:
        return self.params_.output == "sigmoid" and self.n_outputs_ > 1

    def _targets(
        self, y: npt.NDArray[Any], first: bool, classes: npt.ArrayLike | None
    ) -> _Targets:
        check_classification_targets(y)
        if type_of_target(y) == "multiclass-multioutput":
            raise ValueError(
                "MLPClassifier takes class labels of shape (n,) or a 0/1 "
                f"label-indicator matrix (n, k), got y of shape {y.shape} with "
                "other values"
            )
        multilabel = y.ndim == 2
        if first:
            labels = unique_labels(y if classes is None else classes)
        else:
            labels = self.classes_
            same = classes is None or np.array_equal(unique_labels(classes), labels)
            if not same:
                raise ValueError(
                    f"classes={np.asarray(classes).tolist()} differs from the "
                    f"classes_ of the first call, {labels.tolist()}"
                )
            if multilabel != self._multilabel():
                was = "multilabel" if self._multilabel() else "single-label"
                raise ValueError(f"y must be {was}, as in the first call")
        if multilabel:
            if len(labels) != y.shape[1]:
                raise ValueError(
                    f"classes has {len(labels)} labels but y has {y.shape[1]} columns"
                )
            return _Targets(y, y.shape[1], "sigmoid", labels)
        if len(labels) < 2:
            raise ValueError(
                "MLPClassifier needs samples of at least 2 classes, but the data "
                f"contains only one class: {labels.tolist()}"
            )
        unseen = ~np.isin(y, labels)
        if unseen.any():
            raise ValueError(
                f"y has labels that are not in classes {labels.tolist()}: "
                f"{np.unique(y[unseen]).tolist()}"
            )
        codes = np.searchsorted(labels, y)  # the index of each label in classes_
        if len(labels) == 2:
            return _Targets(codes, 1, "sigmoid", labels)
        return _Targets(codes, len(labels), "softmax", labels)

    def __sklearn_tags__(self) -> Tags:
        """Tags: multilabel indicator targets are supported."""
        tags = super().__sklearn_tags__()
        if tags.classifier_tags is not None:  # set by ClassifierMixin
            tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _MLP):
    """A multi-layer perceptron regressor trained by ``nnfunc.train``.

    Parameters and fitted attributes: see the module docstring. The output layer
    is ``identity`` with half squared error, one unit per target: ``y`` of
    shape ``(n,)`` gives predictions ``(n,)``, ``(n, k)`` gives ``(n, k)``
    (a single column ``(n, 1)`` is read as ``(n,)``, with scikit-learn's
    ``DataConversionWarning``). ``partial_fit`` runs one epoch.
    """

    _y_numeric: ClassVar[bool] = True

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> Self:
        """Train a new network on ``(X, y)``; see the class docstring."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> Self:
        """One more epoch on ``(X, y)`` (the first call starts a network)."""
        return self._fit(X, y, incremental=True)

    def predict(self, X: npt.ArrayLike) -> nf.Array:
        """The network's outputs, ``(n,)`` for one target, else ``(n, k)``."""
        x = self._x(X)  # first: checks that there is a fitted network
        return nf.predict(self.params_, x)

    def _targets(
        self, y: npt.NDArray[Any], first: bool, classes: npt.ArrayLike | None
    ) -> _Targets:
        k = 1 if y.ndim == 1 else y.shape[1]
        if not first and k != self.n_outputs_:
            raise ValueError(
                f"y has {k} targets but the network has {self.n_outputs_} outputs"
            )
        return _Targets(y, k, "identity", None)

    def __sklearn_tags__(self) -> Tags:
        """Tags: several targets at once are supported."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
