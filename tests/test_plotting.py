"""nnfunc.plotting: each picture draws what it says, headless; the core needs none."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from matplotlib.collections import PathCollection
from matplotlib.contour import QuadContourSet
from matplotlib.figure import Figure

import nnfunc as nf
from nnfunc.plotting import (
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_history,
    save_figure,
)

VAL = [0.9, 0.5, 0.4, 0.45, 0.5, 0.6]


def history(val: list[float | None] | None = None) -> list[nf.EpochRecord]:
    losses: list[float | None] = list(VAL) if val is None else val
    return [
        nf.EpochRecord(e, 1.0 / e, v, None if v is None else 1 - v / 2, 0.01, 0.1)
        for e, v in enumerate(losses, start=1)
    ]


def vlines(fig: Figure) -> list[float]:
    """The x of every vertical line (axvline) in the figure."""
    xs = []
    for ax in fig.axes:
        for ln in ax.get_lines():
            x = np.asarray(ln.get_xdata(), dtype=float)
            if x.size == 2 and x[0] == x[1]:
                xs.append(float(x[0]))
    return xs


# ------------------------------------------------------------ plot_history


def test_history_marks_the_lowest_validation_loss() -> None:
    fig = plot_history(history())
    assert isinstance(fig, Figure)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_yscale() == "log"
    labels = loss_ax.get_legend_handles_labels()[1]
    assert labels == ["training", "validation", "best epoch (3)"]
    assert vlines(fig) == [3.0, 3.0]
    assert acc_ax.get_title() == "Validation accuracy"
    assert acc_ax.get_legend_handles_labels()[1][-1] == "best epoch 3: 80.0%"
    acc = acc_ax.get_lines()[0].get_ydata()
    assert np.allclose(np.asarray(acc, dtype=float), [100 * (1 - v / 2) for v in VAL])


def test_history_without_validation_is_one_panel() -> None:
    fig = plot_history(history([None, None, None]))
    assert len(fig.axes) == 1
    assert fig.axes[0].get_legend_handles_labels()[1] == ["training"]
    assert vlines(fig) == []


def test_history_on_given_axes() -> None:
    fig = Figure()
    ax = fig.subplots()
    assert plot_history(history(), ax) is fig
    assert len(fig.axes) == 2  # accuracy on a twin y-axis
    legend = ax.get_legend()
    assert legend is not None
    assert "validation accuracy" in [t.get_text() for t in legend.get_texts()]
    fig2 = Figure()
    a, b = fig2.subplots(2, 1)
    assert plot_history(history(), (a, b)) is fig2
    assert b.get_title() == "Validation accuracy"


def test_history_of_a_real_run_with_early_stopping() -> None:
    x, y = nf.datasets.spirals(80, seed=0)
    r = nf.train(
        nf.init_params([2, 8, 1], seed=0), x, y, optimizer=nf.adam(0.05), epochs=40,
        validation=(x, y), patience=3, verbose=False,
    )  # fmt: skip
    best = min(r.history, key=lambda h: h.val_loss or np.inf)
    assert float(best.epoch) in vlines(plot_history(r.history))


def test_history_empty_is_an_error() -> None:
    with pytest.raises(ValueError, match="history is empty"):
        plot_history([])


# ------------------------------------------------------------ decision boundary


def test_boundary_of_a_sigmoid_net() -> None:
    x, y = nf.datasets.xor()
    params = nf.init_params([2, 4, 1], hidden="tanh", seed=0)
    fig = plot_decision_boundary(params, x, y, resolution=20)
    (ax,) = fig.axes
    contours = [c for c in ax.collections if isinstance(c, QuadContourSet)]
    assert len(contours) == 2  # the shading and the 0.5 line
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [np.shape(p.get_offsets())[0] for p in points] == [2, 2]
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["class 0", "class 1", "boundary (P = 0.5)"]
    assert ax.get_xlim() == pytest.approx((-0.1, 1.1))


def test_boundary_of_a_softmax_net_with_one_hot_labels() -> None:
    x, _ = nf.datasets.spirals(90, seed=0)
    params = nf.init_params([2, 8, 3], output="softmax", seed=0)
    labels = (np.arange(90) % 3).astype(np.int64)
    onehot = np.eye(3)[labels]
    fig = Figure()
    ax = fig.subplots()
    extent = (-2.0, 2.0, -1.0, 1.0)
    drawn = plot_decision_boundary(params, x, onehot, ax, extent=extent, legend=False)
    assert drawn is fig
    assert ax.get_legend() is None
    assert ax.get_ylim() == pytest.approx((-1.0, 1.0))
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [np.shape(p.get_offsets())[0] for p in points] == [30, 30, 30]


@pytest.mark.parametrize(
    ("x", "y", "resolution", "match"),
    [
        (np.zeros((4, 3)), np.zeros(4), 9, r"shape \(n, 2\), got \(4, 3\)"),
        (np.zeros((4, 2)), np.zeros(3), 9, r"one label per point \(4\)"),
        (np.zeros((4, 2)), np.zeros(4), 1, "resolution must be >= 2"),
    ],
)
def test_boundary_refuses_what_it_cannot_draw(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    resolution: int,
    match: str,
) -> None:
    params = nf.init_params([2, 2, 1], seed=0)
    with pytest.raises(ValueError, match=match):
        plot_decision_boundary(params, x, y, resolution=resolution)


# ------------------------------------------------------------ confusion matrix


def test_confusion_matrix_shows_every_count() -> None:
    cm = nf.confusion_matrix([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 2])
    fig = plot_confusion_matrix(cm, labels=["cat", "dog", "owl"])
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == list("100011003")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "owl"]
    assert ax.get_xlabel() == "predicted"
    assert ax.get_ylabel() == "true"
    assert ax.get_title() == "6 samples, accuracy 83.3%"


@pytest.mark.parametrize(
    ("cm", "labels", "match"),
    [
        (np.zeros((2, 3)), None, "square"),
        (np.zeros((2, 2)), ["a"], "name the 2 classes"),
    ],
)
def test_confusion_matrix_refuses_a_bad_matrix(
    cm: npt.NDArray[np.float64],
    labels: list[str] | None,
    match: str,
) -> None:
    with pytest.raises(ValueError, match=match):
        plot_confusion_matrix(cm, labels)


# ------------------------------------------------------------ saving, the extra


def test_save_figure_writes_the_same_bytes_without_stamps(tmp_path: Path) -> None:
    fig = plot_history(history())
    a = save_figure(fig, tmp_path / "a.png", dpi=40).read_bytes()
    b = save_figure(plot_history(history()), tmp_path / "b.png", dpi=40).read_bytes()
    assert a == b
    assert a[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Software" not in a
    assert b"matplotlib" not in a.lower()
    svg = save_figure(fig, tmp_path / "a.svg").read_bytes()
    assert b"<dc:date>" not in svg


def test_without_matplotlib_the_import_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "nnfunc.plotting")
    with pytest.raises(ImportError, match=r"pip install 'nnfunc\[plot\]'"):
        importlib.import_module("nnfunc.plotting")


def test_the_core_never_imports_matplotlib() -> None:
    code = (
        "import pkgutil, sys, importlib, nnfunc\n"
        "for m in pkgutil.iter_modules(nnfunc.__path__):\n"
        "    if m.name != 'plotting':\n"
        "        importlib.import_module('nnfunc.' + m.name)\n"
        "print(sorted(n for n in sys.modules if n.startswith('matplotlib')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
