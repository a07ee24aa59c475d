"""Pictures of a network and its training, drawn with matplotlib.

The core of nnfunc needs NumPy only; this module is the one place that
draws, and the one that needs matplotlib (``pip install 'nnfunc[plot]'``).
Each function draws on the ``ax`` it is given, or on a new ``Figure`` when
it is given none, and returns the Figure. It never touches ``pyplot``: no
window opens, no global figure list grows, and it runs headless (on a
server, under pytest) as it runs on a laptop. Show a figure in a notebook by
leaving it as a cell's value; save one with ``save_figure``, which writes
the same bytes for the same picture every time.

- ``plot_history``: loss and accuracy per epoch of a ``train`` run, best
  epoch marked.
- ``plot_decision_boundary``: what a network on 2-D inputs predicts over the
  plane, with the data on top.
- ``plot_confusion_matrix``: the counts of ``nnfunc.confusion_matrix``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nnfunc._checks import as_array, check_int
from nnfunc._types import Params
from nnfunc.forward import forward
from nnfunc.training import EpochRecord

try:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
except ImportError as e:  # the core does not need it; say how to get it
    raise ImportError(
        "nnfunc.plotting draws with matplotlib, which is not installed: "
        "pip install 'nnfunc[plot]'",
        name=e.name,
    ) from e

__all__ = [
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_history",
    "save_figure",
]

#: The colours of classes 0 and 1 (blue and red, as the ``RdBu_r`` map's ends).
_BINARY = ("tab:blue", "tab:red")

#: Metadata that would change from run to run or version to version, removed.
_NO_STAMPS: dict[str, dict[str, Any]] = {
    ".png": {"Software": None},
    ".pdf": {"Creator": None, "Producer": None, "CreationDate": None},
    ".svg": {"Creator": None, "Date": None},
}


def _figure(ax: Axes) -> Figure:
    """The top-level Figure that ``ax`` is drawn in."""
    fig = ax.figure
    return fig if isinstance(fig, Figure) else fig.figure


def _best(history: Sequence[EpochRecord]) -> EpochRecord | None:
    """The record with the lowest validation loss (None without validation)."""
    scored = [r for r in history if r.val_loss is not None]
    return min(scored, key=lambda r: r.val_loss or 0.0) if scored else None


def plot_history(
    history: Sequence[EpochRecord], ax: Axes | tuple[Axes, Axes] | None = None
) -> Figure:
    """Loss and validation accuracy per epoch of a ``train`` run, best epoch marked.

    The loss panel has the training loss (the objective, with the L2 penalty
    and dropout) and the validation loss, on a log scale when every loss is
    positive; the accuracy panel has the validation accuracy in percent.
    A dotted line marks the best epoch, the one with the lowest validation
    loss (the one ``train(..., patience=...)`` restores).

    Args:
        history: ``TrainResult.history``, oldest first.
        ax: None for a new figure (a loss and an accuracy panel, or only
            the loss without validation accuracy); one ``Axes`` (accuracy on
            a second y-axis at its right); or a pair ``(loss_ax, acc_ax)``.

    Returns:
        The Figure drawn on.

    Raises:
        ValueError: ``history`` is empty.

    Examples:
        >>> import io
        >>> import nnfunc as nf
        >>> from nnfunc.plotting import plot_history
        >>> val = [0.9, 0.5, 0.4, 0.45, 0.5]
        >>> history = [nf.EpochRecord(e, 1 / e, v, 1 - v / 2, 0.01, 0.1)
        ...            for e, v in enumerate(val, start=1)]
        >>> fig = plot_history(history)
        >>> [a.get_title() for a in fig.axes]
        ['Loss', 'Validation accuracy']
        >>> fig.axes[1].get_legend_handles_labels()[1]
        ['validation accuracy', 'best epoch 3: 80.0%']
        >>> fig.savefig(io.BytesIO(), format="png")
    """
    records = list(history)
    if not records:
        raise ValueError("history is empty: plot_history needs at least one epoch")
    epochs = [r.epoch for r in records]
    best = _best(records)
    has_acc = any(r.val_accuracy is not None for r in records)
    loss_ax: Axes
    acc_ax: Axes | None
    if ax is None:
        fig = Figure(figsize=(8.0 if has_acc else 4.5, 3.2), layout="constrained")
        loss_ax, acc_ax = fig.subplots(1, 2) if has_acc else (fig.subplots(), None)
    elif isinstance(ax, Axes):  # one panel: accuracy on a second y-axis
        loss_ax, acc_ax = ax, (ax.twinx() if has_acc else None)
    else:
        loss_ax, acc_ax = ax
    twin = isinstance(ax, Axes)

    train = [r.train_loss for r in records]
    val = [np.nan if r.val_loss is None else r.val_loss for r in records]
    loss_ax.plot(epochs, train, color="C0", label="training")
    if best is not None:
        loss_ax.plot(epochs, val, color="C1", label="validation")
        label = f"best epoch ({best.epoch})"
        loss_ax.axvline(best.epoch, color="grey", ls=":", label=label)
    if min(v for v in train + val if np.isfinite(v)) > 0:
        loss_ax.set_yscale("log")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    loss_ax.grid(alpha=0.3)
    handles, labels = loss_ax.get_legend_handles_labels()
    if acc_ax is not None:
        accs = [r.val_accuracy for r in records]
        acc = [np.nan if a is None else 100 * a for a in accs]
        acc_ax.plot(epochs, acc, color="C2", label="validation accuracy")
        acc_ax.set_ylabel("validation accuracy (%)")
        if best is not None and best.val_accuracy is not None:
            mark = f"best epoch {best.epoch}: {best.val_accuracy:.1%}"
            acc_ax.plot([best.epoch], [100 * best.val_accuracy], "o", color="C2",
                        label=mark)  # fmt: skip
        if twin:
            more = acc_ax.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
            loss_ax.set_title("Loss and validation accuracy")
        else:
            if best is not None:
                acc_ax.axvline(best.epoch, color="grey", ls=":")
            acc_ax.set(xlabel="epoch", title="Validation accuracy")
            acc_ax.grid(alpha=0.3)
            acc_ax.legend(loc="lower right", fontsize=8)
    loss_ax.legend(handles, labels, fontsize=8)
    return _figure(loss_ax)


def plot_decision_boundary(
    params: Params,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    ax: Axes | None = None,
    *,
    extent: tuple[float, float, float, float] | None = None,
    resolution: int = 200,
    legend: bool = True,
) -> Figure:
    """What a network on 2-D inputs predicts over the plane, with the data on top.

    The network runs on a ``resolution x resolution`` grid over ``extent``
    as its params record it (``nnfunc.forward``). With one output unit (a
    sigmoid: ``P(class 1)``) the plane is shaded by that probability in
    tenths, from blue (0) to red (1), and the boundary ``P = 0.5`` is a
    black line; with ``k`` softmax outputs each region takes the colour of
    the class predicted there. The points are coloured by their label.

    Args:
        params: a network with 2 inputs (its record says how to run it).
        x: the points to show, ``(n, 2)``.
        y: their labels, ``(n,)`` (or one-hot rows, ``(n, k)``).
        ax: where to draw; None for a new square figure.
        extent: ``(x1_min, x1_max, x2_min, x2_max)``; by default the
            points' range with a tenth of it as margin.
        resolution: grid points per axis (an int ``>= 2``).
        legend: add a legend of the classes and the boundary.

    Returns:
        The Figure drawn on.

    Raises:
        ValueError: ``x`` does not have 2 columns, or ``y`` does not have
            one label per row of ``x``.

    Examples:
        >>> import io
        >>> import nnfunc as nf
        >>> from nnfunc.plotting import plot_decision_boundary
        >>> x, y = nf.datasets.xor()
        >>> r = nf.train(nf.init_params([2, 4, 1], hidden="tanh"), x, y,
        ...     optimizer=nf.sgd(0.5), epochs=2000, batch_size=4, verbose=False)
        >>> fig = plot_decision_boundary(r.params, x, y, resolution=50)
        >>> [float(v) for v in fig.axes[0].get_xlim()]
        [-0.1, 1.1]
        >>> fig.savefig(io.BytesIO(), format="png")
    """
    xs = as_array(x, "x")
    if xs.ndim != 2 or xs.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary draws points in the plane: x must have shape "
            f"(n, 2), got {xs.shape}"
        )
    labels = _labels(as_array(y, "y"), xs.shape[0])
    resolution = check_int(resolution, "resolution", lo=2)
    if extent is None:
        lo, hi = xs.min(axis=0).astype(float), xs.max(axis=0).astype(float)
        pad = np.where(hi > lo, (hi - lo) / 10, 0.5)
        extent = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    if ax is None:
        ax = Figure(figsize=(4.5, 4.5), layout="constrained").subplots()
    g1 = np.linspace(extent[0], extent[1], resolution)
    g2 = np.linspace(extent[2], extent[3], resolution)
    gx, gy = np.meshgrid(g1, g2)
    a = forward(params, np.stack([gx.ravel(), gy.ravel()], axis=1))
    k = a.shape[1]
    handles: list[Any] = []  # the classes' points, then the boundary
    boundary: list[Any] = []
    if k == 1:  # P(class 1): shaded in tenths, the 0.5 level drawn
        p = a[:, 0].reshape(gx.shape)
        shade = np.clip(p, 0.0, 1.0)  # an identity output may leave [0, 1]
        levels = np.linspace(0.0, 1.0, 11)
        ax.contourf(gx, gy, shade, levels=levels, cmap="RdBu_r", alpha=0.35)
        ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.2)
        boundary.append(Line2D([], [], color="k", lw=1.2, label="boundary (P = 0.5)"))
        colors = list(_BINARY)
    else:  # the predicted class: argmax of the softmax
        predicted = a.argmax(axis=1).reshape(gx.shape)
        colors = [f"C{c % 10}" for c in range(k)]
        ax.contourf(gx, gy, predicted, levels=np.arange(k + 1) - 0.5, colors=colors,
                    alpha=0.25)  # fmt: skip
    for c in np.unique(labels):
        xc = xs[labels == c]
        color = colors[int(c) % len(colors)]
        handles.append(
            ax.scatter(xc[:, 0], xc[:, 1], s=10, color=color, label=f"class {c}")
        )
    ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="$x_1$", ylabel="$x_2$")
    if legend:
        ax.legend(handles=handles + boundary, loc="lower right", framealpha=0.9)
    return _figure(ax)


def _labels(y: npt.NDArray[Any], n: int) -> npt.NDArray[np.int64]:
    """Integer class labels, one per point, from labels or one-hot rows."""
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y must hold one label per point ({n}), got shape {y.shape}")
    return y.astype(np.int64)


def plot_confusion_matrix(
    cm: npt.ArrayLike, labels: Sequence[str] | None = None, ax: Axes | None = None
) -> Figure:
    """The counts of ``nnfunc.confusion_matrix``: rows true, columns predicted.

    Each cell shows its count, on a blue shade that darkens with it; the
    title gives the accuracy, the diagonal's share of the total.

    Args:
        cm: a ``(k, k)`` matrix of counts (``nnfunc.confusion_matrix``).
        labels: the ``k`` class names; by default ``0 .. k-1``.
        ax: where to draw; None for a new figure.

    Returns:
        The Figure drawn on.

    Raises:
        ValueError: ``cm`` is not square, or ``labels`` does not name its
            ``k`` classes.

    Examples:
        >>> import io
        >>> import nnfunc as nf
        >>> from nnfunc.plotting import plot_confusion_matrix
        >>> cm = nf.confusion_matrix([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 2])
        >>> fig = plot_confusion_matrix(cm, labels=["cat", "dog", "owl"])
        >>> fig.axes[0].get_title()
        '6 samples, accuracy 83.3%'
        >>> fig.savefig(io.BytesIO(), format="png")
    """
    c = as_array(cm, "cm")
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise ValueError(f"cm must be a square (k, k) matrix of counts, got {c.shape}")
    k = c.shape[0]
    names = [str(i) for i in range(k)] if labels is None else [str(s) for s in labels]
    if len(names) != k:
        raise ValueError(f"labels must name the {k} classes, got {len(names)}")
    if ax is None:
        side = 1.2 + 0.45 * k
        ax = Figure(figsize=(side, side), layout="constrained").subplots()
    ax.imshow(c, cmap="Blues", vmin=0)
    top = float(c.max())
    for (i, j), count in np.ndenumerate(c):
        dark = top > 0 and count > top / 2
        ax.text(j, i, f"{count:g}", ha="center", va="center", fontsize=8,
                color="white" if dark else "black")  # fmt: skip
    ticks = np.arange(k)
    ax.set_xticks(ticks, names)
    ax.set_yticks(ticks, names)
    ax.set(xlabel="predicted", ylabel="true")
    total = float(c.sum())
    right = float(np.trace(c)) / total if total else 0.0
    ax.set_title(f"{total:g} samples, accuracy {right:.1%}")
    return _figure(ax)


def save_figure(fig: Figure, path: str | Path, *, dpi: float = 100) -> Path:
    """Save ``fig`` at ``path``, the same bytes for the same picture every time.

    ``Figure.savefig`` with the metadata that would change between runs or
    matplotlib versions removed (PNG's ``Software``; PDF's and SVG's dates
    and creator), so that regenerated pictures only differ when they do.

    Returns:
        ``path`` as a ``Path``.

    Examples:
        >>> import tempfile
        >>> fig = Figure(figsize=(1, 1))
        >>> p = save_figure(fig, Path(tempfile.mkdtemp()) / "empty.png", dpi=50)
        >>> p.read_bytes() == save_figure(fig, p, dpi=50).read_bytes()
        True
    """
    path = Path(path)
    metadata = _NO_STAMPS.get(path.suffix.lower())
    fig.savefig(path, dpi=dpi, metadata=metadata)
    return path
